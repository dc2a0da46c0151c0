package simengine_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/simengine"
)

func serverConfig(t *testing.T) simengine.ServerConfig {
	t.Helper()
	m, err := simengine.LookupModel("llama-3.1-8b")
	require.NoError(t, err)
	h, err := simengine.LookupHardware("h100")
	require.NoError(t, err)
	return simengine.ServerConfig{
		Engine: simengine.EngineConfig{Model: m, Hardware: h, Precision: simengine.BF16, TP: 1, MaxNumSeqs: 256,
			MaxNumBatchedTokens: 8192, MaxModelLen: 4096, GPUMemoryUtilization: 0.9, Calibration: simengine.DefaultCalibration()},
		ServedModelName: "llama-3.1-8b",
		TimeScale:       20,
		RecordChunks:    true,
	}
}

// startSim runs a sim server until the test ends and returns its URL and
// the channel Run's result arrives on.
func startSim(t *testing.T, cfg simengine.ServerConfig) (*simengine.Server, string, <-chan error) {
	t.Helper()
	srv, err := simengine.NewServer(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	httpSrv := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		cancel()
		httpSrv.Close()
	})
	return srv, httpSrv.URL, done
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	model, err := loadgen.WaitReady(ctx, nil, url, 10*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, "llama-3.1-8b", model)
}

func loadConfig(url string, concurrency, prompts int) loadgen.Config {
	w := loadgen.DefaultWorkload()
	w.Model, w.InputLen, w.OutputLen = "llama-3.1-8b", 256, 64
	return loadgen.Config{BaseURL: url, Workload: w, MaxConcurrency: concurrency, NumPrompts: prompts, NumWarmups: 0, TimeScale: 20}
}

func TestHealthTurnsGreenAfterStartup(t *testing.T) {
	cfg := serverConfig(t)
	cfg.StartupDelay = 300 * time.Millisecond
	_, url, _ := startSim(t, cfg)
	resp, err := http.Get(url + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	waitReady(t, url)
}

func TestRequestErrorsHaveVLLMShape(t *testing.T) {
	_, url, _ := startSim(t, serverConfig(t))
	waitReady(t, url)
	tests := []struct {
		name, body  string
		wantStatus  int
		wantMessage string
	}{
		{"prompt plus max_tokens over max-model-len", `{"model":"llama-3.1-8b","prompt":[` + strings.Repeat("1,", 4000) + `1],"max_tokens":200}`, 400,
			"This model's maximum context length is 4096 tokens. However, you requested 4201 tokens (4001 in the messages, 200 in the completion)."},
		{"unknown model", `{"model":"gpt-5","prompt":"hi"}`, 404, "The model `gpt-5` does not exist."},
		{"batched prompt", `{"model":"llama-3.1-8b","prompt":[[1,2],[3]]}`, 400, "batched prompts are not simulated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(tt.body))
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tt.wantStatus, resp.StatusCode)
			var body struct {
				Object  string `json:"object"`
				Message string `json:"message"`
				Code    int    `json:"code"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			require.Equal(t, "error", body.Object)
			require.Equal(t, tt.wantStatus, body.Code)
			require.Contains(t, body.Message, tt.wantMessage)
		})
	}
}

func TestLoadgenAgainstTheSimAgreesWithServerTimestamps(t *testing.T) {
	srv, url, _ := startSim(t, serverConfig(t))
	waitReady(t, url)
	cfg := loadConfig(url, 16, 48)
	cfg.ScrapeMetrics = true
	res, err := loadgen.Run(context.Background(), cfg)
	require.NoError(t, err)
	s := res.Summary
	require.Equal(t, 48, s.Completed)
	require.Equal(t, 48, s.UsageReported)
	require.Zero(t, s.OutputLenMismatches, "ignore_eos and max_tokens honored")
	require.Zero(t, s.UsageChunkMismatches, "one chunk per token")
	require.Equal(t, loadgen.TimeBasisSimulated, s.TimeBasis)
	require.InDelta(t, 256, float64(s.MeanInputLen), 256*0.3)

	// Server truth: per-chunk flush times. Client and server ITLs, both
	// wall-clock, pooled, must agree at the median within half a ms.
	resp, err := http.Get(url + "/debug/requests")
	require.NoError(t, err)
	defer resp.Body.Close()
	var debug []simengine.DebugRequest
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&debug))
	require.Len(t, debug, 48)
	var serverITLs []float64
	for _, d := range debug {
		require.Len(t, d.ChunkNs, d.CompletionTokens)
		for i := 1; i < len(d.ChunkNs); i++ {
			serverITLs = append(serverITLs, float64(d.ChunkNs[i]-d.ChunkNs[i-1])/1e6)
		}
	}
	slices.Sort(serverITLs)
	serverMedianWallMs := serverITLs[len(serverITLs)/2]
	clientMedianWallMs := float64(s.MedianITLms) / s.TimeScale
	require.InDelta(t, serverMedianWallMs, clientMedianWallMs, 0.5)

	metricsBody := get(t, url+"/metrics")
	require.Contains(t, metricsBody, `vllm:generation_tokens_total{model_name="llama-3.1-8b"} 3072`)
	require.Contains(t, metricsBody, `vllm:request_success_total{model_name="llama-3.1-8b"} 48`)
	require.Contains(t, metricsBody, "vllm:time_to_first_token_seconds_count")
	require.InDelta(t, 3072, res.Metrics.CounterDeltas["vllm:generation_tokens_total"], 0)
	lags := srv.StepLag()
	require.NotEmpty(t, lags)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestChatCompletionsStream(t *testing.T) {
	_, url, _ := startSim(t, serverConfig(t))
	waitReady(t, url)
	cfg := loadConfig(url, 4, 8)
	cfg.Workload.API = loadgen.APIChat
	res, err := loadgen.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, 8, res.Summary.Completed)
	require.EqualValues(t, 8*64, res.Summary.TotalOutputTokens)
}

func TestFaultInjection(t *testing.T) {
	tests := []struct {
		name      string
		faults    simengine.Faults
		wantClass string
	}{
		{"error rate answers HTTP 500", simengine.Faults{ErrorRate: 1}, "HTTP 500"},
		{"stalls hold the stream open", simengine.Faults{StallProb: 1}, "stalled: no data for 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serverConfig(t)
			cfg.Faults = tt.faults
			_, url, _ := startSim(t, cfg)
			waitReady(t, url)
			lc := loadConfig(url, 4, 8)
			lc.StallTimeout = 300 * time.Millisecond
			res, err := loadgen.Run(context.Background(), lc)
			require.ErrorIs(t, err, loadgen.ErrAllFailed)
			require.Equal(t, map[string]int{tt.wantClass: 8}, res.Summary.Errors)
		})
	}

	t.Run("fail-startup-prob fails the start", func(t *testing.T) {
		cfg := serverConfig(t)
		cfg.Faults.FailStartupProb = 1
		_, _, done := startSim(t, cfg)
		var startErr *simengine.StartupError
		require.ErrorAs(t, <-done, &startErr)
		require.Contains(t, startErr.Error(), "CUDA out of memory")
	})

	t.Run("crash-after-requests ends the engine", func(t *testing.T) {
		cfg := serverConfig(t)
		cfg.Faults.CrashAfterRequests = 5
		_, url, done := startSim(t, cfg)
		waitReady(t, url)
		go func() { _, _ = loadgen.Run(context.Background(), loadConfig(url, 2, 20)) }()
		select {
		case err := <-done:
			var crash *simengine.CrashError
			require.True(t, errors.As(err, &crash), "got %v", err)
			require.Equal(t, 5, crash.After)
		case <-time.After(20 * time.Second):
			t.Fatal("engine did not crash")
		}
	})

	t.Run("same seed, same faults", func(t *testing.T) {
		failures := func() map[string]int {
			cfg := serverConfig(t)
			cfg.Faults = simengine.Faults{ErrorRate: 0.5, Seed: 9}
			_, url, _ := startSim(t, cfg)
			waitReady(t, url)
			lc := loadConfig(url, 1, 20)
			res, _ := loadgen.Run(context.Background(), lc)
			return res.Summary.Errors
		}
		first := failures()
		require.NotEmpty(t, first)
		require.Equal(t, first, failures())
	})
}
