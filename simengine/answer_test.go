package simengine_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/evals"
	"github.com/infersweep/infersweep/simengine"
)

func complete(t *testing.T, url, prompt string) (text, finish string) {
	t.Helper()
	var out struct {
		Choices []struct {
			Text         string `json:"text"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	postOK(t, url, "/v1/completions", map[string]any{"model": "llama-3.1-8b", "prompt": prompt, "max_tokens": 256}, &out)
	return out.Choices[0].Text, out.Choices[0].FinishReason
}

func TestAccuracyAnswersTheGeneratedSet(t *testing.T) {
	question := "Omar has 40 bolts. He triples them. Each one sells for $12. How much money, in dollars, does Omar make by selling all of them?"
	prompt := "Question: Mia has 2 apples. How many apples does Mia have now?\nAnswer: Mia starts with 2 apples.\n#### 2\n\nQuestion: " + question + "\nAnswer:"
	tests := []struct {
		name     string
		accuracy float64
		prompt   string
		want     string
	}{
		{"always right", 1, prompt, " Omar starts with 40 bolts.\nHe triples them: 40 * 3 = <<40*3=120>>120.\nSelling all of them makes 120 * $12 = <<120*12=1440>>$1,440.\n#### 1440"},
		// The miss, −6, is what this question hashes to under seed 0.
		{"always wrong", 1e-9, prompt, " Omar starts with 40 bolts.\nHe triples them: 40 * 3 = <<40*3=120>>120.\nSelling all of them makes 120 * $12 = <<120*12=1440>>$1,440.\n#### 1434"},
		{"unrecognised question keeps filler", 1, "Question: What is two plus two?\nAnswer:", ""},
		{"off by default", 0, prompt, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serverConfig(t)
			cfg.Accuracy = tt.accuracy
			_, url, _ := startSim(t, cfg)
			waitReady(t, url)
			text, finish := complete(t, url, tt.prompt)
			if tt.want == "" {
				require.Equal(t, strings.Repeat(" tok", strings.Count(text, " tok")), text)
				return
			}
			require.Equal(t, tt.want, text)
			require.Equal(t, "stop", finish)
		})
	}
}

func TestAccuracyIsAProbability(t *testing.T) {
	cfg := serverConfig(t)
	cfg.Accuracy = 1.5
	_, err := simengine.NewServer(cfg)
	require.EqualError(t, err, "accuracy 1.5: want a probability from 0 to 1")
}

// A streamed answer carries the same text, chunk by chunk.
func TestAccuracyStreamsTheAnswer(t *testing.T) {
	cfg := serverConfig(t)
	cfg.Accuracy = 1
	_, url, _ := startSim(t, cfg)
	waitReady(t, url)
	doc := evals.GenerateArithmetic(3, 1)[0]
	body, err := json.Marshal(map[string]any{"model": "llama-3.1-8b", "prompt": "Question: " + doc.Question + "\nAnswer:", "max_tokens": 256, "stream": true})
	require.NoError(t, err)
	resp, err := http.Post(url+"/v1/completions", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var text strings.Builder
	raw := new(bytes.Buffer)
	_, err = raw.ReadFrom(resp.Body)
	require.NoError(t, err)
	for line := range strings.SplitSeq(raw.String(), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Text string `json:"text"`
			} `json:"choices"`
		}
		require.NoError(t, json.Unmarshal([]byte(data), &chunk))
		for _, c := range chunk.Choices {
			text.WriteString(c.Text)
		}
	}
	require.Equal(t, " "+doc.Answer, text.String())
}

// Evals' default format is upstream's: few-shot user and assistant turns,
// then the question as the last user turn, to /v1/chat/completions. The
// simulated model answers the last turn as it answers a text prompt.
func TestAccuracyAnswersChatEvalPrompts(t *testing.T) {
	cfg := serverConfig(t)
	cfg.Accuracy = 1
	_, url, _ := startSim(t, cfg)
	waitReady(t, url)
	docs := evals.GenerateArithmetic(5, 6)
	rec, err := json.Marshal(evals.GenerateGPQA(7, 1)[0])
	require.NoError(t, err)
	gpqa, err := evals.GPQA().ParseDataset("g.jsonl", rec)
	require.NoError(t, err)
	tests := []struct {
		name     string
		messages []evals.Message
		want     string
	}{
		{"gsm8k, upstream's prompt after five shots", evals.GSM8KInferenceX().Messages(docs[:5], docs[5]), docs[5].Answer},
		{"gpqa", evals.GPQA().Messages(nil, gpqa.Docs[0]), "The answer is (" + gpqa.Docs[0].Answer + ")."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				Choices []struct {
					Message      struct{ Content string } `json:"message"`
					FinishReason string                   `json:"finish_reason"`
				} `json:"choices"`
			}
			postOK(t, url, "/v1/chat/completions", map[string]any{"model": "llama-3.1-8b", "messages": tt.messages, "max_tokens": 2048}, &out)
			require.Equal(t, tt.want, out.Choices[0].Message.Content)
			require.Equal(t, "stop", out.Choices[0].FinishReason)
		})
	}
}
