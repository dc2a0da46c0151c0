package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recordingEngine is fakeEngine that keeps every request body by its
// X-Request-Id and reports prefix-cache counters: half of every prompt
// hit, so the engine's own rate is 0.5 exactly.
type recordingEngine struct {
	engine         fakeEngine
	failLongerThan int // answer 500 to prompts of more ids than this
	mu             sync.Mutex
	bodies         map[string][]byte
	requests       atomic.Int64
	queried, hit   atomic.Int64
}

func (e *recordingEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" {
		fmt.Fprintf(w, "# TYPE vllm:prefix_cache_queries_total counter\nvllm:prefix_cache_queries_total{model_name=\"m\"} %d\n", e.queried.Load())
		fmt.Fprintf(w, "# TYPE vllm:prefix_cache_hits_total counter\nvllm:prefix_cache_hits_total{model_name=\"m\"} %d\n", e.hit.Load())
		fmt.Fprintf(w, "# TYPE vllm:kv_offload_bytes_total counter\nvllm:kv_offload_bytes_total %d\n", 1000*e.requests.Load())
		return
	}
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	if e.bodies == nil {
		e.bodies = map[string][]byte{}
	}
	e.bodies[r.Header.Get("X-Request-Id")] = body
	e.mu.Unlock()
	e.requests.Add(1)
	ids := promptIDs(body)
	e.queried.Add(int64(len(ids)))
	e.hit.Add(int64(len(ids) / 2))
	if e.failLongerThan > 0 && len(ids) > e.failLongerThan {
		http.Error(w, "prompt too long", http.StatusInternalServerError)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	e.engine.ServeHTTP(w, r)
}

func (e *recordingEngine) body(t *testing.T, seed uint64, index int) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.bodies[RequestID(seed, index)]
	require.True(t, ok, "request %d reached the engine", index)
	return b
}

func promptIDs(body []byte) []int {
	var req struct {
		Prompt []int `json:"prompt"`
	}
	_ = json.Unmarshal(body, &req)
	return req.Prompt
}

func replayConfig(url, trace string) ReplayConfig {
	tr, err := ReadTrace(strings.NewReader(trace), "t.jsonl", TraceAuto, 16)
	if err != nil {
		panic(err)
	}
	w := DefaultWorkload()
	w.Model, w.Seed = "m", 7
	return ReplayConfig{BaseURL: url, Workload: w, Trace: tr, Sessions: 2, Duration: 400 * time.Millisecond}
}

// bySession groups records by session, each in turn order.
func bySession(records []Record) map[string][]Record {
	out := map[string][]Record{}
	for _, r := range records {
		out[r.SessionID] = append(out[r.SessionID], r)
	}
	for _, rs := range out {
		slices.SortFunc(rs, func(a, b Record) int { return a.Turn - b.Turn })
	}
	return out
}

const twoSessions = `{"session_id":"s1","shared":[{"id":"system","tokens":64}],"input_tokens":20,"output_tokens":5}
{"session_id":"s1","delay_ms":15,"input_tokens":12,"output_tokens":4}
{"session_id":"s1","delay_ms":25,"input_tokens":8,"output_tokens":6}
{"session_id":"s1","delay_ms":10,"input_tokens":30,"output_tokens":3}
{"session_id":"s2","shared":[{"id":"system","tokens":64}],"input_tokens":16,"output_tokens":5}
{"session_id":"s2","delay_ms":20,"input_tokens":10,"output_tokens":5}
{"session_id":"s2","delay_ms":500,"input_tokens":10,"output_tokens":5}
`

func TestReplaySendsTheConversationSoFarAfterItsIdleGap(t *testing.T) {
	engine := &recordingEngine{engine: fakeEngine{tokenDelay: time.Millisecond}}
	srv := httptest.NewServer(engine)
	defer srv.Close()
	cfg := replayConfig(srv.URL, twoSessions)
	cfg.MaxIdleGap = 40 * time.Millisecond
	cfg.ScrapeMetrics = true
	res, err := Replay(context.Background(), cfg)
	require.NoError(t, err)
	require.Zero(t, res.Summary.Failed)

	gaps := map[string][]time.Duration{"s1": {0, 15, 25, 10}, "s2": {0, 20, 40}} // ms; s2's 500 ms capped
	turnsChecked := 0
	var late []time.Duration
	for session, recs := range bySession(res.Records) {
		base, _, _ := strings.Cut(session, "#")
		for k := 1; k < len(recs); k++ {
			prev, cur := recs[k-1], recs[k]
			require.Equal(t, prev.Turn+1, cur.Turn, session)
			// The bytes of turn k start with turn k-1's prompt, then its
			// answer as ids derived from session, turn and the answer's
			// actual length.
			prevBody, curBody := engine.body(t, cfg.Workload.Seed, prev.Index), engine.body(t, cfg.Workload.Seed, cur.Index)
			cut := bytes.Index(prevBody, []byte("],"))
			require.True(t, bytes.HasPrefix(curBody, prevBody[:cut]), "%s turn %d starts with turn %d's bytes", session, cur.Turn, prev.Turn)
			answer := segmentIDs(nil, &cfg.Workload, Segment{answerKey(session, prev.Turn), prev.OutputTokens})
			require.Equal(t, answer, promptIDs(curBody)[prev.RequestedInput:prev.RequestedInput+len(answer)])
			require.Equal(t, prev.RequestedInput, cur.EstCachedTokens, "the whole previous prompt was sent before, the answer was not")
			turnsChecked++

			idle := cur.SendTime - (prev.SendTime + prev.E2EL)
			want := gaps[base][cur.Turn] * time.Millisecond
			require.GreaterOrEqual(t, idle, want-time.Millisecond, "%s turn %d: idle gap %s, want %s: never early", session, cur.Turn, idle, want)
			late = append(late, idle-want)
		}
	}
	// Within 5 ms of the recorded gap. On a shared machine under load a
	// timer now and then fires late, so one in four may miss.
	slices.Sort(late)
	t.Logf("idle gap lateness over %d gaps: median %s, p75 %s, max %s", len(late), late[len(late)/2], late[len(late)*3/4], late[len(late)-1])
	require.GreaterOrEqual(t, len(late), 4)
	require.Less(t, late[len(late)*3/4], 5*time.Millisecond)
	require.GreaterOrEqual(t, turnsChecked, 4)

	// Both sessions open with the same 64-token system prompt.
	firsts := map[string][]int{}
	for _, r := range res.Records {
		if r.Turn == 0 {
			firsts[r.SessionID] = promptIDs(engine.body(t, cfg.Workload.Seed, r.Index))
		}
	}
	require.Equal(t, firsts["s1"][:64], firsts["s2"][:64])
	require.NotEqual(t, firsts["s1"][64], firsts["s2"][64])

	a := res.Summary.Agentic
	require.NotNil(t, a)
	require.Positive(t, a.IdleGapsCapped)
	require.InDelta(t, 0.5, float64(a.ServerPrefixHitRate), 0.01, "from vllm:prefix_cache_hits_total / queries")
	require.Equal(t, "vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total", a.ServerPrefixHitSource)
	require.Contains(t, a.OffloadCounters, "vllm:kv_offload_bytes_total")
	require.Equal(t, "0", a.ByTurn[0].Turns)
	require.Equal(t, "1-3", a.ByTurn[1].Turns)
	require.Less(t, float64(a.ByTurn[0].EstPrefixHitRate), float64(a.ByTurn[1].EstPrefixHitRate), "later turns resend more of what was sent")
	require.Positive(t, a.SessionsCompleted)

	// A whole session's latency runs from its first request to its last
	// answer, idle gaps included: at least s1's 50 ms or s2's 60 ms.
	var whole []float64
	for session, recs := range bySession(res.Records) {
		base, _, _ := strings.Cut(session, "#")
		if last := recs[len(recs)-1]; recs[0].Turn == 0 && last.Turn == len(gaps[base])-1 {
			whole = append(whole, float64(last.SendTime+last.E2EL-recs[0].SendTime)/float64(time.Millisecond))
		}
	}
	require.NotEmpty(t, whole)
	slices.Sort(whole)
	require.GreaterOrEqual(t, float64(a.SessionLatency.Median), 50.0)
	require.InDelta(t, percentile(whole, 50), float64(a.SessionLatency.Median), 3, "sessions %v ms", whole)
}

func TestReplaySharesMooncakeBlocksAcrossSessions(t *testing.T) {
	engine := &recordingEngine{engine: fakeEngine{}}
	srv := httptest.NewServer(engine)
	defer srv.Close()
	// Block size 16: a and b share blocks 1 and 2 and part ways at the third.
	trace := `{"session_id":"a","input_length":48,"output_length":2,"hash_ids":[1,2,3]}
{"session_id":"b","input_length":40,"output_length":2,"hash_ids":[1,2,9]}
`
	cfg := replayConfig(srv.URL, trace)
	cfg.Sessions, cfg.Duration = 1, 150*time.Millisecond
	res, err := Replay(context.Background(), cfg)
	require.NoError(t, err)
	sessions := bySession(res.Records)
	a := promptIDs(engine.body(t, cfg.Workload.Seed, sessions["a"][0].Index))
	b := promptIDs(engine.body(t, cfg.Workload.Seed, sessions["b"][0].Index))
	require.Len(t, a, 48)
	require.Len(t, b, 40)
	require.Equal(t, a[:32], b[:32], "shared hash_ids are the same ids")
	require.NotEqual(t, a[32:40], b[32:40])
	require.Equal(t, 32, sessions["b"][0].EstCachedTokens)
	// A second pass over the trace hits the blocks again, not the
	// sessions' own tokens.
	require.Equal(t, 48, sessions["a#1"][0].EstCachedTokens, "every block of a was sent in the first pass")
	require.Greater(t, res.Summary.Agentic.TracePasses, 1.0)
}

func TestReplayBoundsItsWindowAndLeavesWarmupsOut(t *testing.T) {
	engine := &recordingEngine{engine: fakeEngine{tokenDelay: time.Millisecond}}
	srv := httptest.NewServer(engine)
	defer srv.Close()
	var lines []string
	for s := range 6 {
		for k := range 20 {
			lines = append(lines, fmt.Sprintf(`{"session_id":"s%d","delay_ms":%d,"input_tokens":10,"output_tokens":4}`, s, 10*min(k, 1)))
		}
	}
	cfg := replayConfig(srv.URL, strings.Join(lines, "\n"))
	cfg.Sessions, cfg.WarmupPerLane, cfg.Duration = 3, 2, 300*time.Millisecond
	res, err := Replay(context.Background(), cfg)
	require.NoError(t, err)
	a := res.Summary.Agentic
	require.GreaterOrEqual(t, a.WarmupRequests, 3*2, "two warm-ups per lane at least")
	require.EqualValues(t, engine.requests.Load(), len(res.Records)+a.WarmupRequests, "every request is measured or a warm-up")
	require.Equal(t, a.WarmupRequests, res.Summary.NumWarmups)
	for _, r := range res.Records {
		require.GreaterOrEqual(t, r.SendTime, time.Duration(0), "nothing measured was sent before the window opened")
		require.Less(t, r.SendTime, cfg.Duration, "nothing is sent after the duration")
	}
	require.Less(t, float64(res.Summary.Duration), (cfg.Duration + 100*time.Millisecond).Seconds(), "the window ends when the last request does")
	require.InDelta(t, 3, float64(a.MeanConcurrentRequests), 2.5)
	require.LessOrEqual(t, res.Summary.MaxConcurrentReqs, int64(3))
}

func TestReplayStartsFirstSessionsPartWay(t *testing.T) {
	engine := &recordingEngine{engine: fakeEngine{}}
	srv := httptest.NewServer(engine)
	defer srv.Close()
	var lines []string
	for s := range 4 {
		for k := range 8 {
			lines = append(lines, fmt.Sprintf(`{"session_id":"s%d","input_tokens":%d,"output_tokens":%d}`, s, 10+k, 3+k))
		}
	}
	cfg := replayConfig(srv.URL, strings.Join(lines, "\n"))
	cfg.Sessions, cfg.StartFraction, cfg.Duration = 4, [2]float64{0.25, 0.75}, 100*time.Millisecond
	res, err := Replay(context.Background(), cfg)
	require.NoError(t, err)
	sessions := bySession(res.Records)
	for s := range 4 {
		recs := sessions[fmt.Sprintf("s%d", s)]
		require.NotEmpty(t, recs)
		first := recs[0].Turn
		require.GreaterOrEqual(t, first, 2, "25%% of 8 turns")
		require.LessOrEqual(t, first, 5, "below 75%% of 8 turns")
		// Its first request carries the skipped turns as context, with
		// their recorded answer lengths.
		want := 10 + first
		for k := range first {
			want += 10 + k + 3 + k
		}
		require.Equal(t, want, recs[0].RequestedInput, "s%d starts at turn %d", s, first)
	}
}

func TestReplayEndsASessionAtAFailedTurn(t *testing.T) {
	engine := &recordingEngine{engine: fakeEngine{}, failLongerThan: 60}
	srv := httptest.NewServer(engine)
	defer srv.Close()
	var lines []string
	for k := range 5 {
		lines = append(lines, fmt.Sprintf(`{"session_id":"s","input_tokens":20,"output_tokens":5,"delay_ms":%d}`, min(k, 1)))
	}
	cfg := replayConfig(srv.URL, strings.Join(lines, "\n"))
	cfg.Sessions, cfg.Duration = 1, 100*time.Millisecond
	res, err := Replay(context.Background(), cfg)
	require.NoError(t, err)
	failed := 0
	for _, r := range res.Records {
		// 20, 45, 70 ids: turn 2 fails and turn 3 is never sent.
		require.LessOrEqual(t, r.Turn, 2)
		require.Equal(t, r.Turn < 2, r.OK())
		if !r.OK() {
			require.Equal(t, 500, r.HTTPStatus)
			failed++
		}
	}
	require.Positive(t, failed)
	require.Positive(t, res.Summary.Agentic.SessionsAborted)
	require.Zero(t, res.Summary.Agentic.SessionsCompleted)
	require.ErrorContains(t, res.Summary.CheckFailureRate(0.05), "exceeds the 5% threshold")
}

func TestReplayConfigNamesTheSetting(t *testing.T) {
	base := replayConfig("http://x", twoSessions)
	tests := []struct {
		name    string
		edit    func(*ReplayConfig)
		wantErr string
	}{
		{"no bound", func(c *ReplayConfig) { c.Duration = 0 }, "duration 0s: a trace replay needs a bound"},
		{"no lanes", func(c *ReplayConfig) { c.Sessions = 0 }, "sessions 0: want at least 1 concurrent session"},
		{"start fraction", func(c *ReplayConfig) { c.StartFraction = [2]float64{0.8, 0.2} }, "start-fraction 0.8:0.2: want 0 ≤ lo ≤ hi < 1"},
		{"negative warm-ups", func(c *ReplayConfig) { c.WarmupPerLane = -1 }, "warmup-per-lane -1"},
		{"no trace", func(c *ReplayConfig) { c.Trace = nil }, "trace: no sessions to replay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			_, err := Replay(context.Background(), c)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestServerHitRatePrefersVLLMCounters(t *testing.T) {
	tests := []struct {
		name       string
		m          *ScrapedMetrics
		want       float64
		wantSource string
	}{
		{"vLLM V1 counters over the window", &ScrapedMetrics{CounterDeltas: map[string]float64{vllmPrefixQueries: 4000, vllmPrefixHits: 3000},
			Samples: []Sample{{Name: sglangHitRate, Value: 0.1}}}, 0.75, "vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total"},
		{"SGLang's gauge, averaged", &ScrapedMetrics{CounterDeltas: map[string]float64{vllmPrefixQueries: 0},
			Samples: []Sample{{Name: sglangHitRate, Value: 0.2}, {Name: "sglang:token_usage", Value: 0.9}, {Name: sglangHitRate, Value: 0.6}}}, 0.4, "mean of sglang:cache_hit_rate"},
		{"vLLM V0's gauge", &ScrapedMetrics{Samples: []Sample{{Name: vllmV0HitRate, Value: 0.3}}}, 0.3, "mean of vllm:gpu_prefix_cache_hit_rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, source := serverHitRate(tt.m)
			require.InDelta(t, tt.want, float64(got), 1e-9)
			require.Equal(t, tt.wantSource, source)
		})
	}
	got, source := serverHitRate(&ScrapedMetrics{})
	require.True(t, got.IsZero(), "an engine that reports nothing has no rate: null, not 0")
	require.Empty(t, source)
}
