package router

import (
	"fmt"
	"io"
	"sync/atomic"
)

// backend is one engine behind the router. Its counters are what
// /metrics reports and what load balancing reads.
type backend struct {
	url  string
	role string // prefill, decode or worker

	outstanding atomic.Int64
	requests    atomic.Int64
	errors      atomic.Int64
}

// pool is the engines of one role.
type pool struct {
	backends []*backend
	// next rotates where the scan starts, so that ties (an idle pool, say)
	// go round robin instead of always to the first engine.
	next atomic.Uint64
}

func newPool(role string, urls []string) *pool {
	p := &pool{}
	for _, u := range urls {
		p.backends = append(p.backends, &backend{url: u, role: role})
	}
	return p
}

// acquire picks the engine with the fewest requests in flight and counts
// one more on it; release undoes that. Picking and counting are not one
// atomic step: two requests arriving together may pick the same engine,
// which only costs a little balance.
func (p *pool) acquire() *backend {
	n := uint64(len(p.backends))
	start := p.next.Add(1) - 1
	var best *backend
	for i := range n {
		b := p.backends[(start+i)%n]
		if best == nil || b.outstanding.Load() < best.outstanding.Load() {
			best = b
		}
	}
	best.outstanding.Add(1)
	best.requests.Add(1)
	return best
}

func (b *backend) release() { b.outstanding.Add(-1) }

// writeMetrics writes the router's counters in Prometheus text format.
func writeMetrics(w io.Writer, pools []*pool) {
	metrics := []struct {
		name, kind, help string
		value            func(*backend) int64
	}{
		{"infersweep_router_requests_total", "counter", "Requests the router sent to each backend.", func(b *backend) int64 { return b.requests.Load() }},
		{"infersweep_router_backend_errors_total", "counter", "Requests to each backend that failed or answered an error.", func(b *backend) int64 { return b.errors.Load() }},
		{"infersweep_router_outstanding_requests", "gauge", "Requests in flight at each backend.", func(b *backend) int64 { return b.outstanding.Load() }},
	}
	for _, m := range metrics {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.kind)
		for _, p := range pools {
			for _, b := range p.backends {
				fmt.Fprintf(w, "%s{backend=%q,role=%q} %d\n", m.name, b.url, b.role, m.value(b))
			}
		}
	}
}
