package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is everything one run measured.
type Result struct {
	Summary Summary
	Records []Record
	Metrics *ScrapedMetrics // nil unless ScrapeMetrics
}

// ErrAllFailed is returned, with the Result, when no request completed.
var ErrAllFailed = errors.New("every measured request failed")

type runner struct {
	cfg    Config
	client *http.Client
	url    string

	readers sync.Pool

	started   time.Time // start of the measured window
	done      atomic.Int64
	failed    atomic.Int64
	inFlight  atomic.Int64
	peak      atomic.Int64
	conns     atomic.Int64
	outTokens atomic.Int64
	warmup    atomic.Bool
	total     atomic.Int64
}

// Run drives one load against cfg.BaseURL. It returns the Result even when
// requests failed; the error is non-nil only when the run could not start,
// was cancelled, or every measured request failed (ErrAllFailed).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Bodies are built before any clock starts.
	warmups, err := cfg.Workload.Prompts(cfg.NumPrompts, cfg.NumWarmups)
	if err != nil {
		return nil, err
	}
	prompts, err := cfg.Workload.Prompts(0, cfg.NumPrompts)
	if err != nil {
		return nil, err
	}
	r := newRunner(cfg)
	defer r.client.CloseIdleConnections()

	stopProgress := r.reportProgress(ctx)
	defer stopProgress()

	if len(warmups) > 0 {
		r.warmup.Store(true)
		r.total.Store(int64(len(warmups)))
		r.closedLoop(ctx, warmups, make([]Record, len(warmups)), 0)
		r.done.Store(0)
		r.failed.Store(0)
		r.peak.Store(0)
		r.outTokens.Store(0)
		r.warmup.Store(false)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cancelled during warmup: %w", err)
	}

	var scraper *scraper
	if cfg.ScrapeMetrics {
		scraper = startScraper(ctx, r.client, cfg.BaseURL+"/metrics")
	}
	r.total.Store(int64(len(prompts)))
	records := make([]Record, len(prompts))
	cpuBefore := cpuTime()
	r.started = time.Now()
	if math.IsInf(cfg.RequestRate, 1) {
		r.closedLoop(ctx, prompts, records, cfg.Duration)
	} else {
		r.openLoop(ctx, prompts, records)
	}
	window := time.Since(r.started)
	cpu := cpuTime() - cpuBefore

	res := &Result{Records: sentRecords(records)}
	if scraper != nil {
		res.Metrics = scraper.stop()
	}
	res.Summary = summarizeRun(cfg, res.Records, r.started, window, clientStats{cpu: cpu, connections: r.conns.Load(), peak: r.peak.Load()})
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("cancelled after %d of %d requests: %w", len(res.Records), len(prompts), err)
	}
	if res.Summary.Completed == 0 {
		return res, ErrAllFailed
	}
	return res, nil
}

func newRunner(cfg Config) *runner {
	conns := cfg.MaxConcurrency
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: max(conns, 1),
		// One connection per request in flight, never a hidden cap: a
		// server that refuses connections shows up as failed requests.
		MaxConnsPerHost:    conns,
		IdleConnTimeout:    90 * time.Second,
		DisableCompression: true,
		// The transport's own buffers stay small: the stream reader has
		// its own, and at 10,000 connections every kilobyte per
		// connection is 10 MB.
		WriteBufferSize: 16 << 10,
		ReadBufferSize:  4 << 10,
		// HTTP/1.1 only: one stream per connection, as the engines serve.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	r := &runner{cfg: cfg, client: &http.Client{Transport: transport}, url: strings.TrimRight(cfg.BaseURL, "/") + cfg.Workload.API.Path()}
	r.readers.New = func() any { return newSSEReader(nil, readBufferSize) }
	return r
}

// closedLoop keeps MaxConcurrency requests in flight until prompts run out,
// the duration passes, or ctx ends.
func (r *runner) closedLoop(ctx context.Context, prompts []Prompt, records []Record, duration time.Duration) {
	var next atomic.Int64
	var deadline time.Time
	if duration > 0 {
		deadline = time.Now().Add(duration)
	}
	var wg sync.WaitGroup
	for range min(max(r.cfg.MaxConcurrency, 1), len(prompts)) {
		wg.Go(func() {
			for ctx.Err() == nil && (deadline.IsZero() || time.Now().Before(deadline)) {
				i := int(next.Add(1) - 1)
				if i >= len(prompts) {
					return
				}
				r.send(ctx, &prompts[i], &records[i], 0)
			}
		})
	}
	wg.Wait()
}

// openLoop sends on a precomputed schedule; with MaxConcurrency set, a
// request whose time has come waits for a slot and the wait is recorded.
func (r *runner) openLoop(ctx context.Context, prompts []Prompt, records []Record) {
	schedule := arrivals(len(prompts), r.cfg.RequestRate, r.cfg.Burstiness, r.cfg.Workload.Seed)
	var slots chan struct{}
	if r.cfg.MaxConcurrency > 0 {
		slots = make(chan struct{}, r.cfg.MaxConcurrency)
	}
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := range prompts {
		if r.cfg.Duration > 0 && schedule[i] >= r.cfg.Duration {
			break
		}
		// Sleep to absolute deadlines so lateness does not accumulate.
		if wait := time.Until(r.started.Add(schedule[i])); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		queued := time.Now()
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
		}
		queueTime := time.Since(queued)
		records[i].ScheduledTime = schedule[i]
		wg.Go(func() {
			r.send(ctx, &prompts[i], &records[i], queueTime)
			if slots != nil {
				<-slots
			}
		})
	}
	wg.Wait()
}

// send performs one request and fills rec. It never panics on a bad
// server: every failure becomes rec.Err.
func (r *runner) send(ctx context.Context, p *Prompt, rec *Record, queueTime time.Duration) {
	rec.Index = p.Index
	rec.RequestedInput, rec.RequestedOut = p.InputTokens, p.OutputTokens
	rec.InputTokens = p.InputTokens
	rec.QueueTime = queueTime

	reqCtx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	// The stall clock starts at the first chunk: before it, a request may
	// wait in the engine's queue for as long as RequestTimeout allows.
	var stalled atomic.Bool
	stall := time.AfterFunc(time.Hour, func() { stalled.Store(true); cancel() })
	stall.Stop()
	defer stall.Stop()

	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !info.Reused {
			r.conns.Add(1)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(reqCtx, trace), http.MethodPost, r.url, bytes.NewReader(p.Body))
	if err != nil {
		rec.fail(err)
		r.failed.Add(1)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	// vLLM and the simulated engine take X-Request-Id as the request's id,
	// so server-side logs and timings can be matched to this record.
	req.Header.Set("X-Request-Id", RequestID(r.cfg.Workload.Seed, p.Index))
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}

	n := r.inFlight.Add(1)
	for peak := r.peak.Load(); n > peak && !r.peak.CompareAndSwap(peak, n); peak = r.peak.Load() {
	}
	defer r.inFlight.Add(-1)

	state := streamState{rec: rec, send: time.Now()}
	if !r.started.IsZero() {
		rec.SendTime = state.send.Sub(r.started)
	}
	if rec.ScheduledTime == 0 {
		rec.ScheduledTime = rec.SendTime - queueTime
	}
	rec.ITLs = make([]uint32, 0, max(p.OutputTokens-1, 0))

	resp, err := r.client.Do(req)
	if err != nil {
		// Not finish: a connection the engine closed before answering
		// reads as io.EOF, which is no clean end here.
		rec.fail(r.describe(err, &stalled))
		r.account(rec)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		rec.fail(&statusError{code: resp.StatusCode, body: strings.TrimSpace(clip(body))})
		r.account(rec)
		return
	}
	r.readStream(resp.Body, &state, stall, &stalled)
	r.account(rec)
}

// readStream feeds state the events of body until the stream ends; every
// chunk restarts the stall clock.
func (r *runner) readStream(body io.Reader, state *streamState, stall *time.Timer, stalled *atomic.Bool) {
	reader := r.readers.Get().(*sseReader)
	reader.r.Reset(body)
	defer func() {
		reader.r.Reset(nil)
		r.readers.Put(reader)
	}()
	for {
		payload, err := reader.next()
		if err != nil {
			state.finish(r.describe(err, stalled))
			return
		}
		stall.Reset(r.cfg.StallTimeout)
		if err := state.onPayload(time.Now(), payload); err != nil {
			state.finish(err)
			return
		}
		if state.sawDone {
			state.finish(nil)
			// Read to the end of the body so the connection is reused:
			// closing it early would cost a new connection per request.
			_, _ = io.Copy(io.Discard, io.LimitReader(reader.r, 64<<10))
			return
		}
	}
}

// RequestID is the id a run sends with prompt index i.
func RequestID(seed uint64, index int) string {
	return "infersweep-" + strconv.FormatUint(seed, 10) + "-" + strconv.Itoa(index)
}

func (r *runner) describe(err error, stalled *atomic.Bool) error {
	if stalled.Load() {
		return fmt.Errorf("%w: no data for %s", errStalled, r.cfg.StallTimeout)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w %s exceeded", errTimedOut, r.cfg.RequestTimeout)
	}
	return err
}

func (r *runner) account(rec *Record) {
	if rec.OK() {
		r.done.Add(1)
		r.outTokens.Add(int64(rec.OutputTokens))
	} else {
		r.failed.Add(1)
	}
}

func (r *runner) reportProgress(ctx context.Context) (stop func()) {
	if r.cfg.OnProgress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	begun := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			r.cfg.OnProgress(Progress{
				Warmup: r.warmup.Load(), Done: int(r.done.Load()), Failed: int(r.failed.Load()),
				Total: int(r.total.Load()), InFlight: int(r.inFlight.Load()), Elapsed: time.Since(begun), OutTokens: r.outTokens.Load(),
			})
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// sentRecords drops the slots of requests never sent (a duration bound or
// a cancellation), which have no index set beyond the first.
func sentRecords(records []Record) []Record {
	out := records[:0]
	for i := range records {
		if records[i].RequestedOut > 0 {
			out = append(out, records[i])
		}
	}
	return out
}
