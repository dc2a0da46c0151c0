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
	_, errs := ParseSettings("s.yaml", []byte("evals:\n  limit: -1\n  tasks:\n    mmlu: { data: x.jsonl }\n  thresholds:\n    default: { gsm8k: 1.5 }\n    models:\n      dsr1: { gsm8k: -0.1 }\n"))
	require.EqualError(t, errs.Err(), strings.Join([]string{
		"s.yaml:2:10: evals.limit: -1: want 0 (every document) or more",
		`s.yaml:4:11: evals.tasks.mmlu: unknown task "mmlu": want one of [gsm8k gpqa]`,
		"s.yaml:6:23: evals.thresholds.default.gsm8k: 1.5: want a score from 0 to 1",
		"s.yaml:8:22: evals.thresholds.models.dsr1.gsm8k: -0.1: want a score from 0 to 1",
	}, "\n"))
}
