package analysis

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// TestPlottedFiguresFollowTheCostTable checks each figure a dashboard
// point carries against the default settings' prices and power.
func TestPlottedFiguresFollowTheCostTable(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	row := func(id, runner string, edit func(*results.PointRow)) results.PointRow {
		r := results.PointRow{PointID: id, Runner: runner, Framework: "vllm", Model: "m", Precision: "fp8", ISL: 1024, OSL: 1024,
			Status: "succeeded", TputPerGPU: f(1000), Interactivity: f(50)}
		if edit != nil {
			edit(&r)
		}
		return r
	}
	tests := []struct {
		row                     results.PointRow
		hardware, kind, spec    string
		usdHyperscaler, usdRent *float64 // $ per million tokens
		tokPerSecPerMW, jPerTok *float64
		series                  string
	}{
		{row("single", "h100-cw", nil), "h100", KindSingleNode, "none",
			f(1.30 / (1000 * 3600 / 1e6)), f(1.30 / (1000 * 3600 / 1e6)), f(1000 * 1000 / 1.73), f(1.73 * 1000 / 1000), "h100-cw/vllm"},
		{row("mtp", "sim-b200", func(r *results.PointRow) { r.SpecDecoding = "mtp" }), "b200", KindSingleNode, "mtp",
			f(1.95 / 3.6), f(2.90 / 3.6), f(1e6 / 2.17), f(2.17), "sim-b200/vllm+mtp"},
		{row("disagg", "gb200-nvl72", func(r *results.PointRow) { r.IsMultinode, r.Disagg = true, true }), "gb200", KindDisaggregated, "none",
			f(2.21 / 3.6), f(3.30 / 3.6), f(1e6 / 2.10), f(2.10), "gb200-nvl72/vllm"},
		{row("multinode", "mi355x", func(r *results.PointRow) { r.IsMultinode = true }), "mi355x", KindMultinode, "none",
			f(1.48 / 3.6), f(2.10 / 3.6), f(1e6 / 2.65), f(2.65), "mi355x/vllm"},
		// Power sampled on the node: the measured J/token wins.
		{row("measured", "h100", func(r *results.PointRow) { r.JoulesPerToken = f(0.9) }), "h100", KindSingleNode, "none",
			f(1.30 / 3.6), f(1.30 / 3.6), f(1e6 / 1.73), f(0.9), "h100/vllm"},
		// Unpriced hardware keeps its runner label and no derived figure.
		{row("tpu", "tpu-v5", nil), "tpu-v5", KindSingleNode, "none", nil, nil, nil, nil, "tpu-v5/vllm"},
	}
	rows := []results.PointRow{row("failed", "h100", func(r *results.PointRow) { r.Status, r.TputPerGPU = "failed", nil })}
	for _, tc := range tests {
		rows = append(rows, tc.row)
	}
	kept, figs := Plotted(rows, sweep.DefaultSettings().Hardware)
	require.Len(t, kept, len(tests), "the failed point is not plotted")
	for i, tc := range tests {
		got := figs[i]
		require.Equal(t, tc.row.PointID, kept[i].PointID)
		require.Equal(t, []string{tc.hardware, tc.kind, tc.spec, tc.series}, []string{got.Hardware, got.Kind, got.SpecName, got.Series}, tc.row.PointID)
		for name, pair := range map[string][2]*float64{"usd hyperscaler": {tc.usdHyperscaler, got.USDPerMTok(TierHyperscaler)},
			"usd rental-3y": {tc.usdRent, got.USDPerMTok(TierRental3Y)}, "tok/s per MW": {tc.tokPerSecPerMW, got.TokPerSecPerMW}, "J/token": {tc.jPerTok, got.JPerToken}} {
			if pair[0] == nil {
				require.Nil(t, pair[1], "%s %s", tc.row.PointID, name)
				continue
			}
			require.NotNil(t, pair[1], "%s %s", tc.row.PointID, name)
			require.InDelta(t, *pair[0], *pair[1], 1e-9, "%s %s", tc.row.PointID, name)
		}
		require.True(t, got.OnFrontier, "each series has one point: it is its frontier")
	}
}

// Agentic points are on their series' session frontier when no point of
// the series is both faster per session and earns more per GPU; the
// offloading series is a frontier of its own, and rows without a session
// latency (fixed-seq-len) are on none.
func TestSessionFrontier(t *testing.T) {
	kept, figs := Plotted(agenticRows(), nil)
	on := map[string]bool{}
	for i, r := range kept {
		on[r.PointID] = figs[i].OnSessionFrontier
	}
	require.Equal(t, map[string]bool{"c4": true, "c16": true, "c8": false, "d16": true, "fixed": false}, on)
}

// agenticRows are one model's agentic points in two series (HBM only and
// DRAM offload) and one fixed-seq-len point.
func agenticRows() []results.PointRow {
	f := func(v float64) *float64 { return &v }
	row := func(id, offload string, tput, sessionMs float64) results.PointRow {
		r := results.PointRow{PointID: id, Runner: "cluster.h200", Framework: "sglang", Model: "m", Precision: "fp8",
			ScenarioType: sweep.ScenarioAgentic, KVOffloading: offload, Status: "succeeded", TputPerGPU: f(tput), Interactivity: f(40)}
		if offload == "dram" {
			r.KVOffloadBackend = "hicache"
		}
		if sessionMs > 0 {
			r.SessionLatency.Median = f(sessionMs)
		}
		return r
	}
	return []results.PointRow{
		row("c4", "none", 800, 60_000),    // fastest sessions
		row("c16", "none", 2000, 90_000),  // more per GPU, slower sessions: on
		row("c8", "none", 700, 95_000),    // slower and earns less than c4: off
		row("d16", "dram", 1500, 120_000), // alone in its series: on
		row("fixed", "", 3000, 0),         // no session latency: on no session frontier
	}
}

// The session frontier reaches the lake as a plane of its own, in ms,
// and the report draws it, in seconds, for the agentic group only.
func TestSessionPlaneInLakeAndReport(t *testing.T) {
	rows := agenticRows()
	fixed := rows[4]
	fixed.ISL, fixed.OSL, fixed.E2EL.Median = 1024, 1024, ptr(2000)
	rows[4] = fixed
	groups := Analyze(rows, nil, TierHyperscaler, nil)
	session := map[string]float64{}
	for _, fr := range FrontierRows("s1", groups) {
		if fr.Plane == results.PlaneSession {
			require.Nil(t, fr.Interactivity, fr.PointID)
			session[fr.Series+" "+fr.PointID] = *fr.MedianSessionLatencyMs
		}
	}
	require.Equal(t, map[string]float64{
		"cluster.h200/sglang c4":                  60_000,
		"cluster.h200/sglang c16":                 90_000,
		"cluster.h200/sglang kv:dram/hicache d16": 120_000,
	}, session)

	var page bytes.Buffer
	require.NoError(t, RenderHTML(&page, &Report{Manifest: results.Manifest{SweepID: "s1"}, Rows: rows, Groups: groups}))
	html := page.String()
	require.Equal(t, 1, strings.Count(html, "<figcaption>Throughput per GPU vs session latency</figcaption>"), "one agentic group")
	require.Equal(t, 2, strings.Count(html, "<figcaption>Throughput per GPU vs interactivity</figcaption>"), "agentic and 1k/1k")
	require.Contains(t, html, `text-anchor="middle">150</text>`, "session latency ticks in seconds")
	require.Contains(t, html, `<path d="M253.5 206.8a4.5`, "c4 at 60 s (x 258 of 70..540 for 0..150 s), 800 tok/s/GPU")
}
