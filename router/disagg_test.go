package router_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/router"
	"github.com/infersweep/infersweep/simengine"
)

// timeScale is low enough that a loaded machine's few milliseconds of
// HTTP overhead stay small next to the transfer times measured.
const timeScale = 2

func startEngine(t *testing.T, role simengine.Role, link simengine.KVLink) (*simengine.Server, string) {
	t.Helper()
	m, err := simengine.LookupModel("llama-3.1-8b")
	require.NoError(t, err)
	h, err := simengine.LookupHardware("h100")
	require.NoError(t, err)
	srv, err := simengine.NewServer(simengine.ServerConfig{
		Engine: simengine.EngineConfig{Model: m, Hardware: h, Precision: simengine.BF16, TP: 1, MaxNumSeqs: 64, MaxNumBatchedTokens: 8192,
			MaxModelLen: 8192, GPUMemoryUtilization: 0.9, Calibration: simengine.DefaultCalibration(), KVLink: link},
		ServedModelName: "llama-3.1-8b", TimeScale: timeScale, Role: role,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	httpSrv := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		cancel()
		httpSrv.Close()
		<-done
	})
	return srv, httpSrv.URL
}

// ttft sends a streamed completion of n prompt tokens and returns the time
// to its first chunk, in simulated time.
func ttft(t *testing.T, url string, n int) time.Duration {
	t.Helper()
	ids := strings.TrimSuffix(strings.Repeat("1,", n), ",")
	start := time.Now()
	resp, err := http.Post(url+"/v1/completions", "application/json",
		strings.NewReader(`{"model":"llama-3.1-8b","prompt":[`+ids+`],"max_tokens":2,"ignore_eos":true,"stream":true}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body := bufio.NewReader(resp.Body)
	line, err := body.ReadString('\n')
	require.NoError(t, err)
	took := time.Duration(float64(time.Since(start)) * timeScale)
	require.True(t, strings.HasPrefix(line, "data: {"), line)
	_, err = io.Copy(io.Discard, body) // to the end, so the engine records the request
	require.NoError(t, err)
	return took
}

// TTFT through the router = prefill + KV transfer + first decode step:
// the engines' own clocks give each part exactly, and the client's
// stopwatch sees the transfer time move with prompt length over link
// bandwidth.
func TestTTFTGrowsWithPromptOverLinkBandwidth(t *testing.T) {
	prompts := []int{1000, 4000}
	measured := map[float64]map[int]time.Duration{}
	var model func(gbs float64, n int) time.Duration
	for _, gbs := range []float64{2, 8} {
		link := simengine.KVLink{Name: "test", GBs: gbs}
		_, prefillURL := startEngine(t, simengine.Prefill, link)
		decode, decodeURL := startEngine(t, simengine.Decode, link)
		rt, err := router.New(router.Config{Prefill: []string{prefillURL}, Decode: []string{decodeURL}})
		require.NoError(t, err)
		front := httptest.NewServer(rt.Handler())
		t.Cleanup(front.Close)
		require.Eventually(t, func() bool {
			resp, err := http.Get(front.URL + "/health")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == http.StatusOK
		}, 5*time.Second, 5*time.Millisecond)

		measured[gbs] = map[int]time.Duration{}
		for _, n := range prompts {
			measured[gbs][n] = ttft(t, front.URL, n)
		}
		// 128 KiB of BF16 KV per token of Llama-3.1-8B crosses one link.
		model = func(gbs float64, n int) time.Duration {
			return time.Duration(float64(n) * 131072 / (gbs * 1e9) * float64(time.Second))
		}
		reqs := decode.DebugRequests()
		require.Len(t, reqs, len(prompts))
		for i, n := range prompts {
			require.Equal(t, n, reqs[i].PromptTokens)
			require.InDelta(t, float64(model(gbs, n)), float64(reqs[i].KVTransferSimNs), 1e3, "the decode engine waited exactly the transfer")
			// One decode step of the 8B under the fitted vLLM calibration is
			// ~18 ms (its 3 ms step overhead, ~37% of HBM bandwidth); two
			// steps or a queue would exceed 25 ms.
			require.Less(t, reqs[i].TTFTSimNs-reqs[i].KVTransferSimNs, int64(25*time.Millisecond), "then one decode step")
		}
	}
	t.Logf("client TTFT (simulated): %v", measured)
	for _, n := range prompts {
		want := model(2, n) - model(8, n)
		got := measured[2][n] - measured[8][n]
		require.InDelta(t, float64(want), float64(got), 0.2*float64(want)+float64(12*time.Millisecond),
			"prompt %d: 4× less bandwidth adds %v of transfer", n, want)
	}
	// Longer prompts: the transfer grows with length over bandwidth, on
	// top of a longer prefill; the slow link's extra time is 4× the fast's.
	slowExtra := measured[2][4000] - measured[2][1000]
	fastExtra := measured[8][4000] - measured[8][1000]
	wantGap := (model(2, 4000) - model(2, 1000)) - (model(8, 4000) - model(8, 1000))
	require.InDelta(t, float64(wantGap), float64(slowExtra-fastExtra), 0.2*float64(wantGap)+float64(12*time.Millisecond))
}
