package results

import (
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
