package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine/simtest"

	"github.com/infersweep/infersweep/evals"
)

const (
	evalData  = "../../evals/testdata/arithmetic-200.jsonl"
	evalShots = "../../evals/testdata/arithmetic-fewshot.jsonl"
)

func TestEvalRejectsBadInputWithExit2(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"question":"Q?","answer":"#### 1"}`+"\n"+`{"question":"Q?"}`+"\n"), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no data", []string{"eval", "--model", "m"}, "infersweep: --data is required: a JSONL file of the task's documents\n"},
		{"unknown task", []string{"eval", "--model", "m", "--task", "mmlu", "--data", evalData}, "infersweep: --task \"mmlu\": want one of gsm8k, gpqa\n"},
		{"no few-shot set", []string{"eval", "--model", "m", "--data", evalData}, "infersweep: --fewshot-data is required: gsm8k is 5-shot (or pass --num-fewshot 0)\n"},
		{"malformed line", []string{"eval", "--model", "m", "--data", bad, "--num-fewshot", "0"}, "infersweep: " + bad + ":2: \"answer\": missing\n"},
		{"too few shots", []string{"eval", "--model", "m", "--data", evalData, "--fewshot-data", evalShots, "--num-fewshot", "8"}, "infersweep: --fewshot-data " + evalShots + " has 5 documents, gsm8k needs 8\n"},
		{"unknown api", []string{"eval", "--model", "m", "--api", "responses", "--data", evalData}, "infersweep: --api \"responses\": want one of chat, completions\n"},
		{"negative budget", []string{"eval", "--model", "m", "--max-tokens", "-1", "--data", evalData}, "infersweep: --max-tokens -1: want at least 1 (or 0, the API's default)\n"},
		{"context with completions", []string{"eval", "--model", "m", "--api", "completions", "--max-model-len", "8192", "--data", evalData},
			"infersweep: --max-model-len sets the chat budget; with --api completions pass --max-tokens\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, exitUsage, run(context.Background(), tt.args, &stdout, &stderr))
			require.Equal(t, tt.want, stderr.String())
		})
	}
}

func TestEvalGenerateWritesTheShippedSet(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"eval", "generate", "--n", "5", "--seed", "2"}, &stdout, &stderr), stderr.String())
	shipped, err := os.ReadFile(evalShots)
	require.NoError(t, err)
	require.Equal(t, string(shipped), stdout.String())
}

// The default is upstream's chat format with its budget for the
// server's listed context (the simulator's 8192: 4096 tokens); --api
// completions is stock lm-eval's prompt and 256 tokens. Both score the
// simulator's perfect answers fully.
func TestEvalAgainstTheSimulatedEngine(t *testing.T) {
	url := simtest.Start(t, 50, 1)
	tests := []struct {
		name      string
		args      []string
		api       evals.API
		format    string
		maxTokens int
		stop      []string
		path      string
	}{
		{"defaults", nil, evals.APIChat, "inferencex", 4096, []string{"</s>", "<|im_end|>"}, "/v1/chat/completions"},
		{"chat with a context", []string{"--max-model-len", "6144"}, evals.APIChat, "inferencex", 2048, []string{"</s>", "<|im_end|>"}, "/v1/chat/completions"},
		{"completions", []string{"--api", "completions"}, evals.APICompletions, "lm-eval", 256, []string{"Question:", "</s>", "<|im_end|>"}, "/v1/completions"},
		{"completions with a budget", []string{"--api", "completions", "--max-tokens", "300"}, evals.APICompletions, "lm-eval", 300, []string{"Question:", "</s>", "<|im_end|>"}, "/v1/completions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			samplesOut := filepath.Join(t.TempDir(), "samples.jsonl")
			var stdout, stderr bytes.Buffer
			args := append([]string{"eval", "--base-url", url, "--wait-ready", "5s", "--data", evalData,
				"--fewshot-data", evalShots, "--limit", "20", "--samples-out", samplesOut, "-o", "json"}, tt.args...)
			require.Equal(t, exitOK, run(context.Background(), args, &stdout, &stderr), stderr.String())
			var res evals.Result
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &res))
			require.Equal(t, "llama-3.1-8b", res.Model)
			require.Equal(t, []any{tt.api, tt.format, tt.maxTokens, tt.stop}, []any{res.API, res.PromptFormat, res.MaxTokens, res.Stop})
			require.Equal(t, 20, res.N)
			require.Equal(t, "12a7bcd43c480135075883b2c26e7d04307e81970c008253bdd6d1977caee24c", res.Data.SHA256)
			require.Equal(t, []float64{1, 1}, []float64{res.Scores[0].Value, res.Scores[1].Value})
			requireSamplesAllRight(t, samplesOut, 20)

			stderr.Reset()
			args = append([]string{"eval", "--base-url", url, "--model", "nope", "--data", evalData, "--fewshot-data", evalShots, "--limit", "1"}, tt.args...)
			require.Equal(t, exitFailure, run(context.Background(), args, &stdout, &stderr))
			require.Equal(t, "infersweep: document 0: POST "+url+tt.path+": 404 Not Found: "+
				`{"code":404,"message":"The model `+"`nope`"+` does not exist.","object":"error","param":null,"type":"NotFoundError"}`+"\n", stderr.String())
		})
	}
}

func requireSamplesAllRight(t *testing.T, path string, n int) {
	t.Helper()
	file, err := os.Open(path)
	require.NoError(t, err)
	defer file.Close()
	lines := 0
	for sc := bufio.NewScanner(file); sc.Scan(); lines++ {
		var s evals.Sample
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s))
		require.Equal(t, lines, s.ID)
		require.Equal(t, map[string]bool{"strict-match": true, "flexible-extract": true}, s.Correct)
	}
	require.Equal(t, n, lines)
}
