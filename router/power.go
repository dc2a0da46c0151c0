package router

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// powerMetric is the power per GPU an engine reports (the simulator
// does; vLLM itself does not, and then nothing is reported here either).
const powerMetric = "vllm:gpu_power_watts"

// backendPower reads each backend's power per GPU, at once, in role
// order; a backend that does not answer in time, or reports none, is
// left out.
func (rt *Router) backendPower(ctx context.Context) map[string][]float64 {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	byRole := map[string][]float64{}
	for _, p := range rt.pools() {
		for _, b := range p.backends {
			wg.Go(func() {
				if w, ok := rt.readPower(ctx, b.url); ok {
					mu.Lock()
					byRole[b.role] = append(byRole[b.role], w)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return byRole
}

func (rt *Router) readPower(ctx context.Context, base string) (float64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := rt.client.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	lines := bufio.NewScanner(io.LimitReader(resp.Body, 1<<20))
	for lines.Scan() {
		name, value, ok := strings.Cut(lines.Text(), " ")
		if ok && (name == powerMetric || strings.HasPrefix(name, powerMetric+"{")) {
			w, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return w, err == nil
		}
	}
	return 0, false
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
