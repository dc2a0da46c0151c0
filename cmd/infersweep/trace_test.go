package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine/simtest"
)

// smallSynth fits the test engine's 8192-token context.
var smallSynth = []string{"trace", "synth", "--sessions", "6", "--turns", "5:0", "--system-prompt", "300", "--first-input", "200:0.3",
	"--turn-input", "100:0.5", "--output", "16:0", "--idle-gap-ms", "200:0.5", "--subagent-probability", "0.2", "--max-fan-out", "2",
	"--subagent-turns", "2:0", "--subagent-system-prompt", "100", "--max-context", "8000"}

func TestTraceSynthAndStats(t *testing.T) {
	code, first, stderr := runCLI(t, smallSynth...)
	require.Equal(t, exitOK, code, stderr)
	code, again, _ := runCLI(t, smallSynth...)
	require.Equal(t, exitOK, code)
	require.Equal(t, first, again, "the same flags and seed write the same trace")
	require.Equal(t, `{"session_id":"s0000","shared":[{"id":"system","tokens":300}],`, first[:len(`{"session_id":"s0000","shared":[{"id":"system","tokens":300}],`)])

	path := filepath.Join(t.TempDir(), "agent.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(first), 0o644))
	code, stdout, stderr := runCLI(t, "trace", "stats", path, "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var st struct {
		Format          string `json:"format"`
		Sessions        int    `json:"sessions"`
		TurnsPerSession struct {
			Count  int     `json:"count"`
			Median float64 `json:"median"`
		} `json:"turns_per_session"`
		OutputTokens struct {
			Median   float64 `json:"median"`
			LogSigma float64 `json:"log_sigma"`
		} `json:"output_tokens"`
		SharedPrefixTokens int64   `json:"shared_prefix_tokens"`
		EstPrefixHitRate   float64 `json:"est_prefix_cache_hit_rate"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &st))
	require.Equal(t, "infersweep", st.Format)
	require.Equal(t, 6, st.Sessions)
	require.InDelta(t, 5, st.TurnsPerSession.Median, 1e-9, "--turns 5:0 is a constant")
	require.InDelta(t, 16, st.OutputTokens.Median, 1e-9)
	require.InDelta(t, 0, st.OutputTokens.LogSigma, 1e-9)
	require.Positive(t, st.EstPrefixHitRate)

	code, text, _ := runCLI(t, "trace", "stats", path)
	require.Equal(t, exitOK, code)
	require.Contains(t, text, "format infersweep: 6 sessions")
	require.Contains(t, text, "output (tokens)            --output")
}

func TestTraceCommandErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"session_id":"s","input_tokens":5,"output_tokens":1}`+"\n"+`{"session_id":"s","input_tokens":5,"output_tokens":-2}`+"\n"), 0o644))
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"stats names file, line and field", []string{"trace", "stats", bad}, bad + ":2: output_tokens: -2: want at least 1 token"},
		{"stats needs a file", []string{"trace", "stats"}, "takes one trace file, got 0 arguments"},
		{"synth distribution", []string{"trace", "synth", "--turns", "many"}, `"many": want MEDIAN:SIGMA with MEDIAN > 0`},
		{"synth sessions", []string{"trace", "synth", "--sessions", "0"}, "sessions 0: want at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			require.Equal(t, exitUsage, code, stderr)
			require.Contains(t, stderr, tt.wantErr)
		})
	}
}

func TestLoadgenReplaysATrace(t *testing.T) {
	url := simtest.Start(t, 20, 0)
	_, trace, _ := runCLI(t, smallSynth...)
	dir := t.TempDir()
	path, resultFile := filepath.Join(dir, "agent.jsonl"), filepath.Join(dir, "result.json")
	require.NoError(t, os.WriteFile(path, []byte(trace), 0o644))

	code, stdout, stderr := runCLI(t, "loadgen", "--trace", path, "--base-url", url, "--wait-ready", "5s", "--sessions", "3", "--duration", "1500ms",
		"--time-scale", "20", "--gpus", "1", "--result-file", resultFile, "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "Agentic trace replay")
	var summary struct {
		Completed int `json:"completed"`
		Agentic   struct {
			TraceFormat        string  `json:"trace_format"`
			ConcurrentSessions int     `json:"concurrent_sessions"`
			WarmupRequests     int     `json:"warmup_requests"`
			EstPrefixHitRate   float64 `json:"est_prefix_cache_hit_rate"`
			InputPerGPU        float64 `json:"input_throughput_per_gpu"`
			ByTurn             []struct {
				Turns    string `json:"turns"`
				Requests int    `json:"requests"`
				TTFT     struct {
					Median *float64 `json:"median"`
				} `json:"ttft_ms"`
			} `json:"by_turn"`
		} `json:"agentic"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &summary))
	a := summary.Agentic
	require.Positive(t, summary.Completed)
	require.Equal(t, "infersweep", a.TraceFormat)
	require.Equal(t, 3, a.ConcurrentSessions)
	require.GreaterOrEqual(t, a.WarmupRequests, 3, "one warm-up per lane by default")
	require.Greater(t, a.EstPrefixHitRate, 0.3, "later turns resend the conversation")
	require.Positive(t, a.InputPerGPU)
	require.NotEmpty(t, a.ByTurn)
	require.NotNil(t, a.ByTurn[0].TTFT.Median)
	fromFile, err := os.ReadFile(resultFile)
	require.NoError(t, err)
	require.Contains(t, string(fromFile), `"by_turn"`)
}

func TestLoadgenTraceExitCodes(t *testing.T) {
	_, trace, _ := runCLI(t, smallSynth...)
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(trace), 0o644))
	mooncake := filepath.Join(dir, "mooncake.jsonl")
	require.NoError(t, os.WriteFile(mooncake, []byte(`{"timestamp":0,"input_length":600,"output_length":5,"hash_ids":[1,2,3]}`+"\n"), 0o644))
	base := []string{"loadgen", "--model", "m", "--base-url", "http://127.0.0.1:1"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"random flags with a trace", []string{"--trace", path, "--num-prompts", "5", "--sessions", "1", "--duration", "1s"}, "--num-prompts describes random prompts"},
		{"no bound", []string{"--trace", path, "--sessions", "1"}, "duration 0s: a trace replay needs a bound"},
		{"no sessions", []string{"--trace", path, "--duration", "1s"}, "sessions 0: want at least 1 concurrent session"},
		{"start fraction", []string{"--trace", path, "--sessions", "1", "--duration", "1s", "--start-fraction", "0.9:0.1"}, `--start-fraction "0.9:0.1"`},
		{"mooncake blocks", []string{"--trace", mooncake, "--sessions", "1", "--duration", "1s"}, mooncake + ":1: hash_ids: 3 ids for input_length 600"},
		{"missing file", []string{"--trace", filepath.Join(dir, "none.jsonl"), "--sessions", "1", "--duration", "1s"}, "--trace: read trace: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append(append([]string(nil), base...), tt.args...)...)
			require.Equal(t, exitUsage, code, stderr)
			require.True(t, strings.Contains(stderr, tt.wantErr), "stderr %q lacks %q", stderr, tt.wantErr)
		})
	}
}
