package simengine_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine"
)

// postOK sends one request and waits for its answer, decoded into the
// first of out where one is given.
func postOK(t *testing.T, url, path string, body any, out ...any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(url+path, "application/json", strings.NewReader(string(b)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	if len(out) > 0 {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out[0]))
	}
}

// metricValue reads one unlabelled-but-for-the-model sample from a
// Prometheus text page; -1 when it is missing.
func metricValue(t *testing.T, page, name string) float64 {
	t.Helper()
	for line := range strings.Lines(page) {
		if rest, ok := strings.CutPrefix(line, name+"{"); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest[strings.Index(rest, "}")+1:]), 64)
			require.NoError(t, err)
			return v
		}
	}
	return -1
}

func tokenIDs(from, n int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = from + i
	}
	return ids
}

// A scripted sequence of requests, one after another, and the counters
// vLLM would show: queries are every prompt token, hits the full blocks
// already cached (all but the last token of a repeated prompt).
func TestMetricsCountPrefixCacheHits(t *testing.T) {
	p := tokenIDs(1, 100)
	chat := map[string]any{"model": "llama-3.1-8b", "max_tokens": 1,
		"messages": []map[string]string{{"role": "user", "content": strings.Repeat("word ", 80)}}} // 3 + 4 + 100 tokens
	type request struct {
		path string
		body any
	}
	ids := func(prompt []int) request {
		return request{"/v1/completions", map[string]any{"model": "llama-3.1-8b", "prompt": prompt, "max_tokens": 1}}
	}
	tests := []struct {
		name     string
		noCache  bool
		requests []request
		want     map[string]float64
	}{
		{"token ids and chat text", false,
			[]request{ids(p), ids(p), ids(append(append([]int(nil), p...), tokenIDs(1000, 50)...)), {"/v1/chat/completions", chat}, {"/v1/chat/completions", chat}, ids(p[:10])},
			map[string]float64{
				"vllm:prefix_cache_queries_total": 100 + 100 + 150 + 107 + 107 + 10,
				"vllm:prefix_cache_hits_total":    0 + 96 + 96 + 0 + 96 + 0,
				"vllm:prompt_tokens_total":        100 + 100 + 150 + 107 + 107 + 10,
				"vllm:kv_cache_usage_perc":        0,
				// no DRAM tier, no connector counters
				"vllm:external_prefix_cache_hits_total":     -1,
				"infersweep_kv_offload_stored_blocks_total": -1,
			}},
		{"prefix caching off", true, []request{ids(p), ids(p)},
			map[string]float64{"vllm:prefix_cache_hits_total": -1, "vllm:prompt_tokens_total": 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serverConfig(t)
			cfg.Engine.NoPrefixCaching = tt.noCache
			_, url, _ := startSim(t, cfg)
			waitReady(t, url)
			for _, r := range tt.requests {
				postOK(t, url, r.path, r.body)
			}
			page := get(t, url+"/metrics")
			for name, want := range tt.want {
				require.Equal(t, want, metricValue(t, page, name), name)
			}
		})
	}
}

// Three 2,000-token prompts through an HBM cache of fewer than three
// (K blocks): the third evicts the first's tail to DRAM, and the first,
// sent again, finds its head in HBM and its tail in DRAM.
func TestMetricsCountDRAMOffload(t *testing.T) {
	cfg := serverConfig(t)
	cfg.Engine.GPUMemoryUtilization = 0.2087
	cfg.Engine.CPUDRAMGB = 10
	e, err := simengine.NewEngine(cfg.Engine)
	require.NoError(t, err)
	k := e.KVCapacityTokens() / simengine.BlockSize
	require.True(t, k > 250 && k < 374, "HBM holds %d blocks; the script needs 250 to 374", k)
	_, url, _ := startSim(t, cfg)
	waitReady(t, url)
	prompts := [][]int{tokenIDs(1, 2000), tokenIDs(10_001, 2000), tokenIDs(20_001, 2000)}
	for _, i := range []int{0, 1, 2, 0} {
		postOK(t, url, "/v1/completions", map[string]any{"model": "llama-3.1-8b", "prompt": prompts[i], "max_tokens": 1})
	}
	// Each prompt is 125 blocks. The third needs 375 − k more than are
	// free: x of the first's tail blocks go to DRAM. The first, again,
	// matches 125 − x blocks in HBM and x − 1 in DRAM (the last block is
	// recomputed), and takes x new blocks: x of the second's go to DRAM.
	x := 375 - k
	perBlock := simengine.DRAMBytesPerBlock(cfg.Engine)
	page := get(t, url+"/metrics")
	for name, want := range map[string]float64{
		"vllm:prefix_cache_queries_total":           8000,
		"vllm:prefix_cache_hits_total":              float64((125 - x) * 16),
		"vllm:external_prefix_cache_queries_total":  8000,
		"vllm:external_prefix_cache_hits_total":     float64((x - 1) * 16),
		"infersweep_kv_offload_stored_blocks_total": float64(2 * x),
		"infersweep_kv_offload_loaded_blocks_total": float64(x - 1),
		"infersweep_kv_offload_loaded_bytes_total":  float64(int64(float64(x-1) * perBlock)),
		"infersweep_kv_offload_usage_perc":          float64(x+1) / float64(simengine.DRAMBlocks(cfg.Engine)),
	} {
		require.InDelta(t, want, metricValue(t, page, name), 1e-9, name)
	}
	var debug []simengine.DebugRequest
	require.NoError(t, json.Unmarshal([]byte(get(t, url+"/debug/requests")), &debug))
	require.Len(t, debug, 4)
	require.Equal(t, 1984, debug[3].CachedTokens)
	require.Equal(t, (x-1)*16, debug[3].DRAMTokens)
}
