package analysis

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
)

func TestNightCost(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	n := func(v int32) *int32 { return &v }
	rows := []results.PointRow{
		// Two single-node TP8 points of 30 and 60 simulated minutes.
		{Runner: "mi355x", GPUs: 8, DurationS: f(1800)},
		{Runner: "mi355x", GPUs: 8, DurationS: f(3600)},
		// One that failed before its load: counted, in no figure.
		{Runner: "mi355x", GPUs: 4},
		// A 3-node, 12-GPU deployment serving two concurrencies, 1 h each.
		{Runner: "gb200", GPUs: 12, Nodes: n(3), DeploymentID: "d1", DurationS: f(3600)},
		{Runner: "gb200", GPUs: 12, Nodes: n(3), DeploymentID: "d1", DurationS: f(3600)},
	}
	got := NightCost(rows, map[string]int{"mi355x": 3})
	require.Equal(t, []PoolCost{
		{Pool: "gb200", Points: 2, EngineStarts: 1, GPUHours: 24, NodeHours: 6, JobHours: 2},
		{Pool: "mi355x", Points: 3, Unmeasured: 1, EngineStarts: 3, GPUHours: 12, NodeHours: 1.5, JobHours: 1.5, FleetRunners: 3, NightHours: 0.5},
	}, got)
	require.Equal(t, PoolCost{Pool: "total", Points: 5, Unmeasured: 1, EngineStarts: 4, GPUHours: 36, NodeHours: 7.5, JobHours: 3.5, FleetRunners: 3, NightHours: 0.5}, NightTotal(got))
}
