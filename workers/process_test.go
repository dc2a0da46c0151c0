package workers

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProcessNames: the log line an operator greps for names the queues
// a node polls.
func TestProcessNames(t *testing.T) {
	tests := []struct {
		p    Process
		want string
	}{
		{Process{}, "control worker"},
		{Process{Pool: "sim-h100", Node: "n0"}, "node n0 of pool sim-h100 (queues hw-sim-h100, hw-sim-h100.n0)"},
		{Process{Pool: "cluster.mi355x-amds", Node: "mi355x-amds_0"}, "node mi355x-amds_0 of pool cluster.mi355x-amds (queues hw-cluster.mi355x-amds, hw-cluster.mi355x-amds.mi355x-amds_0)"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.p.What())
	}
}
