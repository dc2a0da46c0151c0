package simengine

import (
	"fmt"
	"math"
	"time"
)

// BlockSize is the KV-cache block in tokens, vLLM's default.
const BlockSize = 16

// EngineConfig is one replica of the simulated engine.
type EngineConfig struct {
	Model                Model
	Hardware             Hardware
	Precision            Precision
	TP                   int
	MaxNumSeqs           int
	MaxNumBatchedTokens  int
	MaxModelLen          int
	GPUMemoryUtilization float64
	Calibration          Calibration
	// EP > 1 spreads a MoE's experts over EP of the TP GPUs (vLLM
	// --enable-expert-parallel, SGLang --ep); 0 or 1 slices them by TP.
	EP int
	// DPAttention runs attention data-parallel over the TP ranks (SGLang
	// --enable-dp-attention, vLLM DP attention with EP).
	DPAttention bool
	// KVLink is what a decode engine's KV arrives over from its prefill
	// workers; unused by an engine that prefills everything itself.
	KVLink KVLink
	// Framework is the serving framework whose step overhead the engine
	// pays (upstream's names: vllm, sglang, dynamo-trt …); "" is vLLM.
	Framework string
	// NoPrefixCaching turns the prefix cache off (vLLM
	// --no-enable-prefix-caching). vLLM V1 caches by default, and so
	// does the zero value.
	NoPrefixCaching bool
	// CPUDRAMGB > 0 adds a DRAM tier of that many GB (1e9 bytes) to the
	// prefix cache: the replica's share of host memory, which upstream's
	// total-cpu-dram-gb already is (node DRAM × utilization × TP ÷ GPUs
	// per node).
	CPUDRAMGB float64
	// HostLink is what DRAM-tier blocks cross back into HBM, per GPU;
	// zero means the hardware's (HostLinkFor).
	HostLink KVLink
}

func (c EngineConfig) roofline() roofline {
	cal := c.Calibration
	if cal == (Calibration{}) {
		cal = CalibrationFor(c.Hardware.Name, c.Framework, c.Precision)
	}
	r := newRoofline(c.Model, c.Hardware, c.Precision, c.TP, cal)
	r.ep, r.dpAttn = c.EP, c.DPAttention
	return r
}

// Validate reports settings a real engine would refuse at startup,
// including weights that do not fit: the simulated out-of-memory.
func (c EngineConfig) Validate() error {
	switch {
	case c.TP < 1:
		return fmt.Errorf("tp %d: want at least 1", c.TP)
	case c.MaxNumSeqs < 1:
		return fmt.Errorf("max-num-seqs %d: want at least 1", c.MaxNumSeqs)
	case c.MaxNumBatchedTokens < 1:
		return fmt.Errorf("max-num-batched-tokens %d: want at least 1", c.MaxNumBatchedTokens)
	case c.MaxModelLen < 1 || c.MaxModelLen > c.Model.MaxModelLen:
		return fmt.Errorf("max-model-len %d: want 1 to %d for %s", c.MaxModelLen, c.Model.MaxModelLen, c.Model.Name)
	case c.GPUMemoryUtilization <= 0 || c.GPUMemoryUtilization > 1:
		return fmt.Errorf("gpu-memory-utilization %g: want (0, 1]", c.GPUMemoryUtilization)
	case c.EP > 1 && c.Model.Experts == 0:
		return fmt.Errorf("ep %d: %s is dense, expert parallelism needs a MoE model", c.EP, c.Model.Name)
	case c.EP > c.TP || (c.EP > 1 && c.TP%c.EP != 0):
		return fmt.Errorf("ep %d: the replica has tp %d GPUs; want an ep that divides tp (e.g. --tp %d --ep %d --dp-attn)", c.EP, c.TP, c.EP, c.EP)
	case c.CPUDRAMGB < 0:
		return fmt.Errorf("cpu-dram-gb %g: want 0 (no DRAM tier) or more", c.CPUDRAMGB)
	case c.CPUDRAMGB > 0 && c.NoPrefixCaching:
		return fmt.Errorf("cpu-dram-gb %g: the DRAM tier holds prefix-cache blocks; drop --no-enable-prefix-caching or --kv-offloading dram", c.CPUDRAMGB)
	}
	r := c.roofline()
	budget := c.Hardware.HBMGB * 1e9 * c.GPUMemoryUtilization
	if w := r.weightBytesPerGPU(); w >= budget {
		return &OOMError{Msg: fmt.Sprintf("CUDA out of memory: %s %s weights need %.1f GiB per GPU at TP %d; %s has %.1f GiB × %.2f usable",
			c.Model.Name, c.Precision, w/(1<<30), c.TP, c.Hardware.Name, c.Hardware.HBMGB*1e9/(1<<30), c.GPUMemoryUtilization)}
	}
	if blocks := kvBlocks(c, r); blocks*BlockSize < c.MaxModelLen {
		return &OOMError{Msg: fmt.Sprintf("the KV cache holds %d tokens, fewer than max-model-len %d: lower --max-model-len or raise --tp", blocks*BlockSize, c.MaxModelLen)}
	}
	return nil
}

// OOMError is a configuration that cannot start: a config error, not a
// node fault, so a sweep should not retry it elsewhere.
type OOMError struct{ Msg string }

func (e *OOMError) Error() string { return e.Msg }

func kvBlocks(c EngineConfig, r roofline) int {
	free := c.Hardware.HBMGB*1e9*c.GPUMemoryUtilization - r.weightBytesPerGPU()
	return int(free / r.kvBytesPerTokenPerGPU() / BlockSize)
}

// Sequence is one request inside the engine. Only the engine's goroutine
// touches it, except Stream, which is the handler's window onto it.
type Sequence struct {
	ID        uint64
	PromptLen int
	MaxTokens int

	computed  int // tokens whose KV is cached
	generated int // tokens sampled so far
	blocks    int

	Arrival     time.Duration // engine clock
	FirstToken  time.Duration
	LastToken   time.Duration
	Preemptions int
	Finished    bool
	Aborted     bool

	// RemotePrefill marks a request a prefill worker has prefilled: its
	// prompt's KV is read over the KV link instead of computed here.
	RemotePrefill bool
	// KVStart and KVReady are when its transfer began and landed.
	KVStart, KVReady time.Duration
	kvLanded         bool

	// BlockHashes key the prompt's full blocks in the prefix cache
	// (HashTokenBlocks); none, and the request neither reuses nor leaves
	// cached blocks.
	BlockHashes []uint64
	// CachedTokens of the prompt came from the prefix cache at its last
	// admission, DRAMTokens of them from the DRAM tier.
	CachedTokens, DRAMTokens int
	// cached are its first blocks' cache entries, in order (nil: a block
	// it holds privately); loadTime is what its DRAM hits add to the step
	// that schedules it.
	cached   []*kvBlock
	loadTime time.Duration

	Stream *Stream
}

// pending is how many tokens must be computed before the next sample: the
// rest of the prompt, one decode token, or after a preemption by
// recompute, the prompt and every token generated so far.
func (s *Sequence) pending() int { return s.PromptLen + s.generated - s.computed }

// Engine is vLLM V1's scheduler loop on a virtual clock: no goroutines,
// no sleeping, so tests step it deterministically. The server drives it in
// real time.
type Engine struct {
	cfg     EngineConfig
	rl      roofline
	total   int // KV blocks
	free    int
	waiting []*Sequence // FCFS; preempted requests return to the front
	running []*Sequence // in admission order
	clock   time.Duration
	// transferring hold their prompt's blocks while its KV arrives from a
	// prefill worker; linkFree is when each link lane is next idle.
	transferring []*Sequence
	linkFree     []time.Duration
	// cache is nil with prefix caching off; hostLink carries DRAM hits.
	cache    *prefixCache
	hostLink KVLink

	// Counters since start, in engine time.
	PromptTokens     int64
	GenerationTokens int64
	Preemptions      int64
	Finished         int64
	BusyTime         time.Duration
}

// NewEngine checks cfg and sizes the KV cache.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rl := cfg.roofline()
	blocks := kvBlocks(cfg, rl)
	// A DP-attention rank receives its requests' KV over its own link.
	lanes := 1
	if cfg.DPAttention {
		lanes = cfg.TP
	}
	e := &Engine{cfg: cfg, rl: rl, total: blocks, free: blocks, linkFree: make([]time.Duration, lanes)}
	if cfg.NoPrefixCaching {
		return e, nil
	}
	e.cache = newPrefixCache(DRAMBlocks(cfg))
	e.hostLink = cfg.HostLink
	if e.hostLink.GBs == 0 && cfg.CPUDRAMGB > 0 {
		var err error
		if e.hostLink, err = HostLinkFor(cfg.Hardware.Name); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// KVCapacityTokens is how many tokens the cache holds.
func (e *Engine) KVCapacityTokens() int { return e.total * BlockSize }

// Clock is the engine's time.
func (e *Engine) Clock() time.Duration { return e.clock }

// AdvanceTo moves an idle engine's clock forward (never back).
func (e *Engine) AdvanceTo(t time.Duration) {
	if t > e.clock {
		e.clock = t
	}
}

// Add queues a request at the current clock.
func (e *Engine) Add(s *Sequence) {
	s.Arrival = e.clock
	e.waiting = append(e.waiting, s)
}

// Running and Waiting are the queue depths vLLM reports.
func (e *Engine) Running() int { return len(e.running) }
func (e *Engine) Waiting() int { return len(e.waiting) }

// KVUsage is the fraction of KV blocks in use.
func (e *Engine) KVUsage() float64 { return float64(e.total-e.free) / float64(e.total) }

// Idle tells whether there is nothing to compute and nothing in flight.
func (e *Engine) Idle() bool {
	return len(e.running) == 0 && len(e.waiting) == 0 && len(e.transferring) == 0
}

// StepResult says what one step did.
type StepResult struct {
	Duration    time.Duration
	Utilization float64
	// Emitted are the sequences that sampled a token this step, at the
	// step's end (FirstToken or LastToken tells when).
	Emitted   []*Sequence
	Finished  []*Sequence
	Preempted []*Sequence
	Batch     int // requests in the step
	Tokens    int // tokens computed
}

func blocksFor(tokens int) int { return (tokens + BlockSize - 1) / BlockSize }

// Step schedules and runs one batch, advancing the clock by its duration.
// An idle engine returns a zero result.
func (e *Engine) Step() StepResult {
	var res StepResult
	e.dropAborted()
	e.landTransfers()
	budget := e.cfg.MaxNumBatchedTokens
	// The batch is built here, not in a helper, so that its backing
	// array can stay on the stack: one a helper returns escapes to the heap.
	var batch []scheduled

	// Running requests first, oldest first: one token for a decode, a
	// chunk for an unfinished prefill.
	for i := 0; i < len(e.running) && budget > 0; i++ {
		s := e.running[i]
		n := min(s.pending(), budget)
		if !e.makeRoom(s, n, &res) {
			break
		}
		batch = append(batch, scheduled{s, n})
		budget -= n
	}

	// Then new requests, first come first served, while nothing was
	// preempted this step (vLLM does not admit while it is evicting).
	for len(res.Preempted) == 0 && len(e.waiting) > 0 && len(e.running) < e.cfg.MaxNumSeqs && budget > 0 {
		s := e.waiting[0]
		if s.RemotePrefill && !s.kvLanded {
			if !e.startTransfer(s) {
				break
			}
			continue
		}
		n, ok := e.admit(s, budget)
		if !ok {
			break
		}
		e.waiting = e.waiting[1:]
		e.running = append(e.running, s)
		batch = append(batch, scheduled{s, n})
		budget -= n
	}
	if len(batch) == 0 {
		return res
	}

	e.runBatch(batch, &res)
	e.sampleBatch(batch, &res)
	if len(res.Finished) > 0 {
		e.removeFinished()
	}
	return res
}

// scheduled is one request's share of a step: n tokens to compute.
type scheduled struct {
	seq *Sequence
	n   int
}

// reserve takes the KV blocks s needs for n more tokens, if enough are
// free.
func (e *Engine) reserve(s *Sequence, n int) bool {
	need := blocksFor(s.computed+n) - s.blocks
	if need > e.free {
		return false
	}
	// Free blocks that are not cached go first, then the least recently
	// used cached ones (vLLM's free queue).
	for e.cache != nil && e.free-e.cache.lru.n < need {
		e.cache.evict()
	}
	e.free -= need
	s.blocks += need
	return true
}

// makeRoom reserves the blocks a running request s needs for n more
// tokens, preempting the newest running requests (by recompute) until
// they fit. The newest is always s or one after it, so nothing already
// scheduled this step is undone. It reports false when s itself was
// preempted.
func (e *Engine) makeRoom(s *Sequence, n int, res *StepResult) bool {
	for !e.reserve(s, n) {
		victim := e.running[len(e.running)-1]
		e.preempt(victim)
		res.Preempted = append(res.Preempted, victim)
		if victim == s {
			return false
		}
	}
	return true
}

// runBatch prices the batch on the roofline and advances the clock by its
// duration.
func (e *Engine) runBatch(batch []scheduled, res *StepResult) {
	work := make([]work, len(batch))
	var load time.Duration
	for i, b := range batch {
		work[i].n, work[i].ctx = b.n, b.seq.computed
		res.Tokens += b.n
		load += b.seq.loadTime
		b.seq.loadTime = 0
	}
	cost := e.rl.step(work)
	if load > 0 {
		// DRAM hits are copied in before the forward pass that needs them.
		cost.utilization *= float64(cost.duration) / float64(cost.duration+load)
		cost.duration += load
	}
	e.clock += cost.duration
	e.BusyTime += cost.duration
	res.Duration, res.Utilization, res.Batch = cost.duration, cost.utilization, len(batch)
}

// sampleBatch commits the batch's computed tokens and samples one token
// for every request with nothing left pending, stamped at the step's end.
func (e *Engine) sampleBatch(batch []scheduled, res *StepResult) {
	for _, b := range batch {
		s := b.seq
		if s.generated == 0 {
			e.PromptTokens += int64(min(b.n, s.PromptLen-s.computed))
		}
		s.computed += b.n
		if e.cache != nil {
			e.commit(s)
		}
		if s.pending() > 0 {
			continue // prefill continues next step
		}
		s.generated++
		e.GenerationTokens++
		if s.generated == 1 {
			s.FirstToken = e.clock
		}
		s.LastToken = e.clock
		res.Emitted = append(res.Emitted, s)
		if s.generated >= s.MaxTokens {
			s.Finished = true
			res.Finished = append(res.Finished, s)
		}
	}
}

func (e *Engine) preempt(s *Sequence) {
	e.release(s)
	s.computed = 0
	s.Preemptions++
	e.Preemptions++
	for i, r := range e.running {
		if r == s {
			e.running = append(e.running[:i], e.running[i+1:]...)
			break
		}
	}
	e.waiting = append([]*Sequence{s}, e.waiting...)
}

func (e *Engine) removeFinished() {
	kept := e.running[:0]
	for _, s := range e.running {
		if s.Finished {
			e.release(s)
			e.Finished++
			continue
		}
		kept = append(kept, s)
	}
	clear(e.running[len(kept):])
	e.running = kept
}

// dropAborted releases requests whose client went away.
func (e *Engine) dropAborted() {
	keep := func(list []*Sequence) []*Sequence {
		kept := list[:0]
		for _, s := range list {
			if s.Stream != nil && s.Stream.aborted.Load() {
				s.Aborted = true
				e.release(s)
				continue
			}
			kept = append(kept, s)
		}
		clear(list[len(kept):])
		return kept
	}
	e.running = keep(e.running)
	e.waiting = keep(e.waiting)
	e.transferring = keep(e.transferring)
}

// PowerWatts models per-GPU power from how busy the last step kept it:
// idle draw is about a fifth of the board limit on current accelerators.
func (e *Engine) PowerWatts(utilization float64) float64 {
	tdp := e.cfg.Hardware.TDPkW * 1000
	idle := 0.2 * tdp
	return idle + (tdp-idle)*math.Max(0, math.Min(1, utilization))
}
