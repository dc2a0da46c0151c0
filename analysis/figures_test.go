package analysis

import (
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
