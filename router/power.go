package router

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// powerMetric is the power per GPU an engine reports (the simulator
// does; vLLM itself does not, and then nothing is reported here either).
const powerMetric = "vllm:gpu_power_watts"

// summedCounters are the engines' counters a deployment's totals are the
// sum of: prefix-cache queries and hits (a disaggregated deployment's
// prefill workers hold the cache) and the simulator's DRAM offload
// traffic, so a load generator scraping the router reads the
// deployment's hit rate as it reads one engine's.
var summedCounters = []string{
	"vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total",
	"vllm:external_prefix_cache_queries_total", "vllm:external_prefix_cache_hits_total",
	"infersweep_kv_offload_stored_blocks_total", "infersweep_kv_offload_stored_bytes_total",
	"infersweep_kv_offload_loaded_blocks_total", "infersweep_kv_offload_loaded_bytes_total",
}

// backendReadings are what the router federates from its workers' /metrics.
type backendReadings struct {
	power    map[string][]float64 // per GPU, by role
	counters map[string]float64   // summedCounters over every worker
}

// readBackends reads every backend's /metrics at once; a backend that
// does not answer in time, or reports nothing, is left out.
func (rt *Router) readBackends(ctx context.Context) backendReadings {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := backendReadings{power: map[string][]float64{}, counters: map[string]float64{}}
	for _, p := range rt.pools() {
		for _, b := range p.backends {
			wg.Go(func() {
				w, hasPower, counters := rt.readMetrics(ctx, b.url)
				mu.Lock()
				defer mu.Unlock()
				if hasPower {
					out.power[b.role] = append(out.power[b.role], w)
				}
				for name, v := range counters {
					out.counters[name] += v
				}
			})
		}
	}
	wg.Wait()
	return out
}

// readMetrics reads one backend's power per GPU and the counters summed
// over the deployment (each over all its label sets).
func (rt *Router) readMetrics(ctx context.Context, base string) (watts float64, hasPower bool, counters map[string]float64) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, false, nil
	}
	resp, err := rt.client.Do(req)
	if err != nil {
		return 0, false, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false, nil
	}
	counters = map[string]float64{}
	lines := bufio.NewScanner(io.LimitReader(resp.Body, 1<<20))
	for lines.Scan() {
		series, value, ok := strings.Cut(lines.Text(), " ")
		if !ok || strings.HasPrefix(series, "#") {
			continue
		}
		name, _, _ := strings.Cut(series, "{")
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		switch {
		case err != nil:
		case name == powerMetric && !hasPower:
			watts, hasPower = v, true
		case slices.Contains(summedCounters, name):
			counters[name] += v
		}
	}
	return watts, hasPower, counters
}

// writeCounters reports the summed counters under the engines' names.
func writeCounters(w io.Writer, counters map[string]float64) {
	for _, name := range summedCounters {
		if v, ok := counters[name]; ok {
			fmt.Fprintf(w, "# HELP %s Sum over the workers behind the router.\n# TYPE %s counter\n%s %s\n", name, name, name, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
}

// writePower reports the deployment's power per GPU: the mean over the
// workers that report it (each worker weighted alike: the router does not
// know their GPU counts), under the engine's own name so a load
// generator scraping the router reads it as it reads one engine's, and
// per role beside it.
func writePower(w io.Writer, byRole map[string][]float64) {
	var sum float64
	var n int
	for _, ws := range byRole {
		for _, v := range ws {
			sum += v
			n++
		}
	}
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "# HELP %s Mean power per GPU over the workers behind the router that report it, W.\n# TYPE %s gauge\n%s %g\n",
		powerMetric, powerMetric, powerMetric, sum/float64(n))
	const perRole = "infersweep_router_role_gpu_power_watts"
	fmt.Fprintf(w, "# HELP %s Mean power per GPU of each role's workers, W.\n# TYPE %s gauge\n", perRole, perRole)
	for _, role := range []string{"prefill", "decode", "worker"} {
		if ws := byRole[role]; len(ws) > 0 {
			var s float64
			for _, v := range ws {
				s += v
			}
			fmt.Fprintf(w, "%s{role=%q} %g\n", perRole, role, s/float64(len(ws)))
		}
	}
}
