package loadgen

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// vllmPage is shaped as vLLM 0.10 serves /metrics: HELP and TYPE lines,
// a model_name label, histograms and the _created samples of counters.
const vllmPage = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 7.0
vllm:num_requests_running{engine="1",model_name="m"} 5.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="m"} 1200.0
vllm:prompt_tokens_total{engine="1",model_name="m"} 800.0
# HELP vllm:prompt_tokens_created Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_created gauge
vllm:prompt_tokens_created{engine="0",model_name="m"} 1.7e+09
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 3.0
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"} 4.0
vllm:time_to_first_token_seconds_count{model_name="m"} 4.0
vllm:time_to_first_token_seconds_sum{model_name="m"} 0.9
# HELP vllm:gpu_power_watts Modeled power per GPU, W (infersweep simulator).
# TYPE vllm:gpu_power_watts gauge
vllm:gpu_power_watts 612.5
`

const sglangPage = `# HELP sglang:num_running_reqs The number of running requests.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="m",tp_rank="0"} 12.0
# TYPE sglang:token_usage gauge
sglang:token_usage{model_name="m",tp_rank="0"} 0.5
# TYPE sglang:generation_tokens_total counter
sglang:generation_tokens_total{model_name="m",tp_rank="0"} 4096.0
`

func TestParsePrometheusKeepsEngineMetrics(t *testing.T) {
	tests := []struct {
		name             string
		page             string
		gauges, counters map[string]float64
	}{
		{"vLLM, summed over engines; histograms and _created left out", vllmPage,
			map[string]float64{"vllm:num_requests_running": 12, "vllm:kv_cache_usage_perc": 0.25, "vllm:gpu_power_watts": 612.5},
			map[string]float64{"vllm:prompt_tokens_total": 2000}},
		{"SGLang", sglangPage,
			map[string]float64{"sglang:num_running_reqs": 12, "sglang:token_usage": 0.5},
			map[string]float64{"sglang:generation_tokens_total": 4096}},
		{"no TYPE lines", "vllm:num_requests_waiting 3\nvllm:generation_tokens_total 9 1700000000000\n",
			map[string]float64{"vllm:num_requests_waiting": 3}, map[string]float64{"vllm:generation_tokens_total": 9}},
		{"empty", "", map[string]float64{}, map[string]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gauges, counters := parsePrometheus(strings.NewReader(tt.page))
			require.Equal(t, tt.gauges, gauges)
			require.Equal(t, tt.counters, counters)
		})
	}
}

// BenchmarkParsePrometheus: one scrape a second of a vLLM page.
func BenchmarkParsePrometheus(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		parsePrometheus(strings.NewReader(vllmPage))
	}
}
