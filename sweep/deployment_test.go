package sweep

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShapePlacesWorkersOnNodes(t *testing.T) {
	eight := func(string) int { return 8 }
	tests := []struct {
		name            string
		prefill, decode Workers
		gpusPerNode     func(string) int
		want            []RoleShape
		placement       [][][]int
	}{
		{
			name:    "one worker per node",
			prefill: Workers{NumWorker: 2, TP: 8, PP: 1}, decode: Workers{NumWorker: 1, TP: 8, PP: 1}, gpusPerNode: eight,
			want: []RoleShape{
				{Role: RolePrefill, Workers: 2, GPUsPerWorker: 8, NodesPerWorker: 1, WorkersPerNode: 1, Nodes: 2},
				{Role: RoleDecode, Workers: 1, GPUsPerWorker: 8, NodesPerWorker: 1, WorkersPerNode: 1, Nodes: 1},
			},
			placement: [][][]int{{{0}, {1}}, {{2}}},
		},
		{
			name:    "narrow workers share a node, never across roles",
			prefill: Workers{NumWorker: 3, TP: 4, PP: 1}, decode: Workers{NumWorker: 1, TP: 2, PP: 1}, gpusPerNode: eight,
			want: []RoleShape{
				{Role: RolePrefill, Workers: 3, GPUsPerWorker: 4, NodesPerWorker: 1, WorkersPerNode: 2, Nodes: 2},
				{Role: RoleDecode, Workers: 1, GPUsPerWorker: 2, NodesPerWorker: 1, WorkersPerNode: 4, Nodes: 1},
			},
			placement: [][][]int{{{0}, {0}, {1}}, {{2}}},
		},
		{
			name:    "a decode worker wider than a GB200 tray spans nodes",
			prefill: Workers{NumWorker: 1, TP: 4, PP: 1}, decode: Workers{NumWorker: 1, TP: 16, PP: 1}, gpusPerNode: func(string) int { return 4 },
			want: []RoleShape{
				{Role: RolePrefill, Workers: 1, GPUsPerWorker: 4, NodesPerWorker: 1, WorkersPerNode: 1, Nodes: 1},
				{Role: RoleDecode, Workers: 1, GPUsPerWorker: 16, NodesPerWorker: 4, WorkersPerNode: 1, Nodes: 4},
			},
			placement: [][][]int{{{0}}, {{1, 2, 3, 4}}},
		},
		{
			name:    "decode num-worker 0 is one aggregated role",
			prefill: Workers{NumWorker: 2, TP: 16, PP: 1}, decode: Workers{NumWorker: 0, TP: 16, PP: 1}, gpusPerNode: eight,
			want:      []RoleShape{{Role: RoleAggregated, Workers: 2, GPUsPerWorker: 16, NodesPerWorker: 2, WorkersPerNode: 1, Nodes: 4}},
			placement: [][][]int{{{0, 1}, {2, 3}}},
		},
		{
			name:    "a role's own hardware sets its node size",
			prefill: Workers{NumWorker: 1, TP: 8, PP: 1, Hardware: "gb200"}, decode: Workers{NumWorker: 1, TP: 8, PP: 1},
			gpusPerNode: func(hw string) int {
				if hw == "gb200" {
					return 4
				}
				return 8
			},
			want: []RoleShape{
				{Role: RolePrefill, Workers: 1, GPUsPerWorker: 8, NodesPerWorker: 2, WorkersPerNode: 1, Nodes: 2, Hardware: "gb200"},
				{Role: RoleDecode, Workers: 1, GPUsPerWorker: 8, NodesPerWorker: 1, WorkersPerNode: 1, Nodes: 1},
			},
			placement: [][][]int{{{0, 1}}, {{2}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Shape(&tt.prefill, &tt.decode, tt.gpusPerNode)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.placement, Placement(got))
			total := 0
			for _, s := range tt.want {
				total += s.Nodes
			}
			assert.Equal(t, total, Nodes(got))
		})
	}
}

// Every multinode point of upstream's matrix gets a gang whose nodes hold
// exactly its GPUs' share: no worker is left without a node.
func TestUpstreamDeploymentsAreShaped(t *testing.T) {
	plan, err := LoadPlan(upstreamSources, Filters{MultiNode: true})
	require.NoError(t, err)
	require.NotEmpty(t, plan.Points)
	largest := 0
	for _, p := range plan.Points {
		require.True(t, p.Multinode)
		require.NotEmpty(t, p.Roles, p.Entry)
		gpus := 0
		for _, s := range p.Roles {
			gpus += s.GPUs()
		}
		assert.Equal(t, p.GPUs, gpus, p.Entry)
		assert.Positive(t, p.Nodes, p.Entry)
		largest = max(largest, p.Nodes)
	}
	// Upstream's widest deployment spans 18 GB200 trays of 4 GPUs
	// (dsr1-fp8-gb200-dynamo-sglang).
	assert.Equal(t, 18, largest)
}
