package results

import (
	"encoding/json"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/sweep"
)

// SetScenario fills the row's scenario columns from its point: the
// scenario, and for an agentic point its KV offload tier, backend and
// the host DRAM it may use.
func (p *PointRow) SetScenario(pt sweep.Point) {
	p.ScenarioType = pt.Scenario
	if pt.Scenario != sweep.ScenarioAgentic {
		return
	}
	p.KVOffloading = pt.KVOffloading
	if b := pt.KVOffloadBack; b != nil {
		p.KVOffloadBackend, p.KVOffloadBackendVersion = b.Name, b.Version
	}
	if pt.TotalCPUDRAMGB > 0 {
		p.AllocatedCPUDRAMGB = i32(pt.TotalCPUDRAMGB)
	}
}

// OffloadTag names an agentic row's KV offload ("kv:dram/hicache"), ""
// where nothing is offloaded.
func (p PointRow) OffloadTag() string {
	if p.KVOffloading == "" || p.KVOffloading == "none" {
		return ""
	}
	if p.KVOffloadBackend == "" {
		return "kv:" + p.KVOffloading
	}
	return "kv:" + p.KVOffloading + "/" + p.KVOffloadBackend
}

// PrefixHitRate is the engine's prefix-cache hit rate over the replay
// where its /metrics said, else the client's estimate from the trace
// (estimated true); ok false for a row with neither.
func (p PointRow) PrefixHitRate() (rate float64, estimated, ok bool) {
	switch {
	case p.ServerPrefixHitRate != nil:
		return *p.ServerPrefixHitRate, false, true
	case p.EstPrefixHitRate != nil:
		return *p.EstPrefixHitRate, true, true
	}
	return 0, false, false
}

// agenticFigures copies a trace replay's own figures; a random load has
// none and leaves the columns null.
func (p *PointRow) agenticFigures(a *loadgen.Agentic) {
	if a == nil {
		return
	}
	p.SessionsStarted, p.SessionsCompleted = i32(a.SessionsStarted), i32(a.SessionsCompleted)
	p.SessionThroughput, p.MeanConcurrentRequests = opt(a.SessionThroughput), opt(a.MeanConcurrentRequests)
	l := a.SessionLatency
	p.SessionLatency = Dist{Mean: opt(l.Mean), Median: opt(l.Median), P90: opt(l.P90), P99: opt(l.P99)}
	p.EstPrefixHitRate, p.ServerPrefixHitRate = opt(a.EstPrefixHitRate), opt(a.ServerPrefixHitRate)
	p.ServerPrefixHitSource = a.ServerPrefixHitSource
	if len(a.OffloadCounters) > 0 {
		// encoding/json writes map keys sorted: the same counters give
		// the same text.
		if b, err := json.Marshal(a.OffloadCounters); err == nil {
			p.OffloadCounters = string(b)
		}
	}
}
