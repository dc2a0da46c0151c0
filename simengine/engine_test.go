package simengine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func engineConfig(t *testing.T, model, hw string, p Precision, tp int) EngineConfig {
	t.Helper()
	m, err := LookupModel(model)
	require.NoError(t, err)
	h, err := LookupHardware(hw)
	require.NoError(t, err)
	return EngineConfig{Model: m, Hardware: h, Precision: p, TP: tp, MaxNumSeqs: 256, MaxNumBatchedTokens: 8192,
		MaxModelLen: 9472, GPUMemoryUtilization: 0.9, Calibration: DefaultCalibration()}
}

func newTestEngine(t *testing.T, mutate func(*EngineConfig)) *Engine {
	t.Helper()
	cfg := engineConfig(t, "llama-3.1-8b", "h100", BF16, 1)
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := NewEngine(cfg)
	require.NoError(t, err)
	return e
}

// drain steps until every sequence is finished and returns the steps taken.
func drain(t *testing.T, e *Engine) int {
	t.Helper()
	steps := 0
	for !e.Idle() {
		res := e.Step()
		require.Positive(t, res.Batch, "engine has work but scheduled nothing")
		steps++
		require.Less(t, steps, 1_000_000)
	}
	return steps
}

func TestAdmissionIsFCFSUpToMaxNumSeqs(t *testing.T) {
	e := newTestEngine(t, func(c *EngineConfig) { c.MaxNumSeqs = 2 })
	seqs := []*Sequence{{ID: 1, PromptLen: 100, MaxTokens: 3}, {ID: 2, PromptLen: 100, MaxTokens: 3}, {ID: 3, PromptLen: 100, MaxTokens: 3}}
	for _, s := range seqs {
		e.Add(s)
	}
	res := e.Step()
	require.Equal(t, 2, res.Batch)
	require.Equal(t, 2, e.Running())
	require.Equal(t, 1, e.Waiting())
	require.Equal(t, 200, res.Tokens, "both prompts prefilled in one step")
	require.ElementsMatch(t, []*Sequence{seqs[0], seqs[1]}, res.Emitted, "a finished prefill samples the first token")

	drain(t, e)
	require.True(t, seqs[2].FirstToken > seqs[1].LastToken-time.Nanosecond, "the third waits for a free slot")
	require.EqualValues(t, 300, e.PromptTokens)
	require.EqualValues(t, 9, e.GenerationTokens)
	require.EqualValues(t, 3, e.Finished)
	require.Zero(t, e.KVUsage(), "finished requests free their blocks")
}

func TestChunkedPrefillSharesTheTokenBudgetWithDecodes(t *testing.T) {
	e := newTestEngine(t, func(c *EngineConfig) { c.MaxNumBatchedTokens = 512 })
	decoder := &Sequence{ID: 1, PromptLen: 10, MaxTokens: 100}
	e.Add(decoder)
	e.Step() // decoder prefilled, first token sampled
	long := &Sequence{ID: 2, PromptLen: 1200, MaxTokens: 2}
	e.Add(long)

	var tokens []int
	for long.generated == 0 {
		res := e.Step()
		tokens = append(tokens, res.Tokens)
	}
	// 1 decode token + 511, 1 + 511, then 1 + 178: the decode goes first.
	require.Equal(t, []int{512, 512, 179}, tokens)
	require.Equal(t, 4, decoder.generated, "the decode kept going during the prefill")
}

func TestKVExhaustionPreemptsTheNewestByRecompute(t *testing.T) {
	e := newTestEngine(t, nil)
	e.total, e.free = 10, 10 // 160 tokens of cache
	a := &Sequence{ID: 1, PromptLen: 64, MaxTokens: 40}
	b := &Sequence{ID: 2, PromptLen: 64, MaxTokens: 40}
	e.Add(a)
	e.Add(b)
	var preempted []*Sequence
	for !e.Idle() {
		res := e.Step()
		preempted = append(preempted, res.Preempted...)
	}
	require.NotEmpty(t, preempted)
	require.Equal(t, b, preempted[0], "the newest request is evicted")
	require.Zero(t, a.Preemptions)
	require.Positive(t, b.Preemptions)
	require.EqualValues(t, len(preempted), e.Preemptions)
	require.True(t, a.Finished && b.Finished, "both finish once memory frees")
	require.EqualValues(t, 80, e.GenerationTokens, "recompute does not re-emit tokens")
	require.Equal(t, 10, e.free)
}

func TestThroughputRisesAndTPOTGrowsWithConcurrency(t *testing.T) {
	type point struct{ tputPerGPU, tpotMs float64 }
	run := func(concurrency int) point {
		e := newTestEngine(t, nil)
		seqs := make([]*Sequence, concurrency)
		for i := range seqs {
			seqs[i] = &Sequence{ID: uint64(i), PromptLen: 1024, MaxTokens: 256}
			e.Add(seqs[i])
		}
		drain(t, e)
		var tpot float64
		for _, s := range seqs {
			tpot += float64(s.LastToken-s.FirstToken) / float64(s.MaxTokens-1) / float64(time.Millisecond)
		}
		return point{float64(concurrency*(1024+256)) / e.Clock().Seconds(), tpot / float64(concurrency)}
	}
	var prev point
	// Not 4: a small batch's weight reads run faster per byte than batch 1's (b(T) in
	// doc.go), so TPOT at 4 can match TPOT at 1, as on real engines.
	for _, c := range []int{1, 16, 64, 256} {
		p := run(c)
		if c > 1 {
			require.Greater(t, p.tputPerGPU, prev.tputPerGPU, "concurrency %d", c)
			require.Greater(t, p.tpotMs, prev.tpotMs, "concurrency %d", c)
		}
		prev = p
	}
}

func TestEngineIsDeterministic(t *testing.T) {
	run := func() []time.Duration {
		e := newTestEngine(t, nil)
		var seqs []*Sequence
		for i := range 50 {
			s := &Sequence{ID: uint64(i), PromptLen: 100 + 37*i, MaxTokens: 20 + i}
			seqs = append(seqs, s)
			e.Add(s)
			e.Step()
		}
		drain(t, e)
		var out []time.Duration
		for _, s := range seqs {
			out = append(out, s.FirstToken, s.LastToken)
		}
		return out
	}
	require.Equal(t, run(), run())
}

func TestConfigErrorsAtStartup(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*EngineConfig)
		want   string
		oom    bool
	}{
		{"70B BF16 does not fit one H100", func(c *EngineConfig) {
			*c = engineConfig(t, "llama-3.3-70b", "h100", BF16, 1)
		}, "CUDA out of memory: llama-3.3-70b bf16 weights need 131.5 GiB per GPU at TP 1", true},
		{"max-model-len beyond the model", func(c *EngineConfig) { c.MaxModelLen = 200_000 }, "max-model-len 200000: want 1 to 131072", false},
		{"KV cache smaller than one sequence", func(c *EngineConfig) {
			*c = engineConfig(t, "llama-3.3-70b", "h100", FP8, 1)
			c.MaxModelLen = 131072
		}, "fewer than max-model-len 131072", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := engineConfig(t, "llama-3.1-8b", "h100", BF16, 1)
			tt.mutate(&cfg)
			_, err := NewEngine(cfg)
			require.ErrorContains(t, err, tt.want)
			var oom *OOMError
			require.Equal(t, tt.oom, errors.As(err, &oom))
		})
	}
}

func TestFaultPlan(t *testing.T) {
	p, err := ParseFaultPlan("startup=0.1,crash=0.05,stall=0.02,error=0.02")
	require.NoError(t, err)
	require.Equal(t, FaultPlan{Startup: 0.1, Crash: 0.05, Stall: 0.02, Error: 0.02}, p)
	for spec, want := range map[string]string{
		"startup=2":             `fault plan "startup=2": want kind=probability`,
		"gpu=0.1":               `fault plan "gpu=0.1": kinds are startup, crash, stall and error`,
		"startup=0.6,crash=0.6": "probabilities add up to 1.2, over 1",
		"startup":               `fault plan "startup": want kind=probability`,
	} {
		_, err := ParseFaultPlan(spec)
		require.ErrorContains(t, err, want, spec)
	}

	// Engines draw their faults at the planned rates, each striking early.
	counts := map[string]int{}
	for seed := range uint64(20000) {
		d := p.draw(newDice(seed))
		counts[d.kind]++
		if d.kind != "" {
			require.True(t, d.at >= 1 && d.at <= faultWindow)
		}
	}
	for kind, want := range map[string]float64{"startup": 0.1, "crash": 0.05, "stall": 0.02, "error": 0.02, "": 0.81} {
		require.InDelta(t, want, float64(counts[kind])/20000, 0.01, kind)
	}
}

func TestFaultPlanEnsureGivesEveryKindEarly(t *testing.T) {
	p, err := ParseFaultPlan("startup=0,crash=0,stall=0,error=0,ensure")
	require.NoError(t, err)
	require.True(t, p.Ensure)
	p.Record = filepath.Join(t.TempDir(), "faults.log")
	var kinds []string
	for seed := range uint64(10) {
		d, err := p.drawAndRecord(newDice(seed))
		require.NoError(t, err)
		kinds = append(kinds, d.kind)
	}
	require.Equal(t, []string{"", "startup", "", "crash", "", "stall", "", "error", "", ""}, kinds)
	log, err := os.ReadFile(p.Record)
	require.NoError(t, err)
	require.Equal(t, "none\nstartup\nnone\ncrash\nnone\nstall\nnone\nerror\nnone\nnone\n", string(log))
}
