package simengine

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// histogram is a Prometheus histogram with fixed buckets (seconds).
type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

func newHistogram(bounds ...float64) histogram {
	return histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) observe(v float64) {
	h.sum += v
	h.count++
	for i, b := range h.bounds {
		if v <= b {
			h.counts[i]++
			return
		}
	}
}

// metricsState is what /metrics shows, updated by the scheduler after each
// step. Latencies are in simulated seconds.
type metricsState struct {
	running, waiting int
	kvUsage          float64
	powerWatts       float64
	promptTokens     int64
	generationTokens int64
	preemptions      int64
	success          int64
	cache            CacheStats
	dramBlocksUsed   int
	ttft, itl, e2e   histogram
}

// Buckets as vLLM defines them for these histograms.
func newMetricsState() metricsState {
	return metricsState{
		ttft: newHistogram(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560),
		itl:  newHistogram(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80),
		e2e:  newHistogram(0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680),
	}
}

func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	m := s.metrics
	// Copy the bucket slices: they are written under the lock.
	for _, h := range []*histogram{&m.ttft, &m.itl, &m.e2e} {
		h.counts = append([]uint64(nil), h.counts...)
	}
	s.mu.Unlock()

	labels := `{model_name=` + strconv.Quote(s.cfg.ServedModelName) + `}`
	var b strings.Builder
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s%s %g\n", name, help, name, name, labels, v)
	}
	counter := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s%s %d\n", name, help, name, name, labels, v)
	}
	hist := func(name, help string, h histogram) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
		var cum uint64
		for i, bound := range h.bounds {
			cum += h.counts[i]
			fmt.Fprintf(&b, "%s_bucket{model_name=%q,le=\"%g\"} %d\n", name, s.cfg.ServedModelName, bound, cum)
		}
		fmt.Fprintf(&b, "%s_bucket{model_name=%q,le=\"+Inf\"} %d\n%s_sum%s %g\n%s_count%s %d\n", name, s.cfg.ServedModelName, h.count, name, labels, h.sum, name, labels, h.count)
	}
	gauge("vllm:num_requests_running", "Number of requests in model execution batches.", float64(m.running))
	gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", float64(m.waiting))
	gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", m.kvUsage)
	gauge("vllm:gpu_power_watts", "Modeled power per GPU, W (infersweep simulator).", m.powerWatts)
	counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", m.promptTokens)
	counter("vllm:generation_tokens_total", "Number of generation tokens processed.", m.generationTokens)
	counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.", m.preemptions)
	counter("vllm:request_success_total", "Count of successfully processed requests.", m.success)
	s.writeCacheMetrics(gauge, counter, m)
	hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds (simulated time).", m.ttft)
	hist("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds (simulated time).", m.itl)
	hist("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds (simulated time).", m.e2e)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}

// writeCacheMetrics adds the prefix cache's counters under vLLM's names
// (vllm/v1/metrics/loggers.py; prometheus_client appends _total) and the
// DRAM tier's, for which vLLM has no names, under infersweep_ ones.
func (s *Server) writeCacheMetrics(gauge func(string, string, float64), counter func(string, string, int64), m metricsState) {
	cfg := s.cfg.Engine
	if cfg.NoPrefixCaching {
		return
	}
	c := m.cache
	counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", c.Queries)
	counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", c.Hits)
	if cfg.CPUDRAMGB <= 0 {
		return
	}
	// The DRAM tier plays vLLM's offloading connector, whose hits vLLM
	// reports as external.
	counter("vllm:external_prefix_cache_queries_total", "External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.", c.ExternalQueries)
	counter("vllm:external_prefix_cache_hits_total", "External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.", c.ExternalHits)
	perBlock := DRAMBytesPerBlock(cfg)
	counter("infersweep_kv_offload_stored_blocks_total", "KV blocks evicted from HBM into the DRAM tier (infersweep simulator).", c.OffloadStoredBlocks)
	counter("infersweep_kv_offload_stored_bytes_total", "Bytes of KV evicted from HBM into the DRAM tier, all GPUs of the replica (infersweep simulator).", int64(float64(c.OffloadStoredBlocks)*perBlock))
	counter("infersweep_kv_offload_loaded_blocks_total", "KV blocks loaded from the DRAM tier back into HBM for a prefix hit (infersweep simulator).", c.OffloadLoadedBlocks)
	counter("infersweep_kv_offload_loaded_bytes_total", "Bytes of KV loaded from the DRAM tier back into HBM, all GPUs of the replica (infersweep simulator).", int64(float64(c.OffloadLoadedBlocks)*perBlock))
	gauge("infersweep_kv_offload_usage_perc", "DRAM tier usage. 1 means 100 percent usage (infersweep simulator).", float64(m.dramBlocksUsed)/float64(max(1, DRAMBlocks(cfg))))
}
