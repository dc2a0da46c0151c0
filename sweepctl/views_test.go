package sweepctl

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/workflows"
)

// TestProgressSummary: the one line `sweep run --wait` redraws. Finished
// pools count every point they recorded; running ones count failures and
// skips as finished too, so the total reaches planned.
func TestProgressSummary(t *testing.T) {
	tests := []struct {
		name string
		p    Progress
		want string
	}{
		{"no pool answered yet", Progress{SweepProgress: workflows.SweepProgress{Planned: 22, Pools: []string{"sim-h100"}}}, "0/22 points  "},
		{"one running, one finished", Progress{
			SweepProgress: workflows.SweepProgress{Planned: 22, Pools: []string{"sim-h100", "sim-mi355x"},
				Finished: map[string]workflows.HardwareResult{"sim-mi355x": {Counts: map[string]int{"complete": 4, "failed": 1}}}},
			ByPool: map[string]workflows.HardwareProgress{"sim-h100": {Planned: 17, Done: 6, Failed: 1, Skipped: 2}},
		}, "14/22 points  sim-h100 9/17 (3 failed)  sim-mi355x done"},
		{"clean run", Progress{
			SweepProgress: workflows.SweepProgress{Planned: 9, Pools: []string{"sim-h100"}},
			ByPool:        map[string]workflows.HardwareProgress{"sim-h100": {Planned: 9, Done: 4}},
		}, "4/9 points  sim-h100 4/9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, tt.p.Summary()) })
	}
}

// TestNodeStates: what `pool status` shows per node, quarantine before
// running, and a node only the fault record still names listed last.
func TestNodeStates(t *testing.T) {
	tests := []struct {
		name string
		p    workflows.HardwareProgress
		want []NodeState
	}{
		{"free, running, quarantined", workflows.HardwareProgress{
			Nodes: []string{"n0", "n1", "n2"}, Quarantined: []string{"n0"}, Running: map[string]string{"a-c8": "n1", "a-c4": "n0"},
			Evidence: map[string][]string{"n0": {"a-c1: Xid 79"}},
		}, []NodeState{{"n0", "quarantined", []string{"a-c1: Xid 79"}}, {"n1", "running a-c8", nil}, {"n2", "free", nil}}},
		{"a node gone from runners.yaml keeps its record", workflows.HardwareProgress{
			Nodes: []string{"n1"}, Evidence: map[string][]string{"old": {"a-c2: engine died"}},
		}, []NodeState{{"n1", "free", nil}, {"old", "free", []string{"a-c2: engine died"}}}},
		{"no nodes", workflows.HardwareProgress{}, []NodeState{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, NodeStates(tt.p)) })
	}
}

// TestSweepsQuery: the date is spliced into a visibility query, so only a
// real date gets there.
func TestSweepsQuery(t *testing.T) {
	tests := []struct {
		date, want string
		bad        bool
	}{
		{"", "WorkflowType = 'SweepWorkflow'", false},
		{"2026-11-27", "WorkflowType = 'SweepWorkflow' AND SweepDate = '2026-11-27'", false},
		{"2026-11-27' OR 'a'='a", "", true},
		{"27/11/2026", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			got, err := sweepsQuery(tt.date)
			require.Equal(t, tt.bad, errors.Is(err, ErrBadDate), "%v", err)
			require.Equal(t, tt.want, got)
		})
	}
	_, err := sweepsQuery("27/11/2026")
	require.EqualError(t, err, `date "27/11/2026": want YYYY-MM-DD`)
}

// TestFindRefusesIdsNoSweepHas: a sweep id becomes part of workflow ids,
// queries and lake keys, so a malformed one is refused before any server
// is asked (the nil client is never used).
func TestFindRefusesIdsNoSweepHas(t *testing.T) {
	for _, id := range []string{"", "../etc", "a/b", "a..b", "nightly' OR 'a'='a"} {
		t.Run(id, func(t *testing.T) {
			_, err := Find(t.Context(), nil, id)
			require.ErrorIs(t, err, ErrBadSweepID)
		})
	}
}

// TestRunningPoolsRefusesLabelsNoPoolHas: the label is spliced into a
// visibility query, so a malformed one is refused before any server is
// asked (the nil client is never used).
func TestRunningPoolsRefusesLabelsNoPoolHas(t *testing.T) {
	for _, label := range []string{"../etc", "a/b", "h100' OR 'a'='a"} {
		t.Run(label, func(t *testing.T) {
			_, err := RunningPools(t.Context(), nil, label)
			require.ErrorIs(t, err, ErrBadLabel)
		})
	}
}
