package loadgen

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ReplayConfig is one trace replay against one server: Sessions lanes,
// each running one session of the trace at a time, turn after turn.
type ReplayConfig struct {
	BaseURL string
	APIKey  string
	// Workload gives the model, API, vocabulary and seed; its lengths are
	// unused (the trace gives them).
	Workload Workload
	Trace    *Trace
	// Sessions is the concurrency: sessions in progress at once. A
	// session's sub-agents run inside its lane, so more requests than
	// Sessions may be in flight.
	Sessions int
	// Duration bounds the measured window: no request is sent after it.
	Duration time.Duration
	// WarmupPerLane requests of every lane come first; the measured
	// window opens when the last lane has finished its warm-ups, and only
	// requests sent after that count.
	WarmupPerLane int
	// MaxIdleGap caps every idle gap between turns; 0 keeps them as
	// recorded.
	MaxIdleGap time.Duration
	// StartFraction [lo, hi]: the first session of each lane starts at a
	// turn drawn uniformly from lo to hi of its length, its earlier turns
	// sent as context of the first request, so a run starts in steady
	// state instead of with every session at turn 0. [0, 0] starts at
	// turn 0.
	StartFraction  [2]float64
	RequestTimeout time.Duration
	StallTimeout   time.Duration
	Goodput        SLO
	// TimeScale: the engine runs this many times faster than real time;
	// idle gaps are divided by it and results reported in simulated time.
	TimeScale     float64
	ScrapeMetrics bool
	// GPUs, when set, gives token throughput per GPU as well.
	GPUs       int
	OnProgress func(Progress)
	Metadata   map[string]string
}

// WithDefaults fills unset fields.
func (c ReplayConfig) WithDefaults() ReplayConfig {
	defaultTimes(&c.RequestTimeout, &c.StallTimeout, &c.TimeScale)
	return c
}

// Validate names the first setting that cannot work.
func (c ReplayConfig) Validate() error {
	w := c.Workload
	lo, hi := c.StartFraction[0], c.StartFraction[1]
	switch {
	case c.Trace == nil || len(c.Trace.Sessions) == 0:
		return errors.New("trace: no sessions to replay")
	case w.Model == "":
		return errors.New("model is empty")
	case w.API != APICompletions && w.API != APIChat:
		return fmt.Errorf("api %q: want completions or chat", w.API)
	case w.VocabMin < 0 || w.VocabMax-w.VocabMin < 256:
		return fmt.Errorf("vocab range [%d, %d): want at least 256 ids", w.VocabMin, w.VocabMax)
	case c.Sessions < 1:
		return fmt.Errorf("sessions %d: want at least 1 concurrent session", c.Sessions)
	case c.Duration <= 0:
		return fmt.Errorf("duration %s: a trace replay needs a bound on its measured window", c.Duration)
	case c.WarmupPerLane < 0:
		return fmt.Errorf("warmup-per-lane %d: want 0 or more", c.WarmupPerLane)
	case c.MaxIdleGap < 0:
		return fmt.Errorf("max-idle-gap %s: want 0 (no cap) or more", c.MaxIdleGap)
	case !(lo >= 0 && lo <= hi && hi < 1):
		return fmt.Errorf("start-fraction %g:%g: want 0 ≤ lo ≤ hi < 1", lo, hi)
	case c.TimeScale <= 0:
		return fmt.Errorf("time-scale %g: want > 0", c.TimeScale)
	case c.GPUs < 0:
		return fmt.Errorf("gpus %d: want 0 (not given) or more", c.GPUs)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Metadata)) {
		if err := checkMetadata(k, c.Metadata[k]); err != nil {
			return err
		}
	}
	return nil
}

// runConfig is the Config the shared request machinery reads.
func (c ReplayConfig) runConfig() Config {
	most := 1
	for i := range c.Trace.Sessions {
		most = max(most, c.Trace.Sessions[i].fanOut())
	}
	w := c.Workload
	w.InputLen, w.OutputLen, w.RangeRatio, w.RangeMode, w.PrefixLen = 0, 0, 0, "", 0
	return Config{
		BaseURL: c.BaseURL, APIKey: c.APIKey, Workload: w,
		MaxConcurrency: c.Sessions * most, RequestRate: math.Inf(1), Burstiness: 1, Duration: c.Duration,
		RequestTimeout: c.RequestTimeout, StallTimeout: c.StallTimeout, TimeScale: c.TimeScale, Goodput: c.Goodput,
		OnProgress: c.OnProgress, Metadata: c.Metadata,
	}
}

// replayer drives the lanes of one replay.
type replayer struct {
	cfg   ReplayConfig
	r     *runner
	index *prefixIndex

	nextSession atomic.Int64
	nextRequest atomic.Int64
	warmLanes   atomic.Int64
	capped      atomic.Int64
	warmups     atomic.Int64

	measuring chan struct{} // closed when the measured window opens
	t0        time.Time     // set before measuring is closed
	scraper   *scraper

	mu       sync.Mutex
	records  []Record
	sessions sessionCounts
}

type sessionCounts struct {
	started, completed, aborted int
	// latencies of the completed sessions replayed from their first turn
	// inside the window: first request sent to last answer, idle gaps
	// (as replayed) and sub-agents included.
	latencies []int64
}

// Replay drives a trace against cfg.BaseURL and returns what the measured
// window saw: the usual Summary with its Agentic figures, and every
// measured request with its session and turn. Lane n opens with session
// n; later sessions go to whichever lane is free, in Start order, and when
// the trace runs out it starts over: unique inputs and answers get new
// ids on each pass, shared content and mooncake blocks keep theirs, so a
// second pass hits the cache only where the trace shares content. Like Run, the error is
// non-nil only when the replay could not start, was cancelled, or every
// measured request failed (ErrAllFailed); the Result comes with it.
func Replay(ctx context.Context, cfg ReplayConfig) (*Result, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := cfg.runConfig()
	rp := &replayer{cfg: cfg, r: newRunner(base), index: newPrefixIndex(), measuring: make(chan struct{})}
	defer rp.r.client.CloseIdleConnections()
	stopProgress := rp.r.reportProgress(ctx)
	defer stopProgress()

	begun := time.Now()
	rp.r.started = begun
	cpuBefore := cpuTime()
	rp.r.warmup.Store(cfg.WarmupPerLane > 0)
	if cfg.WarmupPerLane == 0 {
		rp.open(ctx)
	}
	rp.nextSession.Store(int64(cfg.Sessions))
	var wg sync.WaitGroup
	for lane := range cfg.Sessions {
		wg.Go(func() { rp.lane(ctx, lane) })
	}
	wg.Wait()
	end := time.Now()
	cpu := cpuTime() - cpuBefore

	select {
	case <-rp.measuring:
	default:
		return nil, fmt.Errorf("cancelled during warm-up (%d requests sent): %w", rp.warmups.Load(), context.Cause(ctx))
	}
	res := &Result{Records: rp.records}
	if rp.scraper != nil {
		res.Metrics = rp.scraper.stop()
	}
	window := end.Sub(rp.t0)
	shift := rp.t0.Sub(begun)
	for i := range res.Records {
		res.Records[i].SendTime -= shift
		res.Records[i].ScheduledTime -= shift
	}
	slices.SortStableFunc(res.Records, func(a, b Record) int { return int(a.SendTime - b.SendTime) })
	agentic := rp.agentic(res.Records, res.Metrics, window)
	res.Summary = summarizeRun(base, res.Records, rp.t0, window, clientStats{cpu: cpu, connections: rp.r.conns.Load(), peak: rp.r.peak.Load()})
	res.Summary.NumPrompts, res.Summary.MaxConcurrency, res.Summary.NumWarmups = len(res.Records), cfg.Sessions, int(rp.warmups.Load())
	res.Summary.Agentic = agentic
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("cancelled after %d measured requests: %w", len(res.Records), err)
	}
	if res.Summary.Completed == 0 {
		return res, ErrAllFailed
	}
	return res, nil
}

// open starts the measured window.
func (rp *replayer) open(ctx context.Context) {
	rp.t0 = time.Now()
	if rp.cfg.ScrapeMetrics {
		rp.scraper = startScraper(ctx, rp.r.client, rp.cfg.BaseURL+"/metrics")
	}
	rp.r.done.Store(0)
	rp.r.failed.Store(0)
	rp.r.outTokens.Store(0)
	rp.r.peak.Store(rp.r.inFlight.Load())
	rp.r.warmup.Store(false)
	close(rp.measuring)
}

func (rp *replayer) measured() bool {
	select {
	case <-rp.measuring:
		return true
	default:
		return false
	}
}

// deadline is when sending stops; zero before the window opens.
func (rp *replayer) deadline() time.Time {
	if !rp.measured() {
		return time.Time{}
	}
	return rp.t0.Add(rp.cfg.Duration)
}

// lane runs sessions one after the other until the deadline or ctx ends.
type lane struct {
	sent atomic.Int64
	warm func()
}

func (rp *replayer) lane(ctx context.Context, n int) {
	l := &lane{warm: sync.OnceFunc(func() {
		if int(rp.warmLanes.Add(1)) == rp.cfg.Sessions {
			rp.open(ctx)
		}
	})}
	sessions := rp.cfg.Trace.Sessions
	rng := rand.New(rand.NewPCG(rp.cfg.Workload.Seed, uint64(n)+1<<32))
	// Lane n opens with the trace's session n, so which sessions start
	// part-way does not depend on which goroutine runs first.
	for i, first := n, true; ctx.Err() == nil; i, first = int(rp.nextSession.Add(1)-1), false {
		s := &sessions[i%len(sessions)]
		// Passes over the trace after the first get keys of their own,
		// so a session replayed again does not hit the cache it left;
		// shared content and mooncake blocks keep theirs.
		key := s.ID
		if pass := i / len(sessions); pass > 0 {
			key += "#" + strconv.Itoa(pass)
		}
		start := 0
		if lo, hi := rp.cfg.StartFraction[0], rp.cfg.StartFraction[1]; first && hi > 0 {
			start = int((lo + rng.Float64()*(hi-lo)) * float64(len(s.Turns)))
		}
		if rp.runSession(ctx, l, s, key, start, true) == stopLane {
			return
		}
	}
}

type outcome int

const (
	completed outcome = iota
	aborted           // a request failed: the session cannot go on without its answer
	stopLane          // the deadline passed or ctx ended
)

// runSession sends a session's turns from start on, each after its idle
// gap, with its sub-agents after the turns that spawn them.
func (rp *replayer) runSession(ctx context.Context, l *lane, s *Session, key string, start int, top bool) outcome {
	conv := &conversation{w: &rp.cfg.Workload}
	for i := range start {
		conv.appendInput(s.Turns[i].Shared, inputKey(key, i), s.Turns[i].InputTokens)
		conv.appendAnswer(answerKey(key, i), s.Turns[i].OutputTokens)
	}
	counted := false
	var firstSent time.Time
	ready := time.Now()
	for i := start; i < len(s.Turns); i++ {
		turn := &s.Turns[i]
		gap := time.Duration(0)
		if i > start {
			gap = rp.gap(turn.Gap)
		}
		conv.appendInput(turn.Shared, inputKey(key, i), turn.InputTokens)
		body, err := conv.body(turn.OutputTokens)
		if err != nil {
			return aborted
		}
		if !rp.waitUntil(ctx, ready.Add(gap)) {
			return stopLane
		}
		if top && !counted && rp.measured() {
			counted = true
			rp.countSession(func(c *sessionCounts) { c.started++ })
			if i == 0 {
				firstSent = time.Now()
			}
		}
		rec, ok := rp.send(ctx, l, conv, body, key, i, turn.OutputTokens)
		if !ok {
			if counted {
				rp.countSession(func(c *sessionCounts) { c.aborted++ })
			}
			return aborted
		}
		conv.appendAnswer(answerKey(key, i), rec.OutputTokens)
		// The gap runs from the answer's last token, as a trace records it,
		// not from the end of the stream's trailing usage and [DONE].
		ready = rp.r.started.Add(rec.SendTime + rec.E2EL)
		if len(turn.SubAgents) > 0 {
			if rp.subAgents(ctx, l, turn.SubAgents, key) == stopLane {
				return stopLane
			}
			ready = time.Now()
		}
	}
	if counted {
		rp.countSession(func(c *sessionCounts) {
			c.completed++
			if !firstSent.IsZero() {
				c.latencies = append(c.latencies, int64(ready.Sub(firstSent)))
			}
		})
	}
	return completed
}

// subAgents runs a turn's sub-agents side by side and waits for them.
func (rp *replayer) subAgents(ctx context.Context, l *lane, subs []Session, parent string) outcome {
	if len(subs) == 0 {
		return completed
	}
	outs := make([]outcome, len(subs))
	var wg sync.WaitGroup
	for j := range subs {
		wg.Go(func() { outs[j] = rp.runSession(ctx, l, &subs[j], parent+"/"+subs[j].ID, 0, false) })
	}
	wg.Wait()
	if slices.Contains(outs, stopLane) {
		return stopLane
	}
	return completed
}

func inputKey(session string, turn int) string {
	return "i/" + session + "/" + strconv.Itoa(turn)
}

func answerKey(session string, turn int) string {
	return "a/" + session + "/" + strconv.Itoa(turn)
}

// gap is a recorded idle gap as replayed: capped, then in the engine's time.
func (rp *replayer) gap(recorded time.Duration) time.Duration {
	if rp.cfg.MaxIdleGap > 0 && recorded > rp.cfg.MaxIdleGap {
		recorded = rp.cfg.MaxIdleGap
		rp.capped.Add(1)
	}
	return time.Duration(float64(recorded) / rp.cfg.TimeScale)
}

// waitUntil sleeps to an absolute instant; false when the deadline comes
// first or ctx ends, and nothing more may be sent.
func (rp *replayer) waitUntil(ctx context.Context, at time.Time) bool {
	if d := rp.deadline(); !d.IsZero() && at.After(d) {
		return false
	}
	if wait := time.Until(at); wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
	}
	d := rp.deadline()
	return ctx.Err() == nil && (d.IsZero() || time.Now().Before(d))
}

// send performs one turn's request and files its record, measured or
// warm-up; false when it failed.
func (rp *replayer) send(ctx context.Context, l *lane, conv *conversation, body []byte, session string, turn, maxTokens int) (*Record, bool) {
	measured := rp.measured()
	rec := &Record{SessionID: session, Turn: turn, EstCachedTokens: rp.index.send(conv.segs)}
	p := Prompt{Index: int(rp.nextRequest.Add(1) - 1), InputTokens: len(conv.ids), OutputTokens: maxTokens, Body: body}
	rp.r.send(ctx, &p, rec, 0)
	if measured {
		rp.mu.Lock()
		rp.records = append(rp.records, *rec)
		rp.mu.Unlock()
	} else {
		rp.warmups.Add(1)
	}
	if rp.cfg.WarmupPerLane > 0 && int(l.sent.Add(1)) >= rp.cfg.WarmupPerLane {
		l.warm()
	}
	return rec, rec.OK()
}

func (rp *replayer) countSession(f func(*sessionCounts)) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	f(&rp.sessions)
}
