package loadgen

import (
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Agentic is what a trace replay measures beyond a random load's figures.
// Rates and latencies are in the Summary's time basis.
type Agentic struct {
	TraceFormat   string `json:"trace_format"`
	TraceSessions int    `json:"trace_sessions"`
	// TracePasses is sessions handed to lanes over the trace's sessions:
	// above 1, lanes started the trace over (see Replay).
	TracePasses        float64    `json:"trace_passes"`
	ConcurrentSessions int        `json:"concurrent_sessions"`
	WarmupPerLane      int        `json:"warmup_requests_per_lane"`
	WarmupRequests     int        `json:"warmup_requests"`
	MaxIdleGapS        float64    `json:"max_idle_gap_s"` // 0: gaps as recorded
	IdleGapsCapped     int        `json:"idle_gaps_capped"`
	StartFraction      [2]float64 `json:"start_fraction"`

	// Sessions (top-level, sub-agents not counted) that sent a request in
	// the measured window, and how those ended: every turn answered, a
	// failed request, or still running when the window closed.
	SessionsStarted   int `json:"sessions_started"`
	SessionsCompleted int `json:"sessions_completed"`
	SessionsAborted   int `json:"sessions_aborted"`
	// SessionThroughput is completed sessions per second.
	SessionThroughput      Metric `json:"session_throughput"`
	InputThroughput        Metric `json:"input_throughput"`  // prompt tok/s, context included
	OutputThroughput       Metric `json:"output_throughput"` // tok/s
	GPUs                   int    `json:"gpus"`              // 0: not given
	InputThroughputPerGPU  Metric `json:"input_throughput_per_gpu"`
	OutputThroughputPerGPU Metric `json:"output_throughput_per_gpu"`
	// MeanConcurrentRequests is the time-weighted mean of measured
	// requests in flight over the window: the concurrency actually held,
	// below the lanes while sessions sit in idle gaps.
	MeanConcurrentRequests Metric `json:"mean_concurrent_requests"`
	MeanPromptTokens       Metric `json:"mean_prompt_tokens"`

	// EstPrefixHitRate is the client's estimate: the share of prompt
	// tokens in leading segments an earlier request of the run (warm-ups
	// included) had already sent. An upper bound for an unbounded cache.
	EstPrefixHitRate Metric `json:"est_prefix_cache_hit_rate"`
	EstCachedTokens  int64  `json:"est_cached_tokens"`
	// ServerPrefixHitRate is what the engine's /metrics said over the
	// window (needs ScrapeMetrics); ServerPrefixHitSource names the series.
	ServerPrefixHitRate   Metric `json:"server_prefix_cache_hit_rate"`
	ServerPrefixHitSource string `json:"server_prefix_cache_hit_source"`
	// OffloadCounters are the change over the window of every engine
	// counter about KV offloading or an external (offloaded) prefix cache.
	OffloadCounters map[string]float64 `json:"offload_counters"`

	ByTurn []TurnBucket `json:"by_turn"`
	// SessionLatency is how long a session took, in ms: from its first
	// request to its last answer, idle gaps and sub-agents included, over
	// the sessions replayed whole (from turn 0) and completed in the run:
	// what an agent's user waits for a task.
	SessionLatency Percentiles `json:"session_latency_ms"`
}

// TurnBucket holds the figures of requests whose 0-based turn index falls
// in Turns: "0", "1-3", "4-7", … doubling, "64+".
type TurnBucket struct {
	Turns            string      `json:"turns"`
	Requests         int         `json:"requests"`
	Failed           int         `json:"failed"`
	MeanPromptTokens Metric      `json:"mean_prompt_tokens"`
	EstPrefixHitRate Metric      `json:"est_prefix_cache_hit_rate"`
	TTFT             Percentiles `json:"ttft_ms"`
	TPOT             Percentiles `json:"tpot_ms"`
	ITL              Percentiles `json:"itl_ms"`
	E2EL             Percentiles `json:"e2el_ms"`
}

// Percentiles of one latency in milliseconds; null when unmeasured.
type Percentiles struct {
	Mean   Metric `json:"mean"`
	Median Metric `json:"median"`
	P90    Metric `json:"p90"`
	P99    Metric `json:"p99"`
}

func percentilesOf(d Distribution) Percentiles {
	return Percentiles{Metric(d.Mean), Metric(d.Median), Metric(d.P90), Metric(d.P99)}
}

const turnBuckets = 7

func turnBucket(turn int) int {
	switch {
	case turn == 0:
		return 0
	case turn < 4:
		return 1
	}
	return min(bits.Len(uint(turn))-1, turnBuckets-1)
}

func bucketName(b int) string {
	switch b {
	case 0:
		return "0"
	case 1:
		return "1-3"
	case turnBuckets - 1:
		return strconv.Itoa(1<<b) + "+"
	}
	return strconv.Itoa(1<<b) + "-" + strconv.Itoa(1<<(b+1)-1)
}

// agentic computes the replay's figures from its measured records, before
// they are scaled to the time basis.
func (rp *replayer) agentic(records []Record, m *ScrapedMetrics, window time.Duration) *Agentic {
	c := rp.cfg
	a := &Agentic{
		TraceFormat: string(c.Trace.Format), TraceSessions: len(c.Trace.Sessions), ConcurrentSessions: c.Sessions,
		TracePasses:   float64(rp.nextSession.Load()) / float64(len(c.Trace.Sessions)),
		WarmupPerLane: c.WarmupPerLane, WarmupRequests: int(rp.warmups.Load()), MaxIdleGapS: c.MaxIdleGap.Seconds(),
		IdleGapsCapped: int(rp.capped.Load()), StartFraction: c.StartFraction,
		SessionsStarted: rp.sessions.started, SessionsCompleted: rp.sessions.completed, SessionsAborted: rp.sessions.aborted,
		GPUs: c.GPUs, OffloadCounters: map[string]float64{},
	}
	seconds := window.Seconds() * c.TimeScale
	var in, out, cached, prompt int64
	var inFlight time.Duration
	for i := range records {
		r := &records[i]
		prompt += int64(r.RequestedInput)
		cached += int64(r.EstCachedTokens)
		if r.E2EL > 0 {
			inFlight += min(r.SendTime+r.E2EL, window) - max(r.SendTime, 0)
		}
		if r.OK() {
			in += int64(r.InputTokens)
			out += int64(r.OutputTokens)
		}
	}
	a.SessionThroughput = Metric(float64(a.SessionsCompleted) / seconds)
	a.InputThroughput, a.OutputThroughput = Metric(float64(in)/seconds), Metric(float64(out)/seconds)
	a.InputThroughputPerGPU, a.OutputThroughputPerGPU = Metric(math.NaN()), Metric(math.NaN())
	if c.GPUs > 0 {
		a.InputThroughputPerGPU, a.OutputThroughputPerGPU = a.InputThroughput/Metric(c.GPUs), a.OutputThroughput/Metric(c.GPUs)
	}
	a.MeanConcurrentRequests = Metric(float64(inFlight) / float64(window))
	a.MeanPromptTokens, a.EstPrefixHitRate = ratio(prompt, int64(len(records))), ratio(cached, prompt)
	a.EstCachedTokens = cached
	a.ServerPrefixHitRate, a.ServerPrefixHitSource = serverHitRate(m)
	if m != nil {
		for name, delta := range m.CounterDeltas {
			if strings.Contains(name, "offload") || strings.Contains(name, "external_prefix_cache") {
				a.OffloadCounters[name] = delta
			}
		}
	}
	a.ByTurn = byTurn(records, c.TimeScale)
	a.SessionLatency = percentilesOf(summarize(rp.sessions.latencies, c.TimeScale/float64(time.Millisecond)))
	return a
}

func ratio(num, den int64) Metric {
	if den == 0 {
		return Metric(math.NaN())
	}
	return Metric(float64(num) / float64(den))
}

// Counters and gauges of the engines' own prefix-cache hit rate, in the
// order they are preferred: vLLM V1 counts queried and hit tokens; SGLang
// and vLLM V0 publish a rate.
const (
	vllmPrefixHits    = "vllm:prefix_cache_hits_total"
	vllmPrefixQueries = "vllm:prefix_cache_queries_total"
	sglangHitRate     = "sglang:cache_hit_rate"
	vllmV0HitRate     = "vllm:gpu_prefix_cache_hit_rate"
)

func serverHitRate(m *ScrapedMetrics) (Metric, string) {
	if m == nil {
		return Metric(math.NaN()), ""
	}
	if q := m.CounterDeltas[vllmPrefixQueries]; q > 0 {
		return Metric(m.CounterDeltas[vllmPrefixHits] / q), vllmPrefixHits + " / " + vllmPrefixQueries
	}
	for _, gauge := range []string{sglangHitRate, vllmV0HitRate} {
		var sum float64
		var n int
		for _, s := range m.Samples {
			if s.Name == gauge {
				sum += s.Value
				n++
			}
		}
		if n > 0 {
			return Metric(sum / float64(n)), "mean of " + gauge
		}
	}
	return Metric(math.NaN()), ""
}

func byTurn(records []Record, scale float64) []TurnBucket {
	type acc struct {
		n, failed        int
		prompt, cached   int64
		ttft, tpot, e2el []int64
		itl              []uint32
	}
	var accs [turnBuckets]acc
	for i := range records {
		r := &records[i]
		b := &accs[turnBucket(r.Turn)]
		b.n++
		b.prompt += int64(r.RequestedInput)
		b.cached += int64(r.EstCachedTokens)
		if !r.OK() {
			b.failed++
			continue
		}
		b.ttft = append(b.ttft, int64(r.TTFT))
		b.e2el = append(b.e2el, int64(r.E2EL))
		b.itl = append(b.itl, r.ITLs...)
		if tpot, ok := r.TPOT(); ok {
			b.tpot = append(b.tpot, int64(tpot))
		}
	}
	msPerNs, msPerMicro := scale/float64(time.Millisecond), scale/1000
	var out []TurnBucket
	for i := range accs {
		b := &accs[i]
		if b.n == 0 {
			continue
		}
		out = append(out, TurnBucket{
			Turns: bucketName(i), Requests: b.n, Failed: b.failed,
			MeanPromptTokens: ratio(b.prompt, int64(b.n)), EstPrefixHitRate: ratio(b.cached, b.prompt),
			TTFT: percentilesOf(summarize(b.ttft, msPerNs)), TPOT: percentilesOf(summarize(b.tpot, msPerNs)),
			ITL: percentilesOf(summarize(b.itl, msPerMicro)), E2EL: percentilesOf(summarize(b.e2el, msPerNs)),
		})
	}
	return out
}

// writeText prints the replay's figures after the usual ones.
func (a *Agentic) writeText(w io.Writer, row func(name, value string), num func(Metric) string) {
	pct := func(m Metric) string {
		if math.IsNaN(float64(m)) {
			return "n/a"
		}
		return strconv.FormatFloat(100*float64(m), 'f', 1, 64) + "%"
	}
	fmt.Fprintf(w, "%s\n", centered("Agentic trace replay"))
	row("Trace (format, sessions, passes)", fmt.Sprintf("%s, %d, %.2f", a.TraceFormat, a.TraceSessions, a.TracePasses))
	row("Concurrent sessions", strconv.Itoa(a.ConcurrentSessions))
	row("Mean requests in flight", num(a.MeanConcurrentRequests))
	row("Sessions started / completed / aborted", fmt.Sprintf("%d / %d / %d", a.SessionsStarted, a.SessionsCompleted, a.SessionsAborted))
	row("Session throughput (sessions/s)", num(a.SessionThroughput))
	row("Session latency p50 / p90 (s, whole sessions)", num(a.SessionLatency.Median/1000)+" / "+num(a.SessionLatency.P90/1000))
	row("Input / output throughput (tok/s)", num(a.InputThroughput)+" / "+num(a.OutputThroughput))
	if a.GPUs > 0 {
		row("  per GPU (tok/s/GPU)", num(a.InputThroughputPerGPU)+" / "+num(a.OutputThroughputPerGPU))
	}
	row("Warm-up requests (left out)", strconv.Itoa(a.WarmupRequests))
	row("Idle gaps capped", strconv.Itoa(a.IdleGapsCapped))
	row("Prefix-cache hit rate, client estimate", pct(a.EstPrefixHitRate))
	server := pct(a.ServerPrefixHitRate)
	if a.ServerPrefixHitSource != "" {
		server += " (" + a.ServerPrefixHitSource + ")"
	}
	row("Prefix-cache hit rate, engine", server)
	for _, name := range slices.Sorted(maps.Keys(a.OffloadCounters)) {
		row("  "+name+" (Δ)", strconv.FormatFloat(a.OffloadCounters[name], 'g', 6, 64))
	}
	fmt.Fprintf(w, "%-8s %8s %10s %8s %12s %12s %12s\n", "turns", "requests", "prompt", "est.hit", "TTFT p50 ms", "TTFT p99 ms", "TPOT p50 ms")
	for _, b := range a.ByTurn {
		fmt.Fprintf(w, "%-8s %8d %10s %8s %12s %12s %12s\n", b.Turns, b.Requests, strconv.FormatFloat(float64(b.MeanPromptTokens), 'f', 0, 64),
			pct(b.EstPrefixHitRate), num(b.TTFT.Median), num(b.TTFT.P99), num(b.TPOT.Median))
	}
}
