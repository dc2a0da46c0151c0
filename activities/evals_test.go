package activities

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/evals"
	"github.com/infersweep/infersweep/sweep"
)

// Under chat the budget is upstream's for the point's context; under
// completions stock lm-eval's 256; a budget in the settings wins over
// both.
func TestEvalTaskForFollowsTheSettings(t *testing.T) {
	point := sweep.Point{ISL: 8192, OSL: 1024, MaxModelLen: 9472}
	evalOnly := sweep.Point{ISL: 1024, OSL: 1024, EvalOnly: true, MaxModelLen: 9472}
	tests := []struct {
		name      string
		settings  sweep.EvalSettings
		point     sweep.Point
		api       evals.API
		format    string
		maxTokens int
	}{
		{"default is chat", sweep.EvalSettings{}, point, evals.APIChat, "inferencex", 9472 - 4096},
		{"eval-only: ISL+OSL+256", sweep.EvalSettings{API: "chat"}, evalOnly, evals.APIChat, "inferencex", 2304 / 2},
		{"no context known", sweep.EvalSettings{}, sweep.Point{EvalOnly: true, ISL: -256}, evals.APIChat, "inferencex", 12288},
		{"completions", sweep.EvalSettings{API: "completions"}, point, evals.APICompletions, "lm-eval", 256},
		{"settings' budget", sweep.EvalSettings{API: "chat", MaxTokens: 1000}, point, evals.APIChat, "inferencex", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, ok := evalTaskFor("gsm8k", tt.settings, tt.point)
			require.True(t, ok)
			require.Equal(t, tt.api, task.API)
			require.Equal(t, tt.format, task.Format)
			require.Equal(t, tt.maxTokens, task.MaxTokens)
		})
	}
	_, ok := evalTaskFor("gsm8k", sweep.EvalSettings{API: "responses"}, point)
	require.False(t, ok, "an API this worker does not know runs nothing")
}
