package simengine

import "time"

// admit takes the KV blocks a waiting request s needs for this step,
// first reusing the longest cached prefix of its prompt (HBM, then the
// DRAM tier): those tokens count as computed, HBM blocks are shared by
// reference, DRAM blocks are copied into new HBM blocks at the host
// link's speed. It returns the tokens s computes this step, or false,
// taking nothing, when the blocks are not free.
func (e *Engine) admit(s *Sequence, budget int) (int, bool) {
	// A request without hashes (a prompt shorter than a block) goes the
	// cached way too, to be counted among the queries as vLLM counts it.
	if e.cache == nil || s.computed > 0 {
		n := min(s.pending(), budget)
		return n, e.reserve(s, n)
	}
	// vLLM leaves at least one token to compute: the step that samples
	// the first token needs its logits.
	hbm, dram := e.cache.match(s.BlockHashes, (s.PromptLen+s.generated-1)/BlockSize)
	hit := (hbm + dram) * BlockSize
	n := min(s.pending()-hit, budget)
	reused := s.BlockHashes[:hbm]
	taken := e.cache.evictable(reused) // free blocks a hit takes out of the free queue
	if blocksFor(hit+n)-hbm+taken > e.free {
		return 0, false
	}
	for _, h := range reused {
		s.cached = append(s.cached, e.cache.ref(h))
	}
	e.free -= taken
	s.blocks = hbm
	loaded := s.BlockHashes[hbm : hbm+dram]
	for _, h := range loaded {
		e.cache.load(h)
	}
	s.computed = hit
	e.reserve(s, n) // cannot fail: checked above, and loads free DRAM only
	for _, h := range loaded {
		s.cached = append(s.cached, e.cache.insert(h))
	}

	st := &e.cache.stats
	tokens := int64(s.PromptLen + s.generated)
	st.Queries += tokens
	st.Hits += int64(hbm * BlockSize)
	if e.cache.dramCap > 0 {
		st.ExternalQueries += tokens
		st.ExternalHits += int64(dram * BlockSize)
	}
	if s.generated == 0 {
		// vLLM counts a prompt's cached tokens as prompt tokens too.
		e.PromptTokens += int64(hit)
	}
	s.CachedTokens, s.DRAMTokens = hit, dram*BlockSize
	if dram > 0 {
		s.loadTime = e.DRAMLoadTime(dram * BlockSize)
	}
	return n, true
}

// commit caches the prompt blocks s has finished computing, as vLLM
// caches each full block once its KV is written.
func (e *Engine) commit(s *Sequence) {
	for i := len(s.cached); i < len(s.BlockHashes) && (i+1)*BlockSize <= s.computed; i++ {
		s.cached = append(s.cached, e.cache.insert(s.BlockHashes[i]))
	}
}

// release frees every block s holds. Cached ones stay cached at the back
// of the free queue, last block first, so that under pressure a prompt's
// tail is evicted before the prefix other requests are likelier to share
// (vLLM frees in the same reverse order).
func (e *Engine) release(s *Sequence) {
	for i := len(s.cached) - 1; i >= 0; i-- {
		if b := s.cached[i]; b != nil {
			e.cache.unref(b)
		}
	}
	s.cached = s.cached[:0]
	e.free += s.blocks
	s.blocks = 0
}

// CacheStats are the prefix cache's counters; zero with caching off.
func (e *Engine) CacheStats() CacheStats {
	if e.cache == nil {
		return CacheStats{}
	}
	return e.cache.stats
}

// DRAMBlocksUsed is how many blocks the DRAM tier holds now.
func (e *Engine) DRAMBlocksUsed() int {
	if e.cache == nil {
		return 0
	}
	return e.cache.dramLRU.n
}

// DRAMBlocks is how many KV blocks cfg's DRAM tier holds. Every GPU of
// the replica offloads its own slice of a block (vLLM's offloading
// connector runs per worker), so a block costs the per-GPU bytes times
// TP: one copy of a TP-sharded or DP-attention cache, TP copies of an
// MLA cache that TP replicates.
func DRAMBlocks(cfg EngineConfig) int {
	if cfg.CPUDRAMGB <= 0 {
		return 0
	}
	return int(cfg.CPUDRAMGB * 1e9 / DRAMBytesPerBlock(cfg))
}

// DRAMBytesPerBlock is what one KV block takes in the DRAM tier, all the
// replica's GPUs together.
func DRAMBytesPerBlock(cfg EngineConfig) float64 {
	return cfg.roofline().kvBytesPerTokenPerGPU() * float64(cfg.TP) * BlockSize
}

// DRAMLoadTime is how long the engine takes to bring n tokens of cached
// KV back from DRAM: each GPU copies its own slice over its own host
// link at once, so the time is one GPU's bytes over one link.
func (e *Engine) DRAMLoadTime(n int) time.Duration {
	return e.hostLink.Transfer(e.rl.kvTransferBytesPerGPU(n))
}
