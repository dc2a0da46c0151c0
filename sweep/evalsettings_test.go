package sweep

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestThresholdsResolveMostSpecificFirst(t *testing.T) {
	s, errs := ParseSettings("s.yaml", []byte("evals:\n  thresholds:\n    models:\n      llama: { gpqa_diamond_cot_n_shot: 0.4 }\n"))
	require.NoError(t, errs.Err())
	th := s.Evals.Thresholds
	tests := []struct {
		prefix string
		names  []string
		want   float64
		source string
	}{
		{"dsr1", []string{"gsm8k"}, 0.91, "models.dsr1.gsm8k"},
		{"qwen3.5", []string{"gsm8k"}, 0.94, "models.qwen3.5.gsm8k"},
		{"dsr1", []string{"gpqa", "gpqa_diamond_cot_n_shot"}, 0.30, "default.gpqa"},
		// upstream's key for GPQA is its lm-eval task name: either is read.
		{"llama", []string{"gpqa", "gpqa_diamond_cot_n_shot"}, 0.4, "models.llama.gpqa_diamond_cot_n_shot"},
		{"unknown-model", []string{"gsm8k"}, 0.90, "default.gsm8k"},
		{"", []string{"gsm8k"}, 0.90, "default.gsm8k"},
		{"dsr1", []string{"swebench_lite"}, FallbackThreshold, "fallback"},
	}
	for _, tt := range tests {
		got, source := th.For(tt.prefix, tt.names...)
		require.Equal(t, tt.want, got, "%s %v", tt.prefix, tt.names)
		require.Equal(t, tt.source, source)
	}
}

func TestEvalSettingsDefaultsAndErrors(t *testing.T) {
	d := DefaultSettings().Evals
	require.Equal(t, "builtin:arithmetic-200.jsonl", d.Tasks["gsm8k"].Data)
	require.Empty(t, d.Tasks["gpqa"].Data, "GPQA has no data until configured: its row says skipped")
	require.Equal(t, "chat", d.API, "upstream's chat format unless told otherwise")
	require.Zero(t, d.MaxTokens, "upstream's budget from each point's context")
	s, errs := ParseSettings("s.yaml", []byte("evals:\n  api: completions\n  max_tokens: 512\n"))
	require.NoError(t, errs.Err())
	require.Equal(t, "completions", s.Evals.API)
	require.Equal(t, 512, s.Evals.MaxTokens)
	require.Equal(t, "builtin:arithmetic-200.jsonl", s.Evals.Tasks["gsm8k"].Data, "the rest keeps its defaults")
	_, errs = ParseSettings("s.yaml", []byte("evals:\n  limit: -1\n  api: responses\n  max_tokens: -5\n  tasks:\n    mmlu: { data: x.jsonl }\n  thresholds:\n    default: { gsm8k: 1.5 }\n    models:\n      dsr1: { gsm8k: -0.1 }\n"))
	require.EqualError(t, errs.Err(), strings.Join([]string{
		"s.yaml:2:10: evals.limit: -1: want 0 (every document) or more",
		`s.yaml:3:8: evals.api: "responses": want one of [chat completions]`,
		"s.yaml:4:15: evals.max_tokens: -5: want 0 (the API's default budget) or more",
		`s.yaml:6:11: evals.tasks.mmlu: unknown task "mmlu": want one of [gsm8k gpqa]`,
		"s.yaml:8:23: evals.thresholds.default.gsm8k: 1.5: want a score from 0 to 1",
		"s.yaml:10:22: evals.thresholds.models.dsr1.gsm8k: -0.1: want a score from 0 to 1",
	}, "\n"))
}
