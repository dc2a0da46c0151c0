package simengine

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// session is one multi-turn conversation as token ids: turn k's prompt is
// turn k−1's prompt, its answer and the new input, as an agent's is.
type session struct {
	prompt []int
	turn   int
}

// sessionWorkload makes n sessions with distinct first prompts and
// answers and inputs of fixed lengths, so no two sessions share a block.
type sessionWorkload struct {
	sessions, turns           int
	first, answer, input, out int
}

// uniqueIDs hands out token ids never used before, so a block matches
// only where a test means it to.
type uniqueIDs struct{ next int }

func (u *uniqueIDs) take(n int) []int {
	ids := make([]int, n)
	for i := range ids {
		u.next++
		ids[i] = u.next
	}
	return ids
}

// turnResult is what one request of a session saw.
type turnResult struct {
	turn, prompt, cached, dram int
	ttft                       time.Duration
}

// runSessions replays w on e, keeping conc requests in flight: a session
// sends its next turn when the last one finished, and the next request
// goes to a session drawn by a seeded generator, so that a session's
// blocks may have been evicted by the time it returns. It returns every
// request's result in completion order.
func runSessions(t *testing.T, e *Engine, w sessionWorkload, conc int) []turnResult {
	t.Helper()
	ids := &uniqueIDs{}
	sessions := make([]*session, w.sessions)
	for i := range sessions {
		sessions[i] = &session{prompt: ids.take(w.first)}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	idle := make([]*session, len(sessions)) // sessions with no request in flight
	copy(idle, sessions)
	owner := map[*Sequence]*session{}
	var results []turnResult
	send := func() {
		for len(owner) < conc && len(idle) > 0 {
			i := rng.IntN(len(idle))
			ss := idle[i]
			idle = append(idle[:i], idle[i+1:]...)
			seq := &Sequence{ID: uint64(len(results) + len(owner) + 1), PromptLen: len(ss.prompt), MaxTokens: w.out, BlockHashes: HashTokenBlocks(ss.prompt)}
			owner[seq] = ss
			e.Add(seq)
		}
	}
	send()
	for steps := 0; !e.Idle(); steps++ {
		require.Less(t, steps, 1_000_000)
		res := e.Step()
		require.Positive(t, res.Batch, "engine has work but scheduled nothing")
		for _, seq := range res.Finished {
			ss := owner[seq]
			delete(owner, seq)
			ss.turn++
			results = append(results, turnResult{turn: ss.turn, prompt: seq.PromptLen, cached: seq.CachedTokens, dram: seq.DRAMTokens, ttft: seq.FirstToken - seq.Arrival})
			if ss.turn < w.turns {
				ss.prompt = append(append(ss.prompt, ids.take(w.answer)...), ids.take(w.input)...)
				idle = append(idle, ss)
			}
		}
		send()
	}
	require.Len(t, results, w.sessions*w.turns)
	return results
}

// hitRate is the share of prompt tokens after each session's first turn
// that came from the cache, and their mean TTFT.
func hitRate(results []turnResult) (rate float64, ttft time.Duration) {
	var prompt, cached, n int
	for _, r := range results {
		if r.turn == 1 {
			continue
		}
		prompt += r.prompt
		cached += r.cached
		ttft += r.ttft
		n++
	}
	return float64(cached) / float64(prompt), ttft / time.Duration(n)
}

func TestMultiTurnSessionsThatFitInHBMReuseTheirContext(t *testing.T) {
	tests := []struct {
		name string
		w    sessionWorkload
		conc int
	}{
		{"one session, 2k context, 10 turns", sessionWorkload{sessions: 1, turns: 10, first: 2000, answer: 100, input: 100, out: 100}, 1},
		{"8 sessions, 2k context, 10 turns", sessionWorkload{sessions: 8, turns: 10, first: 2000, answer: 100, input: 100, out: 100}, 8},
		{"32 sessions, 4k context, 8 turns", sessionWorkload{sessions: 32, turns: 8, first: 4000, answer: 150, input: 150, out: 150}, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, nil)
			results := runSessions(t, e, tt.w, tt.conc)
			for _, r := range results {
				if r.turn == 1 {
					require.Zero(t, r.cached, "a first turn has nothing to reuse")
					continue
				}
				// Everything of the previous prompt in full blocks; the
				// answer's blocks are not cached (the sim's answer ids are
				// not the client's).
				prev := r.prompt - tt.w.answer - tt.w.input
				require.Equal(t, prev/BlockSize*BlockSize, r.cached, "turn %d", r.turn)
			}
			rate, _ := hitRate(results)
			require.GreaterOrEqual(t, rate, 0.90)
			require.EqualValues(t, e.CacheStats().Hits, sumCached(results))
			require.Zero(t, e.Preemptions)
		})
	}
}

// The README's figure: one 10-turn session of Llama-3.3-70B FP8 on 8
// H100s, 2,000 tokens first and 400 more each turn.
func TestCacheCutsTheTTFTOfLaterTurns(t *testing.T) {
	w := sessionWorkload{sessions: 1, turns: 10, first: 2000, answer: 200, input: 200, out: 200}
	ttft := map[bool][]time.Duration{}
	for _, cache := range []bool{true, false} {
		cfg := engineConfig(t, "llama-3.3-70b", "h100", FP8, 8)
		cfg.NoPrefixCaching = !cache
		e, err := NewEngine(cfg)
		require.NoError(t, err)
		for _, r := range runSessions(t, e, w, 1) {
			ttft[cache] = append(ttft[cache], r.ttft)
		}
	}
	t.Logf("TTFT turn 1 / turn 5 / turn 10: cache %v / %v / %v, no cache %v / %v / %v",
		ttft[true][0], ttft[true][4], ttft[true][9], ttft[false][0], ttft[false][4], ttft[false][9])
	require.Equal(t, ttft[true][0], ttft[false][0], "a first turn costs the same either way")
	require.Less(t, 3*ttft[true][4], ttft[true][0], "turn 5 prefills 400 tokens, not 3,600")
	require.Greater(t, ttft[false][4], ttft[false][0], "without the cache a longer context costs more")
}

func sumCached(results []turnResult) int {
	n := 0
	for _, r := range results {
		n += r.cached
	}
	return n
}

// With HBM holding about three of sixteen sessions, returning sessions hit
// only what the DRAM tier kept: the hit rate and TTFT follow its size.
func TestHitRateFallsAsTheDRAMBudgetShrinks(t *testing.T) {
	w := sessionWorkload{sessions: 16, turns: 8, first: 1024, answer: 64, input: 64, out: 64}
	const hbmBlocks = 400 // 6,400 tokens; every session ends near 2,000
	tests := []struct {
		name       string
		dramBlocks int
		minRate    float64
		maxRate    float64
	}{
		{"no DRAM tier", 0, 0.25, 0.40},
		{"DRAM for 3 sessions", 400, 0.50, 0.70},
		{"DRAM for 8 sessions", 1000, 0.80, 0.90},
		{"DRAM for every session", 4000, 0.90, 1},
	}
	var prevRate float64
	var prevTTFT time.Duration
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := engineConfig(t, "llama-3.1-8b", "h100", BF16, 1)
			cfg.CPUDRAMGB = float64(tt.dramBlocks) * DRAMBytesPerBlock(cfg) / 1e9
			e, err := NewEngine(cfg)
			require.NoError(t, err)
			require.Equal(t, tt.dramBlocks, DRAMBlocks(cfg))
			e.total, e.free = hbmBlocks, hbmBlocks
			rate, ttft := hitRate(runSessions(t, e, w, 2))
			t.Logf("hit rate %.3f, mean TTFT after turn 1 %v, DRAM stored %d loaded %d blocks",
				rate, ttft, e.CacheStats().OffloadStoredBlocks, e.CacheStats().OffloadLoadedBlocks)
			require.GreaterOrEqual(t, rate, tt.minRate)
			require.LessOrEqual(t, rate, tt.maxRate)
			if i > 0 {
				require.Greater(t, rate, prevRate, "more DRAM, more hits")
				require.Less(t, ttft, prevTTFT, "more hits, faster first tokens")
			}
			if tt.dramBlocks == 0 {
				require.Zero(t, e.CacheStats().OffloadStoredBlocks)
			} else {
				require.Positive(t, e.CacheStats().OffloadLoadedBlocks)
				require.LessOrEqual(t, e.DRAMBlocksUsed(), tt.dramBlocks)
			}
			prevRate, prevTTFT = rate, ttft
		})
	}
}

// Prompts of 64 tokens (four blocks) through a cache of 12 blocks, one at
// a time; the probe tells how much of a prompt is still cached.
func TestLRUEvictionOrder(t *testing.T) {
	prompts := map[string][]int{}
	ids := &uniqueIDs{}
	for _, name := range []string{"A", "B", "C", "D"} {
		prompts[name] = ids.take(64)
	}
	prompts["E"] = ids.take(32)
	tests := []struct {
		name      string
		noCache   bool
		runs      []string
		probe     string
		wantCache int // tokens
	}{
		{"a prompt seen before hits all but its last block's last token", false, []string{"A"}, "A", 48},
		{"the least recently used prompt is evicted first", false, []string{"A", "B", "C", "D"}, "A", 0},
		{"the next one survives", false, []string{"A", "B", "C", "D"}, "B", 48},
		{"a reused prompt moves to the back of the queue", false, []string{"A", "B", "C", "A", "D"}, "A", 48},
		{"so the next oldest goes instead", false, []string{"A", "B", "C", "A", "D"}, "B", 0},
		{"a prompt's tail goes before its head", false, []string{"A", "B", "C", "E"}, "A", 32},
		{"prefix caching off reuses nothing", true, []string{"A"}, "A", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, func(c *EngineConfig) { c.NoPrefixCaching = tt.noCache })
			e.total, e.free = 12, 12
			run := func(name string) *Sequence {
				s := &Sequence{PromptLen: len(prompts[name]), MaxTokens: 1, BlockHashes: HashTokenBlocks(prompts[name])}
				e.Add(s)
				drain(t, e)
				return s
			}
			for _, name := range tt.runs {
				run(name)
			}
			require.Equal(t, tt.wantCache, run(tt.probe).CachedTokens)
			require.Equal(t, 12, e.free, "cached blocks count as free")
			require.Zero(t, e.KVUsage())
		})
	}
}

func TestDRAMLoadTimeIsBytesOverTheHostLink(t *testing.T) {
	// Llama-3.1-8B caches 128 KiB per token in BF16, 64 KiB in FP8, split
	// over TP GPUs that each load their own slice over their own link.
	tests := []struct {
		hardware string
		p        Precision
		tp       int
		tokens   int
		wantNs   float64
	}{
		{"h100", BF16, 1, 1024, 1024 * 131072 / 63e9 * 1e9}, // 2.13 ms
		{"h100", BF16, 1, 4096, 4096 * 131072 / 63e9 * 1e9},
		{"h200", FP8, 2, 4096, 4096 * 65536 / 2 / 63e9 * 1e9},
		{"gb200", BF16, 1, 4096, 4096 * 131072 / 225e9 * 1e9},
		{"mi355x", BF16, 1, 4096, 4096 * 131072 / 63e9 * 1e9},
	}
	for _, tt := range tests {
		t.Run(tt.hardware, func(t *testing.T) {
			cfg := engineConfig(t, "llama-3.1-8b", tt.hardware, tt.p, tt.tp)
			cfg.CPUDRAMGB = 100
			e, err := NewEngine(cfg)
			require.NoError(t, err)
			require.InDelta(t, tt.wantNs, float64(e.DRAMLoadTime(tt.tokens)), 2)

			// The step that prefills a request whose prefix is in DRAM
			// lasts the roofline's step plus the load.
			prompt := (&uniqueIDs{}).take(tt.tokens + BlockSize)
			first := &Sequence{PromptLen: len(prompt), MaxTokens: 1, BlockHashes: HashTokenBlocks(prompt)}
			e.Add(first)
			drain(t, e)
			for e.cache.lru.n > 0 { // push every block out to DRAM
				e.cache.evict()
			}
			again := &Sequence{PromptLen: len(prompt), MaxTokens: 1, BlockHashes: HashTokenBlocks(prompt)}
			e.Add(again)
			res := e.Step()
			require.Equal(t, tt.tokens, again.DRAMTokens)
			require.Equal(t, BlockSize, res.Tokens, "only the last block is computed")
			compute := e.rl.step([]work{{n: BlockSize, ctx: tt.tokens}}).duration
			require.Equal(t, compute+e.DRAMLoadTime(tt.tokens), res.Duration)
			require.EqualValues(t, tt.tokens/BlockSize, e.CacheStats().OffloadLoadedBlocks)
		})
	}
}

func TestEveryHardwareHasAHostLink(t *testing.T) {
	for _, name := range HardwareNames() {
		l, err := HostLinkFor(name)
		require.NoError(t, err, name)
		require.GreaterOrEqual(t, l.GBs, 60.0, name)
	}
	_, err := HostLinkFor("tpu-v5")
	require.ErrorContains(t, err, `hardware "tpu-v5": no host link`)
}

func TestDRAMTierSizing(t *testing.T) {
	tests := []struct {
		model string
		p     Precision
		tp    int
		gb    float64
		want  int
	}{
		// 100 GB / (128 KiB/token · 16) for a TP-sharded GQA cache.
		{"llama-3.1-8b", BF16, 1, 100, 47683},
		{"llama-3.1-8b", BF16, 2, 100, 47683},
		{"llama-3.1-8b", BF16, 1, 0, 0},
		// DeepSeek-R1's MLA cache, (512 + 64) · 61 layers · 1 B per token
		// in FP8, is replicated on each of the 8 GPUs, and each offloads
		// its copy: 100 GB / (35,136 B · 8 · 16).
		{"deepseek-r1", FP8, 8, 100, 22235},
	}
	for _, tt := range tests {
		cfg := engineConfig(t, tt.model, "h100", tt.p, tt.tp)
		cfg.CPUDRAMGB = tt.gb
		require.Equal(t, tt.want, DRAMBlocks(cfg), "%s TP%d %g GB", tt.model, tt.tp, tt.gb)
	}
}

func TestCacheConfigErrorsNameTheFlag(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*EngineConfig)
		want   string
	}{
		{"negative DRAM", func(c *EngineConfig) { c.CPUDRAMGB = -1 }, "cpu-dram-gb -1: want 0 (no DRAM tier) or more"},
		{"DRAM without the cache", func(c *EngineConfig) { c.CPUDRAMGB = 10; c.NoPrefixCaching = true }, "drop --no-enable-prefix-caching or --kv-offloading dram"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := engineConfig(t, "llama-3.1-8b", "h100", BF16, 1)
			tt.mutate(&cfg)
			require.ErrorContains(t, cfg.Validate(), tt.want)
		})
	}
}

func TestBlockHashesChainThePrefix(t *testing.T) {
	base := (&uniqueIDs{}).take(40)
	changedFirst := append([]int{-1}, base[1:]...)
	changedLast := append(append([]int(nil), base[:39]...), -1)
	tests := []struct {
		name       string
		ids        []int
		wantBlocks int
		wantSame   int // leading blocks equal to base's
	}{
		{"two full blocks, the partial one left out", base, 2, 2},
		{"a change in block 0 changes every later key", changedFirst, 2, 0},
		{"a change in the partial block changes nothing", changedLast, 2, 2},
		{"a longer prompt extends the chain", append(append([]int(nil), base...), base...), 5, 2},
		{"shorter than a block", base[:15], 0, 0},
	}
	want := HashTokenBlocks(base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HashTokenBlocks(tt.ids)
			require.Len(t, got, tt.wantBlocks)
			same := 0
			for same < len(got) && same < len(want) && got[same] == want[same] {
				same++
			}
			require.Equal(t, tt.wantSame, same)
		})
	}
	require.Len(t, hashTextBlocks([]byte(strings.Repeat("x", 200)), 10), 3, "64 bytes a block")
	require.Len(t, hashTextBlocks([]byte(strings.Repeat("x", 200)), 2), 2, "never more blocks than counted tokens")
}

// Preemption by recompute still works with the cache, and the preempted
// request gets its prompt back from it.
func TestPreemptedRequestReusesItsCachedPrompt(t *testing.T) {
	e := newTestEngine(t, nil)
	e.total, e.free = 10, 10 // 160 tokens: two 104-token requests do not fit
	ids := &uniqueIDs{}
	a, b := ids.take(64), ids.take(64)
	sa := &Sequence{ID: 1, PromptLen: 64, MaxTokens: 40, BlockHashes: HashTokenBlocks(a)}
	sb := &Sequence{ID: 2, PromptLen: 64, MaxTokens: 40, BlockHashes: HashTokenBlocks(b)}
	e.Add(sa)
	e.Add(sb)
	drain(t, e)
	require.Positive(t, sb.Preemptions)
	require.Zero(t, sa.Preemptions)
	// Of its four cached prompt blocks, the one a's last decode block took
	// was the tail: three come back.
	require.Equal(t, 48, sb.CachedTokens)
	require.True(t, sa.Finished && sb.Finished)
	require.EqualValues(t, 80, e.GenerationTokens)
	require.Equal(t, 10, e.free)
}
