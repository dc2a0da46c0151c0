package loadgen

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

type sentBody struct {
	Model         string         `json:"model"`
	Prompt        []int          `json:"prompt"`
	Messages      []chatMessage  `json:"messages"`
	MaxTokens     int            `json:"max_tokens"`
	IgnoreEOS     bool           `json:"ignore_eos"`
	Stream        bool           `json:"stream"`
	StreamOptions map[string]any `json:"stream_options"`
}

func decode(t *testing.T, p Prompt) sentBody {
	t.Helper()
	var b sentBody
	require.NoError(t, json.Unmarshal(p.Body, &b))
	return b
}

func TestPromptLengthsFollowTheRangeMode(t *testing.T) {
	tests := []struct {
		mode         RangeMode
		ratio        float64
		lo, hi       int
		wantMeanNear float64
	}{
		{RangeInferenceMAX, 0.8, 819, 1024, 921.5}, // [r·L, L]: 0.9·L on average
		{RangeInferenceMAX, 1, 1024, 1024, 1024},
		{RangeVLLM, 0.25, 768, 1280, 1024}, // [L(1−r), L(1+r)]
		{RangeVLLM, 0, 1024, 1024, 1024},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			w := DefaultWorkload()
			w.Model, w.RangeMode, w.RangeRatio, w.OutputLen = "m", tt.mode, tt.ratio, 8
			prompts, err := w.Prompts(0, 1000)
			require.NoError(t, err)
			var sum int
			for _, p := range prompts {
				require.GreaterOrEqual(t, p.InputTokens, tt.lo)
				require.LessOrEqual(t, p.InputTokens, tt.hi)
				require.Len(t, decode(t, p).Prompt, p.InputTokens, "the token-id prompt is exactly the input length")
				sum += p.InputTokens
			}
			require.InDelta(t, tt.wantMeanNear, float64(sum)/1000, tt.wantMeanNear*0.01)
		})
	}
}

func TestPromptsAreSeededUniqueAndShareOnlyThePrefix(t *testing.T) {
	w := DefaultWorkload()
	w.Model, w.InputLen, w.OutputLen, w.RangeRatio, w.PrefixLen, w.Seed = "llama", 64, 16, 0.5, 30, 7

	a, err := w.Prompts(0, 50)
	require.NoError(t, err)
	b, err := w.Prompts(0, 50)
	require.NoError(t, err)
	require.Equal(t, a, b, "same seed, same prompts")

	// Prompt i does not depend on how many were asked for.
	tail, err := w.Prompts(40, 10)
	require.NoError(t, err)
	require.Equal(t, a[40:], tail)

	w.Seed = 8
	c, err := w.Prompts(0, 50)
	require.NoError(t, err)
	require.NotEqual(t, decode(t, a[0]).Prompt[40:], decode(t, c[0]).Prompt[40:])

	seen := map[[uniqueTokens]int]bool{}
	first := decode(t, a[0])
	for _, p := range a {
		body := decode(t, p)
		require.Equal(t, first.Prompt[:30], body.Prompt[:30], "shared prefix")
		key := [uniqueTokens]int{body.Prompt[30], body.Prompt[31]}
		require.False(t, seen[key], "two prompts share more than the prefix")
		seen[key] = true
		for _, id := range body.Prompt {
			require.GreaterOrEqual(t, id, w.VocabMin)
			require.Less(t, id, w.VocabMax)
		}
		require.Equal(t, p.OutputTokens, body.MaxTokens)
		require.True(t, body.IgnoreEOS)
		require.True(t, body.Stream)
		require.Equal(t, map[string]any{"include_usage": true}, body.StreamOptions)
	}
}

func TestChatPromptsUseWords(t *testing.T) {
	w := DefaultWorkload()
	w.Model, w.API, w.InputLen, w.OutputLen = "m", APIChat, 100, 10
	prompts, err := w.Prompts(0, 2)
	require.NoError(t, err)
	body := decode(t, prompts[0])
	require.Len(t, body.Messages, 1)
	require.Equal(t, "user", body.Messages[0].Role)
	require.Len(t, splitWords(body.Messages[0].Content), 100)
	require.NotEqual(t, body.Messages[0].Content, decode(t, prompts[1]).Messages[0].Content)
}

func splitWords(s string) []string {
	var out []string
	word := ""
	for _, r := range s {
		if r == ' ' {
			out = append(out, word)
			word = ""
			continue
		}
		word += string(r)
	}
	return append(out, word)
}

func TestWorkloadValidateNamesTheField(t *testing.T) {
	tests := []struct {
		mutate func(*Workload)
		want   string
	}{
		{func(w *Workload) { w.Model = "" }, "model is empty"},
		{func(w *Workload) { w.InputLen = 0 }, "random-input-len 0"},
		{func(w *Workload) { w.RangeMode = "uniform" }, `range-mode "uniform"`},
		{func(w *Workload) { w.RangeRatio = 1.5 }, "random-range-ratio 1.5"},
		{func(w *Workload) { w.RangeMode, w.RangeRatio = RangeVLLM, 1 }, "random-range-ratio 1"},
		{func(w *Workload) { w.PrefixLen = 1023 }, "random-prefix-len 1023"},
		{func(w *Workload) { w.VocabMax = w.VocabMin + 10 }, "vocab range"},
	}
	for _, tt := range tests {
		w := DefaultWorkload()
		w.Model = "m"
		tt.mutate(&w)
		require.ErrorContains(t, w.Validate(), tt.want)
	}
}
