package sweep

// Roles of a multinode deployment. Upstream writes an aggregated
// multinode deployment as prefill workers with decode num-worker 0; its
// workers serve both phases, so infersweep names that role aggregated.
const (
	RolePrefill    = "prefill"
	RoleDecode     = "decode"
	RoleAggregated = "aggregated"
	// RoleFrontend routes requests to the workers: Dynamo's frontend,
	// SGLang's router, vLLM's proxy. It needs no GPU and runs on the
	// deployment's first node.
	RoleFrontend = "frontend"
	// RoleControlPlane is what the workers and the frontend find each
	// other through (Dynamo's etcd and NATS). A recipe may give one; it
	// starts first, on the deployment's first node, and its address is
	// ${CONTROL_ADDR} in the other roles' launches.
	RoleControlPlane = "control-plane"
)

// RoleShape is how one role of a deployment sits on nodes: its workers,
// the GPUs one worker needs, and the nodes they take. A worker wider than
// a node spans NodesPerWorker nodes; narrower ones share a node,
// WorkersPerNode at a time.
type RoleShape struct {
	Role           string `json:"role"`
	Workers        int    `json:"workers"`
	GPUsPerWorker  int    `json:"gpus_per_worker"`
	NodesPerWorker int    `json:"nodes_per_worker"`
	WorkersPerNode int    `json:"workers_per_node"`
	Nodes          int    `json:"nodes"`
	// Hardware is the role's own runner label where the spec names one.
	Hardware string `json:"hardware,omitempty"`
}

// GPUs is what the role's workers use.
func (s RoleShape) GPUs() int { return s.Workers * s.GPUsPerWorker }

// Shape places a deployment's workers on nodes of gpusPerNode GPUs:
// prefill then decode, or one aggregated role. Workers are packed, as
// upstream's Slurm submitters place them: a node is never shared between
// roles, and a worker wider than a node takes whole nodes.
func Shape(prefill, decode *Workers, gpusPerNode func(hardware string) int) []RoleShape {
	if prefill == nil || decode == nil {
		return nil
	}
	var shapes []RoleShape
	add := func(role string, w *Workers) {
		if w.NumWorker == 0 {
			return
		}
		s := RoleShape{Role: role, Workers: w.NumWorker, GPUsPerWorker: w.TP * w.PP * max(w.PCPSize, 1), Hardware: w.Hardware}
		perNode := max(gpusPerNode(w.Hardware), 1)
		if s.GPUsPerWorker > perNode {
			s.NodesPerWorker, s.WorkersPerNode = ceilDiv(s.GPUsPerWorker, perNode), 1
			s.Nodes = s.Workers * s.NodesPerWorker
		} else {
			s.NodesPerWorker, s.WorkersPerNode = 1, perNode/max(s.GPUsPerWorker, 1)
			s.Nodes = ceilDiv(s.Workers, s.WorkersPerNode)
		}
		shapes = append(shapes, s)
	}
	if decode.NumWorker == 0 {
		add(RoleAggregated, prefill)
		return shapes
	}
	add(RolePrefill, prefill)
	add(RoleDecode, decode)
	return shapes
}

// Nodes is how many nodes a deployment of these roles leases.
func Nodes(shapes []RoleShape) int {
	n := 0
	for _, s := range shapes {
		n += s.Nodes
	}
	return n
}

// Placement is where each worker of each role runs: for role i and
// worker w, the indexes into the deployment's leased nodes its ranks run
// on (one per node it spans). Roles take consecutive nodes in order.
func Placement(shapes []RoleShape) [][][]int {
	next := 0
	out := make([][][]int, len(shapes))
	for i, s := range shapes {
		for w := range s.Workers {
			var nodes []int
			if s.NodesPerWorker > 1 {
				for k := range s.NodesPerWorker {
					nodes = append(nodes, next+w*s.NodesPerWorker+k)
				}
			} else {
				nodes = []int{next + w/s.WorkersPerNode}
			}
			out[i] = append(out[i], nodes)
		}
		next += s.Nodes
	}
	return out
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
