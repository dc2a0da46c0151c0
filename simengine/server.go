package simengine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ServerConfig is one simulated engine process.
type ServerConfig struct {
	Engine EngineConfig
	// ServedModelName is the id clients send and /v1/models lists.
	ServedModelName string
	// TimeScale > 1 runs the engine that many times faster than real time.
	// Its own metrics (/metrics, /debug/requests timings excepted) are in
	// simulated time.
	TimeScale    float64
	StartupDelay time.Duration
	Faults       Faults
	// RecordChunks keeps the wall-clock time of every chunk written, for
	// /debug/requests (8 bytes per token).
	RecordChunks bool
	// Accuracy p in [0, 1] makes the engine answer questions of the
	// generated arithmetic set, right with probability p (answer.go); 0
	// keeps filler tokens for every prompt.
	Accuracy float64
	// Role is the engine's part in a disaggregated deployment.
	Role   Role
	Logger *slog.Logger
}

// Stream is the handler's view of one sequence: the scheduler publishes
// token counts, the handler writes them out.
type Stream struct {
	sampled  atomic.Int64
	finished atomic.Bool
	aborted  atomic.Bool
	notify   chan struct{}

	lastTokenSim time.Duration // scheduler-owned, for ITL histograms
	// direct is the hijacked response the stream's tokens go to, or nil
	// when a handler goroutine writes them (direct.go).
	direct *directStream
}

func (s *Stream) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// StartupError is a failed engine start (injected or a real OOM).
type StartupError struct{ Msg string }

func (e *StartupError) Error() string { return e.Msg }

// CrashError is the injected crash of a running engine.
type CrashError struct{ After int }

func (e *CrashError) Error() string {
	return fmt.Sprintf("RuntimeError: CUDA error: an illegal memory access was encountered (simulated crash after %d requests)", e.After)
}

// Server is the simulated engine behind an OpenAI-compatible HTTP API.
type Server struct {
	cfg    ServerConfig
	engine *Engine
	dice   *dice
	start  time.Time
	ready  atomic.Bool
	nextID atomic.Uint64
	// nextBlock numbers the KV blocks a prefill worker hands to decode.
	nextBlock atomic.Int64
	// stopped closes when Run returns, so handlers waiting for tokens
	// give up instead of holding their connections forever.
	stopped chan struct{}

	// fault is what this engine drew from its fault plan; requests
	// counts arrivals for the fault's trigger.
	fault    drawn
	requests atomic.Int64

	mu       sync.Mutex // guards incoming, metrics, debug
	incoming []*Sequence
	wake     chan struct{}
	metrics  metricsState
	debug    []DebugRequest
	lags     []time.Duration

	direct directStreams
}

// DebugRequest is the server-side truth about one finished request.
type DebugRequest struct {
	ID uint64 `json:"id"`
	// RequestID is the client's X-Request-Id header, when it sent one.
	RequestID        string  `json:"request_id,omitempty"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	ArrivalNs        int64   `json:"arrival_ns"`  // wall clock since server start
	ChunkNs          []int64 `json:"chunk_ns"`    // when each content chunk was flushed
	Preemptions      int     `json:"preemptions"` // recomputes this request suffered
	// TTFTSimNs is arrival to first token on the engine's own clock
	// (simulated time), KV transfer included; KVTransferSimNs is the
	// transfer's share, waiting for the link included.
	TTFTSimNs       int64 `json:"ttft_sim_ns"`
	KVTransferSimNs int64 `json:"kv_transfer_sim_ns,omitempty"`
	// CachedTokens of the prompt came from the prefix cache, DRAMTokens
	// of those from the DRAM tier.
	CachedTokens int `json:"cached_tokens,omitempty"`
	DRAMTokens   int `json:"dram_tokens,omitempty"`
}

// maxDebugRequests bounds /debug/requests memory.
const maxDebugRequests = 100_000

// NewServer builds the engine; an impossible config (weights that do not
// fit, say) fails here, as it would at engine startup.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.TimeScale <= 0 {
		return nil, fmt.Errorf("time-scale %g: want > 0", cfg.TimeScale)
	}
	if err := cfg.Faults.Validate(); err != nil {
		return nil, err
	}
	if !(cfg.Accuracy >= 0 && cfg.Accuracy <= 1) {
		return nil, fmt.Errorf("accuracy %g: want a probability from 0 to 1", cfg.Accuracy)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	engine, err := NewEngine(cfg.Engine)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, engine: engine, dice: newDice(cfg.Faults.Seed), wake: make(chan struct{}, 1), stopped: make(chan struct{}), metrics: newMetricsState()}, nil
}

// Run waits out the startup delay, becomes ready, and runs the scheduler
// until ctx ends (nil), an injected crash (*CrashError) or an injected
// startup failure (*StartupError).
func (s *Server) Run(ctx context.Context) error {
	defer close(s.stopped)
	s.start = time.Now()
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(s.cfg.StartupDelay):
	}
	var err error
	if s.fault, err = s.cfg.Faults.Plan.drawAndRecord(s.dice); err != nil {
		s.cfg.Logger.Warn("fault not recorded", "error", err)
	}
	if s.fault.kind == "startup" || s.dice.hit(s.cfg.Faults.FailStartupProb) {
		return &StartupError{Msg: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (simulated by --fail-startup-prob)"}
	}
	s.cfg.Logger.Info("engine ready", "model", s.cfg.ServedModelName, "kv_cache_tokens", s.engine.KVCapacityTokens(),
		"max_concurrency_at_max_model_len", float64(s.engine.KVCapacityTokens())/float64(s.cfg.Engine.MaxModelLen),
		"prefix_caching", !s.cfg.Engine.NoPrefixCaching, "dram_tier_tokens", DRAMBlocks(s.cfg.Engine)*BlockSize)
	s.ready.Store(true)
	return s.loop(ctx)
}

// simNow is the engine time that corresponds to the wall clock now.
func (s *Server) simNow() time.Duration {
	return time.Duration(float64(time.Since(s.start)) * s.cfg.TimeScale)
}

func (s *Server) loop(ctx context.Context) error {
	readyAt := s.simNow()
	wallBase, simBase := time.Now(), readyAt
	s.engine.AdvanceTo(readyAt)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		arrivals := s.incoming
		s.incoming = nil
		s.mu.Unlock()
		if len(arrivals) > 0 && s.engine.Running() == 0 && s.engine.Waiting() == 0 {
			// An idle engine's clock catches up with the wall clock, also
			// while KV transfers are in flight: they land on their own
			// schedule.
			s.engine.AdvanceTo(simBase + time.Duration(float64(time.Since(wallBase))*s.cfg.TimeScale))
		}
		for _, seq := range arrivals {
			s.engine.Add(seq)
		}
		if s.engine.Idle() {
			select {
			case <-ctx.Done():
				return nil
			case <-s.wake:
				continue
			}
		}

		before := s.engine.Clock()
		res := s.engine.Step()
		if at, ok := s.engine.NextKVArrival(); ok && res.Batch == 0 {
			if !s.awaitKV(ctx, at, wallBase, simBase) {
				return nil
			}
			continue
		}
		if res.Batch == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-s.wake:
				continue
			}
		}
		if s.cfg.Faults.SlowStart > 0 && before-readyAt < time.Duration(float64(s.cfg.Faults.SlowStart)*s.cfg.TimeScale) {
			s.engine.AdvanceTo(before + slowStartFactor*res.Duration)
		}
		// Sleep to an absolute deadline so step errors never accumulate.
		deadline := wallBase.Add(time.Duration(float64(s.engine.Clock()-simBase) / s.cfg.TimeScale))
		if wait := time.Until(deadline); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
		}
		lag := time.Since(deadline)
		s.publish(res, lag)
		if n := s.cfg.Faults.CrashAfterRequests; n > 0 && s.engine.Finished >= int64(n) {
			return &CrashError{After: n}
		}
		if s.fault.kind == "crash" && s.engine.Finished >= int64(s.fault.at) {
			return &CrashError{After: s.fault.at}
		}
	}
}

// publish hands tokens to the streams and updates the metrics.
func (s *Server) publish(res StepResult, lag time.Duration) {
	s.mu.Lock()
	m := &s.metrics
	m.running, m.waiting, m.kvUsage = s.engine.Running(), s.engine.Waiting(), s.engine.KVUsage()
	m.powerWatts = s.engine.PowerWatts(res.Utilization)
	m.promptTokens, m.generationTokens = s.engine.PromptTokens, s.engine.GenerationTokens
	m.preemptions, m.success = s.engine.Preemptions, s.engine.Finished
	m.cache, m.dramBlocksUsed = s.engine.CacheStats(), s.engine.DRAMBlocksUsed()
	if len(s.lags) < 1_000_000 {
		s.lags = append(s.lags, lag)
	}
	for _, seq := range res.Emitted {
		st := seq.Stream
		if seq.generated == 1 {
			m.ttft.observe((seq.FirstToken - seq.Arrival).Seconds())
		} else {
			m.itl.observe((seq.LastToken - st.lastTokenSim).Seconds())
		}
		st.lastTokenSim = seq.LastToken
		if seq.Finished {
			m.e2e.observe((seq.LastToken - seq.Arrival).Seconds())
		}
	}
	s.mu.Unlock()
	direct := false
	for _, seq := range res.Emitted {
		st := seq.Stream
		st.sampled.Store(int64(seq.generated))
		if seq.Finished {
			st.finished.Store(true)
		}
		if st.direct != nil {
			s.queueDirect(st.direct)
			direct = true
		} else {
			st.wake()
		}
	}
	if direct {
		s.dispatchDirect()
	}
}

// DebugRequests is the server-side record of finished requests.
func (s *Server) DebugRequests() []DebugRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DebugRequest(nil), s.debug...)
}

// StepLag reports how late steps ended against their deadlines, wall clock.
func (s *Server) StepLag() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.lags...)
}

func (s *Server) submit(seq *Sequence) {
	s.mu.Lock()
	s.incoming = append(s.incoming, seq)
	s.mu.Unlock()
	s.poke()
}

func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Handler serves vLLM's HTTP API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": "0.11.0+infersweep-sim"})
	})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{{
			"id": s.cfg.ServedModelName, "object": "model", "created": s.start.Unix(), "owned_by": "infersweep-sim",
			"root": s.cfg.Engine.Model.Name, "max_model_len": s.cfg.Engine.MaxModelLen,
		}}})
	})
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	mux.HandleFunc("GET /debug/requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.DebugRequests())
	})
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { s.serveGenerate(w, r, false) })
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { s.serveGenerate(w, r, true) })
	return mux
}

func (s *Server) serveGenerate(w http.ResponseWriter, r *http.Request, chat bool) {
	if !s.ready.Load() {
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the engine is starting")
		return
	}
	req, prompt, maxTokens, hashes, ok := s.readGenerateRequest(w, r, chat)
	if !ok {
		return
	}
	nth := int(s.requests.Add(1))
	if s.dice.hit(s.cfg.Faults.ErrorRate) || (s.fault.kind == "error" && nth == s.fault.at) {
		writeError(w, http.StatusInternalServerError, "InternalServerError", "simulated engine error (--error-rate)")
		return
	}
	kv, err := s.kvTransfer(req.KVTransferParams)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", err.Error())
		return
	}
	output, finish, stallAt := s.planOutput(req.IgnoreEOS, maxTokens, nth)
	text, answered := s.answerText(&req, chat)
	if answered {
		// A recognised question is answered in full, as a model stops at
		// EOS, unless max_tokens cuts it short.
		output, finish = textTokens(text), "stop"
		if output > maxTokens {
			output, finish, text = maxTokens, "length", text[:maxTokens*4]
		}
		stallAt = min(stallAt, output)
	}

	id := s.nextID.Add(1)
	stream := &Stream{}
	seq := &Sequence{ID: id, PromptLen: prompt, MaxTokens: output, Stream: stream, RemotePrefill: kv.DoRemotePrefill, BlockHashes: hashes}
	arrival := time.Since(s.start)
	g := generation{srv: s, w: w, r: r, chat: chat, id: id, prompt: prompt, output: output, text: text, finish: finish, stallAt: stallAt,
		includeUsage: req.StreamOptions.IncludeUsage, stream: stream}
	if kv.DoRemoteDecode {
		g.kvParams = s.handOff(r, prompt)
	}
	if req.Stream && s.startDirect(&g, seq, arrival) {
		return
	}
	stream.notify = make(chan struct{}, 1)
	s.submit(seq)
	var chunkTimes []int64
	if req.Stream {
		chunkTimes = g.streamOut()
	} else {
		g.respondWhole()
	}
	if !stream.finished.Load() {
		stream.aborted.Store(true)
		s.poke() // so the scheduler frees the blocks
		return
	}
	s.recordRequest(id, r.Header.Get("X-Request-Id"), seq, arrival, prompt, output, chunkTimes)
}

// recordRequest keeps a finished request for /debug/requests.
func (s *Server) recordRequest(id uint64, requestID string, seq *Sequence, arrival time.Duration, prompt, output int, chunkTimes []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.debug) < maxDebugRequests {
		s.debug = append(s.debug, DebugRequest{ID: id, RequestID: requestID, PromptTokens: prompt, CompletionTokens: output, ArrivalNs: arrival.Nanoseconds(), ChunkNs: chunkTimes, Preemptions: seq.Preemptions,
			TTFTSimNs: int64(seq.FirstToken - seq.Arrival), KVTransferSimNs: int64(seq.kvWait()), CachedTokens: seq.CachedTokens, DRAMTokens: seq.DRAMTokens})
	}
}

// planOutput decides up front, before the request is queued, how many
// tokens the nth request produces, why it stops, and after how many
// tokens (0: never) an injected stall freezes its stream. The dice roll in
// a fixed order (EOS, then stall), so a seeded sim replays the same
// outputs and faults.
func (s *Server) planOutput(ignoreEOS bool, maxTokens, nth int) (output int, finish string, stallAt int) {
	output, finish = maxTokens, "length"
	if !ignoreEOS {
		// Without ignore_eos the model may stop early: an EOS lands
		// uniformly in the allowed length.
		if output = s.dice.between1(maxTokens); output < maxTokens {
			finish = "stop"
		}
	}
	if s.dice.hit(s.cfg.Faults.StallProb) || (s.fault.kind == "stall" && nth == s.fault.at) {
		stallAt = s.dice.between1(output)
	}
	return output, finish, stallAt
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in vLLM's error shape.
func writeError(w http.ResponseWriter, status int, kind, msg string) {
	writeJSON(w, status, map[string]any{"object": "error", "message": msg, "type": kind, "param": nil, "code": status})
}
