package router

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// metricsEngine serves a /metrics page.
func metricsEngine(t *testing.T, page string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			_, _ = io.WriteString(w, page)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestMetricsReportTheWorkersPower(t *testing.T) {
	power := func(w string) string {
		return "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 3\n# TYPE vllm:gpu_power_watts gauge\nvllm:gpu_power_watts " + w + "\n"
	}
	tests := []struct {
		name      string
		cfg       Config
		want      []string
		wantNoPow bool
	}{
		{
			name: "disaggregated: the mean over every worker, and per role",
			cfg:  Config{Prefill: []string{metricsEngine(t, power("600")), metricsEngine(t, power("400"))}, Decode: []string{metricsEngine(t, power("800"))}},
			want: []string{"vllm:gpu_power_watts 600\n", `infersweep_router_role_gpu_power_watts{role="prefill"} 500`, `infersweep_router_role_gpu_power_watts{role="decode"} 800`},
		},
		{
			name: "a worker that reports none is left out",
			cfg:  Config{Workers: []string{metricsEngine(t, power("700")), metricsEngine(t, "vllm:num_requests_running 1\n")}},
			want: []string{"vllm:gpu_power_watts 700\n", `infersweep_router_role_gpu_power_watts{role="worker"} 700`},
		},
		{
			name:      "engines without power (vLLM): nothing is made up",
			cfg:       Config{Workers: []string{metricsEngine(t, "vllm:num_requests_running 1\n")}},
			wantNoPow: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(serve(t, tt.cfg) + "/metrics")
			require.NoError(t, err)
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, w := range tt.want {
				require.Contains(t, string(page), w)
			}
			if tt.wantNoPow {
				require.NotContains(t, string(page), "power")
			}
		})
	}
}

// A deployment's prefix-cache and offload counters are its workers' sums,
// over every label set, under the engines' names; counters the workers do
// not report are not made up.
func TestMetricsSumTheWorkersCacheCounters(t *testing.T) {
	prefill := metricsEngine(t, "# TYPE vllm:prefix_cache_queries_total counter\n"+
		`vllm:prefix_cache_queries_total{model_name="m"} 1000`+"\n"+`vllm:prefix_cache_hits_total{model_name="m"} 900`+"\n"+
		"infersweep_kv_offload_loaded_bytes_total 2500000000\n")
	prefill2 := metricsEngine(t, `vllm:prefix_cache_queries_total{model_name="m"} 3000`+"\n"+`vllm:prefix_cache_hits_total{model_name="m"} 2100`+"\n")
	decode := metricsEngine(t, "vllm:num_requests_running 2\n")
	resp, err := http.Get(serve(t, Config{Prefill: []string{prefill, prefill2}, Decode: []string{decode}}) + "/metrics")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(page), "\nvllm:prefix_cache_queries_total 4000\n")
	require.Contains(t, string(page), "\nvllm:prefix_cache_hits_total 3000\n")
	require.Contains(t, string(page), "\ninfersweep_kv_offload_loaded_bytes_total 2500000000\n")
	require.NotContains(t, string(page), "external_prefix_cache")
}
