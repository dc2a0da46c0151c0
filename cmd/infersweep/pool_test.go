package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweepctl"
	"github.com/infersweep/infersweep/workflows"
)

func TestPoolStatusShowsEachNodeAndWhy(t *testing.T) {
	var out strings.Builder
	require.NoError(t, printPoolStatus(&out, "sim-h100", []sweepctl.PoolRun{{Workflow: "sweep-s1/hw-sim-h100", Progress: workflows.HardwareProgress{
		Planned: 9, Done: 4, Failed: 1, Nodes: []string{"n0", "n1", "n2"}, Quarantined: []string{"n0"},
		Running:  map[string]string{"a-c8": "n1"},
		Evidence: map[string][]string{"n0": {"a-c1 (a, conc 1): Xid 79", "a-c2 (a, conc 2): Xid 79"}},
	}}}))
	require.Equal(t, "sweep-s1/hw-sim-h100: 4/9 done, 1 failed, 0 skipped\n"+
		"  n0  quarantined\n"+
		"      a-c1 (a, conc 1): Xid 79\n"+
		"      a-c2 (a, conc 2): Xid 79\n"+
		"  n1  running a-c8\n"+
		"  n2  free\n", out.String())

	out.Reset()
	require.NoError(t, printPoolStatus(&out, "sim-h100", nil))
	require.Equal(t, "pool sim-h100: no running sweep uses it\n", out.String())
}
