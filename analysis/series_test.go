package analysis

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// MTP and plain points of one hardware and framework are two curves; a
// plain series keeps the name it always had.
func TestSpeculativeDecodingIsASeriesOfItsOwn(t *testing.T) {
	for _, tt := range []struct{ spec, want string }{{"", "h200/sglang"}, {"none", "h200/sglang"}, {"mtp", "h200/sglang+mtp"}} {
		require.Equal(t, tt.want, SeriesName(results.PointRow{Runner: "h200", Framework: "sglang", SpecDecoding: tt.spec}))
	}
	point := func(id, spec string, tput, inter float64) results.PointRow {
		return results.PointRow{PointID: id, Status: "succeeded", Model: "dsr1", Precision: "fp8", ISL: 8192, OSL: 1024, Runner: "h200",
			Framework: "sglang", SpecDecoding: spec, TputPerGPU: &tput, Interactivity: &inter}
	}
	groups := Analyze([]results.PointRow{point("a", "none", 900, 40), point("b", "none", 500, 80), point("c", "mtp", 700, 90)}, nil, TierHyperscaler, nil)
	require.Len(t, groups, 1)
	var names []string
	for _, s := range groups[0].Series {
		names = append(names, s.Key)
		if s.Key == "h200/sglang+mtp" {
			require.Equal(t, "mtp", s.SpecDecoding)
			require.Equal(t, 1, s.Points)
		}
	}
	require.ElementsMatch(t, []string{"h200/sglang", "h200/sglang+mtp"}, names)
}

// A multinode point's series names its deployment's roles and
// parallelism: two topologies of one entry are two curves, beside the
// single-node curve of the same hardware and framework, and frontier
// points carry their deployment.
func TestMultinodeTopologiesAreSeriesOfTheirOwn(t *testing.T) {
	workers := func(n, tp int, dpa bool) *sweep.Workers {
		return &sweep.Workers{NumWorker: n, TP: tp, PP: 1, EP: tp, DPAttn: dpa, DCPSize: 1, PCPSize: 1}
	}
	point := func(id string, pt sweep.Point, tput, inter float64) results.PointRow {
		r := results.PointRow{PointID: id, Status: "succeeded", Model: "dsr1", Precision: "fp4", ISL: 8192, OSL: 1024, Runner: "gb200",
			Framework: "dynamo-sglang", SpecDecoding: "none", TputPerGPU: &tput, Interactivity: &inter}
		r.SetTopology(pt)
		return r
	}
	p1d2 := sweep.Point{Multinode: true, Prefill: workers(1, 8, true), Decode: workers(2, 16, true), DeploymentID: "dep-a"}
	p3d1 := sweep.Point{Multinode: true, Prefill: workers(3, 4, false), Decode: workers(1, 8, false), DeploymentID: "dep-b"}
	agg := sweep.Point{Multinode: true, Prefill: workers(2, 16, false), Decode: workers(0, 8, false), DeploymentID: "dep-c"}
	tests := []struct {
		row  results.PointRow
		want string
	}{
		{point("s", sweep.Point{}, 900, 40), "gb200/dynamo-sglang"},
		{point("a", p1d2, 700, 60), "gb200/dynamo-sglang 1P (TP8/EP8/DPA) x 2D (TP16/EP16/DPA)"},
		{point("b", p3d1, 600, 90), "gb200/dynamo-sglang 3P (TP4/EP4) x 1D (TP8/EP8)"},
		{point("c", agg, 500, 30), "gb200/dynamo-sglang 2× (TP16/EP16) aggregated"},
		{results.PointRow{Runner: "gb200", Framework: "sglang", SpecDecoding: "mtp", Topology: "prefill 1×TP8, decode 2×TP16"},
			"gb200/sglang+mtp prefill 1×TP8, decode 2×TP16"}, // a row from before the deployment columns
		// Agentic: offloading to DRAM is a curve apart; "none" is not tagged.
		{results.PointRow{Runner: "cluster.b300", Framework: "sglang", SpecDecoding: "mtp", KVOffloading: "dram", KVOffloadBackend: "hicache"},
			"cluster.b300/sglang+mtp kv:dram/hicache"},
		{results.PointRow{Runner: "cluster.b300", Framework: "sglang", SpecDecoding: "mtp", KVOffloading: "none"}, "cluster.b300/sglang+mtp"},
	}
	var rows []results.PointRow
	for _, tt := range tests {
		require.Equal(t, tt.want, SeriesName(tt.row))
		if tt.row.PointID != "" {
			rows = append(rows, tt.row)
		}
	}
	groups := Analyze(rows, nil, TierHyperscaler, nil)
	require.Len(t, groups, 1)
	require.Len(t, groups[0].Series, 4)
	for _, s := range groups[0].Series {
		if s.Key == "gb200/dynamo-sglang 1P (TP8/EP8/DPA) x 2D (TP16/EP16/DPA)" {
			require.Equal(t, "1P (TP8/EP8/DPA) x 2D (TP16/EP16/DPA)", s.Topology)
			require.Equal(t, "dep-a", s.Frontier[0].Deployment)
			require.Equal(t, "1P (TP8/EP8/DPA) x 2D (TP16/EP16/DPA)", s.Frontier[0].Topology)
		}
	}
	frontier := FrontierRows("s1", groups)
	var deployments []string
	for _, f := range frontier {
		if f.Series == "*" && f.Plane == results.PlaneInteractivity {
			deployments = append(deployments, f.DeploymentID)
		}
	}
	require.Equal(t, []string{"", "dep-a", "dep-b"}, deployments, "by interactivity: single-node (40), 1p2d (60), 3p1d (90); aggregated is dominated")
}
