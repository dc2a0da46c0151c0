package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

// TestQueueAndChildNames pins the names running workers poll and recorded
// histories hold: a change here strands workers and breaks replays.
func TestQueueAndChildNames(t *testing.T) {
	tests := []struct {
		label, node         string
		wantQueue, wantNode string
		sweepWorkflow       string
		wantPoolWorkflow    string // children are named by pool name, unfolded
	}{
		{"sim-h100", "n0", "hw-sim-h100", "hw-sim-h100.n0", "sweep-s1", "sweep-s1/hw-sim-h100"},
		{"cluster:mi355x-amds", "mi355x-amds_0", "hw-cluster.mi355x-amds", "hw-cluster.mi355x-amds.mi355x-amds_0", "sweep-s1", "sweep-s1/hw-cluster.mi355x-amds"},
		{"cluster.mi355x-amds", "a", "hw-cluster.mi355x-amds", "hw-cluster.mi355x-amds.a", "nightly-20261127-0100", "nightly-20261127-0100/hw-cluster.mi355x-amds"},
		{"MI355X", "a", "hw-mi355x", "hw-mi355x.a", "sweep-s1", "sweep-s1/hw-MI355X"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			require.Equal(t, tt.wantQueue, TaskQueue(tt.label))
			require.Equal(t, tt.wantNode, NodeQueue(tt.label, tt.node))
			require.Equal(t, tt.wantPoolWorkflow, PoolWorkflowID(tt.sweepWorkflow, sweep.PoolName(tt.label)))
		})
	}
}
