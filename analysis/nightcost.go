package analysis

import (
	"maps"
	"slices"

	"github.com/infersweep/infersweep/results"
)

// PoolCost is what one pool's share of a night takes on real hardware,
// read off a (simulated) sweep's rows. Hours count only the measured load
// of each point, in the rows' time basis (simulated seconds when the
// engines were simulated): a real engine's start, model load and warm-up
// are not modelled, so they are counted as EngineStarts and not guessed.
type PoolCost struct {
	Pool   string `json:"pool"`
	Points int    `json:"points"`
	// Unmeasured points have no duration (failed before load) and are in
	// no figure below.
	Unmeasured int `json:"unmeasured"`
	// EngineStarts: one per single-node point, one per multinode
	// deployment (its points share it).
	EngineStarts int     `json:"engine_starts"`
	GPUHours     float64 `json:"gpu_hours"`
	NodeHours    float64 `json:"node_hours"`
	// JobHours is the time the pool's runners are busy: as upstream runs
	// them, a runner takes one job at a time, a single-node point or a
	// whole multinode deployment (its points one after another).
	JobHours float64 `json:"job_hours"`
	// FleetRunners is how many runners the real label has (0: unknown;
	// for multinode labels they submit to a cluster and are not its
	// nodes); NightHours, the shortest night they could run JobHours in,
	// perfectly packed (0 when FleetRunners is unknown).
	FleetRunners int     `json:"fleet_runners,omitempty"`
	NightHours   float64 `json:"night_hours,omitempty"`
}

// NightCost sums a sweep's rows per pool (runner label), with
// fleetRunners the real labels' runner counts where known.
func NightCost(rows []results.PointRow, fleetRunners map[string]int) []PoolCost {
	pools := map[string]*PoolCost{}
	deployments := map[string]bool{}
	for _, r := range rows {
		c := pools[r.Runner]
		if c == nil {
			c = &PoolCost{Pool: r.Runner, FleetRunners: fleetRunners[r.Runner]}
			pools[r.Runner] = c
		}
		c.Points++
		switch {
		case r.DeploymentID == "":
			c.EngineStarts++
		case !deployments[r.DeploymentID]:
			deployments[r.DeploymentID] = true
			c.EngineStarts++
		}
		if r.DurationS == nil {
			c.Unmeasured++
			continue
		}
		hours := *r.DurationS / 3600
		nodes := int32(1)
		if r.Nodes != nil && *r.Nodes > 0 {
			nodes = *r.Nodes
		}
		c.GPUHours += hours * float64(r.GPUs)
		c.NodeHours += hours * float64(nodes)
		c.JobHours += hours
	}
	out := make([]PoolCost, 0, len(pools))
	for _, name := range slices.Sorted(maps.Keys(pools)) {
		c := *pools[name]
		if c.FleetRunners > 0 {
			c.NightHours = c.JobHours / float64(c.FleetRunners)
		}
		out = append(out, c)
	}
	return out
}

// NightTotal adds the pools up; its NightHours is the longest pool's,
// since pools run side by side.
func NightTotal(pools []PoolCost) PoolCost {
	total := PoolCost{Pool: "total"}
	for _, c := range pools {
		total.Points += c.Points
		total.Unmeasured += c.Unmeasured
		total.EngineStarts += c.EngineStarts
		total.GPUHours += c.GPUHours
		total.NodeHours += c.NodeHours
		total.JobHours += c.JobHours
		total.FleetRunners += c.FleetRunners
		total.NightHours = max(total.NightHours, c.NightHours)
	}
	return total
}
