package evals_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine/simtest"

	"github.com/infersweep/infersweep/evals"
)

func evalConfig(tb testing.TB, url string, api evals.API) evals.Config {
	tb.Helper()
	data, err := evals.ReadDataset("testdata/arithmetic-200.jsonl")
	require.NoError(tb, err)
	shots, err := evals.ReadDataset("testdata/arithmetic-fewshot.jsonl")
	require.NoError(tb, err)
	task, ok := evals.Lookup("gsm8k", api)
	require.True(tb, ok)
	if api == evals.APIChat {
		// Upstream's budget for the simulated engine's 8192-token context,
		// as its EVAL_MAX_MODEL_LEN would be.
		task.MaxTokens = evals.MaxTokensFor(8192)
	}
	return evals.Config{BaseURL: url, Model: "llama-3.1-8b", Task: task, Data: data, Fewshot: shots, Concurrency: 64}
}

func waitReady(tb testing.TB, url string, cfg evals.Config) {
	tb.Helper()
	// The engine answers 503 until it has started; one document probes.
	probe := cfg
	probe.Limit = 1
	require.Eventually(tb, func() bool {
		_, err := evals.Run(context.Background(), probe)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, url)
}

// Both APIs: upstream's chat turns (five examples drawn from the five
// of the few-shot file) and stock lm-eval's text prompt.
func TestGSM8KAgainstSimScoresItsAccuracy(t *testing.T) {
	for _, tt := range []struct {
		api      evals.API
		accuracy float64
	}{{evals.APIChat, 0.95}, {evals.APIChat, 0.5}, {evals.APICompletions, 0.95}, {evals.APICompletions, 0.5}} {
		accuracy := tt.accuracy
		url := simtest.Start(t, 50, accuracy)
		cfg := evalConfig(t, url, tt.api)
		waitReady(t, url, cfg)
		res, err := evals.Run(t.Context(), cfg)
		require.NoError(t, err)
		require.Equal(t, tt.api, res.API)
		require.Equal(t, cfg.Task.MaxTokens, res.MaxTokens)
		require.Equal(t, 200, res.N)
		require.Len(t, res.Samples, 200)
		// sha256sum testdata/arithmetic-200.jsonl
		require.Equal(t, "12a7bcd43c480135075883b2c26e7d04307e81970c008253bdd6d1977caee24c", res.Data.SHA256)
		strict, flexible := res.Scores[0], res.Scores[1]
		require.Equal(t, "strict-match", strict.Filter)
		require.NotNil(t, strict.Stderr)
		t.Logf("%s, accuracy %.2f: strict %.3f ± %.3f, flexible %.3f", tt.api, accuracy, strict.Value, *strict.Stderr, flexible.Value)
		require.InDelta(t, accuracy, strict.Value, 3**strict.Stderr)
		// The simulated answers end in "#### N", so both filters agree.
		require.Equal(t, strict.Value, flexible.Value)
	}
}

// BenchmarkEvalAgainstSim reports samples/min for 200 GSM8K samples at
// concurrency 64 against a simulated Llama-3.1-8B on one H100 running in
// real time, so the figure is what the runner sustains against an engine
// of that speed.
func BenchmarkEvalAgainstSim(b *testing.B) {
	url := simtest.Start(b, 1, 0.9)
	cfg := evalConfig(b, url, evals.APIChat)
	waitReady(b, url, cfg)
	samples := 0
	for b.Loop() {
		res, err := evals.Run(b.Context(), cfg)
		require.NoError(b, err)
		samples += res.N
	}
	b.ReportMetric(float64(samples)/b.Elapsed().Minutes(), "samples/min")
}

func TestGPQAAgainstSimScoresItsAccuracy(t *testing.T) {
	url := simtest.Start(t, 50, 0.7)
	cfg := evalConfig(t, url, evals.APIChat)
	waitReady(t, url, cfg)
	data, err := evals.GPQA().ReadDataset("testdata/gpqa-shaped-40.jsonl")
	require.NoError(t, err)
	cfg.Task, cfg.Data, cfg.Fewshot = evals.GPQA(), data, evals.Dataset{}
	require.Equal(t, evals.APIChat, cfg.Task.API)
	cfg.Task.MaxTokens = evals.MaxTokensFor(8192)
	res, err := evals.Run(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, 80, res.N)
	s := res.Scores[0]
	require.Equal(t, "extract_abcd", s.Filter)
	t.Logf("accuracy 0.70: %.3f ± %.3f", s.Value, *s.Stderr)
	require.InDelta(t, 0.7, s.Value, 3**s.Stderr)
	require.Contains(t, res.Samples[0].Response, "The answer is (")
}

func TestServedMaxModelLenReadsTheModelList(t *testing.T) {
	url := simtest.Start(t, 50, 0)
	n, err := evals.ServedMaxModelLen(t.Context(), nil, url, "", "llama-3.1-8b")
	require.NoError(t, err)
	require.Equal(t, 8192, n)
	require.Equal(t, 4096, evals.MaxTokensFor(n))
	n, err = evals.ServedMaxModelLen(t.Context(), nil, url, "", "another-model")
	require.NoError(t, err)
	require.Zero(t, n, "a model the server does not list has no length")
}
