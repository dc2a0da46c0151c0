package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeEngine streams max_tokens chunks the way vLLM does. It is only as
// realistic as these tests need; the simulated engine is the real target.
type fakeEngine struct {
	tokenDelay time.Duration
	status     int  // answer every request with this status instead
	stallAfter int  // stop sending after this many tokens, holding the connection
	noUsage    bool // omit the usage chunk
	generated  atomic.Int64
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/metrics":
		fmt.Fprintf(w, "# HELP vllm:num_requests_running x\nvllm:num_requests_running{model_name=\"m\"} 3\nvllm:generation_tokens_total{model_name=\"m\"} %d\n", f.generated.Load())
		return
	case "/v1/completions":
	default:
		http.NotFound(w, r)
		return
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		fmt.Fprint(w, `{"object":"error","message":"This model's maximum context length is 2048 tokens.","type":"BadRequestError","code":400}`)
		return
	}
	var req struct {
		Prompt    []int `json:"prompt"`
		MaxTokens int   `json:"max_tokens"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher := w.(http.Flusher)
	for i := range req.MaxTokens {
		if f.stallAfter > 0 && i == f.stallAfter {
			<-r.Context().Done()
			return
		}
		time.Sleep(f.tokenDelay)
		fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" tok\",\"finish_reason\":null}],\"usage\":null}\n\n")
		flusher.Flush()
		f.generated.Add(1)
	}
	if !f.noUsage {
		fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d}}\n\n", len(req.Prompt), req.MaxTokens)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func testConfig(baseURL string) Config {
	w := DefaultWorkload()
	w.Model, w.InputLen, w.OutputLen = "m", 32, 8
	return Config{BaseURL: baseURL, Workload: w, MaxConcurrency: 4, NumPrompts: 20, NumWarmups: 0}
}

func TestClosedLoopMeasuresEveryRequest(t *testing.T) {
	engine := &fakeEngine{tokenDelay: time.Millisecond}
	srv := httptest.NewServer(engine)
	defer srv.Close()

	cfg := testConfig(srv.URL)
	cfg.NumWarmups = 4
	cfg.ScrapeMetrics = true
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	s := res.Summary

	require.Equal(t, 20, s.Completed)
	require.Zero(t, s.Failed)
	require.Len(t, res.Records, 20)
	require.EqualValues(t, 160, s.TotalOutputTokens)
	require.EqualValues(t, 20*32, s.TotalInputTokens, "input tokens from the usage chunk")
	require.InDelta(t, 8, float64(s.MeanOutputLen), 1e-9)
	require.Equal(t, 20, s.UsageReported)
	require.Zero(t, s.UsageChunkMismatches)
	require.Zero(t, s.OutputLenMismatches)
	require.EqualValues(t, 4, s.MaxConcurrentReqs, "closed loop holds max-concurrency in flight")
	require.LessOrEqual(t, s.ConnectionsOpened, int64(4), "keep-alive: one connection per concurrent stream")
	require.EqualValues(t, 160, s.TotalChunks)
	require.Equal(t, "inf", s.RequestRate)
	// Each token is at least a millisecond apart on the server.
	require.GreaterOrEqual(t, float64(s.MedianITLms), 0.9)
	require.GreaterOrEqual(t, float64(s.MedianTPOTms), 0.9)
	require.Greater(t, float64(s.MedianE2ELms), float64(s.MedianTTFTms))
	require.True(t, math.IsNaN(float64(s.MeanScheduleDelayMs)), "no schedule in closed loop")

	require.NotNil(t, res.Metrics)
	require.GreaterOrEqual(t, res.Metrics.Scrapes, 2)
	// Warmups generated 32 tokens before the first scrape; the run 160.
	require.InDelta(t, 160, res.Metrics.CounterDeltas["vllm:generation_tokens_total"], 0)
	require.Equal(t, "vllm:num_requests_running", res.Metrics.Samples[0].Name)
	require.InDelta(t, 3, res.Metrics.Samples[0].Value, 0)

	out, err := json.Marshal(s)
	require.NoError(t, err)
	require.Contains(t, string(out), `"p99.9_itl_ms":`)
	// A closed loop has no schedule: its delay is left out, and said to be.
	require.NotContains(t, string(out), `"mean_schedule_delay_ms":`)
	require.Contains(t, string(out), `"unmeasured":["mean_schedule_delay_ms","p99_schedule_delay_ms"]`)
}

func TestFailuresAreCountedWithTheirReason(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	unreachable := "http://" + closed.Addr().String()
	closed.Close()

	tests := []struct {
		name        string
		engine      *fakeEngine
		url         string
		stall       time.Duration
		wantClass   string
		wantExample string
	}{
		{"prompt too long", &fakeEngine{status: http.StatusBadRequest}, "", 0, "HTTP 400", "maximum context length is 2048 tokens"},
		{"engine stalls mid-stream", &fakeEngine{stallAfter: 2}, "", 100 * time.Millisecond, "stalled: no data for 100ms", "stalled"},
		{"server unreachable", nil, unreachable, 0, "", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			if tt.engine != nil {
				srv := httptest.NewServer(tt.engine)
				defer srv.Close()
				url = srv.URL
			}
			cfg := testConfig(url)
			cfg.NumPrompts, cfg.StallTimeout = 6, tt.stall
			res, err := Run(context.Background(), cfg)
			require.ErrorIs(t, err, ErrAllFailed)
			require.Equal(t, 6, res.Summary.Failed)
			require.Zero(t, res.Summary.Completed)
			require.True(t, math.IsNaN(float64(res.Summary.MedianTTFTms)), "nothing measured, nothing reported")
			reasons := res.Summary.ErrorReasons()
			require.Len(t, reasons, 1)
			if tt.wantClass != "" {
				require.Equal(t, tt.wantClass, reasons[0])
			}
			require.Contains(t, res.Summary.ErrorExamples[reasons[0]], tt.wantExample)
		})
	}
}

func TestOpenLoopKeepsTheSchedule(t *testing.T) {
	srv := httptest.NewServer(&fakeEngine{})
	defer srv.Close()

	cfg := testConfig(srv.URL)
	cfg.MaxConcurrency, cfg.NumPrompts, cfg.RequestRate = 0, 1000, 500
	cfg.Workload.OutputLen = 1
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, 1000, res.Summary.Completed)

	first, last := res.Records[0], res.Records[len(res.Records)-1]
	scheduledRate := float64(len(res.Records)-1) / (last.ScheduledTime - first.ScheduledTime).Seconds()
	achievedRate := float64(len(res.Records)-1) / (last.SendTime - first.SendTime).Seconds()
	require.InDelta(t, 1, achievedRate/scheduledRate, 0.01, "achieved %.1f req/s vs scheduled %.1f", achievedRate, scheduledRate)
	// The Poisson schedule itself is within sampling noise of 500 req/s.
	require.InDelta(t, 500, scheduledRate, 500*0.1)
	require.Equal(t, "500", res.Summary.RequestRate)
	require.False(t, math.IsNaN(float64(res.Summary.P99ScheduleDelayMs)))
}

func TestWaitReadyPollsHealthThenReadsTheModel(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			if calls.Add(1) < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		case "/v1/models":
			fmt.Fprint(w, `{"object":"list","data":[{"id":"llama-3.3-70b","object":"model"}]}`)
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	model, err := WaitReady(ctx, nil, srv.URL, 10*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, "llama-3.3-70b", model)
	require.EqualValues(t, 3, calls.Load())

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	calls.Store(-1000)
	_, err = WaitReady(ctx, nil, srv.URL, 10*time.Millisecond)
	require.ErrorContains(t, err, "last answer from /health: HTTP 503")
}
