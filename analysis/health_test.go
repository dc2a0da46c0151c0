package analysis

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
)

// A quarantined node's faults travel from the manifest to the report.
func TestHealthSaysWhyANodeWasQuarantined(t *testing.T) {
	faults := []string{
		"p1 (e1, conc 4): CUDA error: uncorrectable ECC error encountered on n0",
		"p2 (e1, conc 8): CUDA error: uncorrectable ECC error encountered on n0",
	}
	m := results.Manifest{SweepID: "s", Date: "2026-12-07",
		Quarantined: map[string][]string{"h100": {"n0"}},
		NodeFaults:  map[string]map[string][]string{"h100": {"n0": faults}},
	}
	rows := []results.PointRow{
		{PointID: "p1", Runner: "h100", Node: "n1", Status: "succeeded", Attempts: 2},
		{PointID: "p3", Runner: "mi355x", Node: "m0", Status: "succeeded", Attempts: 1},
	}
	tests := []struct {
		runner      string
		quarantined []string
		faults      map[string][]string
	}{
		{"h100", []string{"n0"}, map[string][]string{"n0": faults}},
		{"mi355x", nil, nil},
	}
	health := Health(m, rows)
	require.Len(t, health, len(tests))
	for i, tc := range tests {
		require.Equal(t, tc.runner, health[i].Runner)
		require.Equal(t, tc.quarantined, health[i].Quarantined)
		require.Equal(t, tc.faults, health[i].NodeFaults)
	}

	var page bytes.Buffer
	require.NoError(t, RenderHTML(&page, &Report{Manifest: m, Rows: rows, Health: health}))
	require.Contains(t, page.String(), "Faults charged to the nodes of h100")
	require.Contains(t, page.String(), "<td>n0</td><td class=\"error\">p2 (e1, conc 8): CUDA error: uncorrectable ECC error encountered on n0</td>")
	require.NotContains(t, page.String(), "Faults charged to the nodes of mi355x")
}
