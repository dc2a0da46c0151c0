package launch

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

// RoleSpec is one worker (or the frontend) of a multinode deployment to
// start: the deployment's Spec, and where this one sits in it.
type RoleSpec struct {
	Spec
	// Role is sweep.RolePrefill, RoleDecode, RoleAggregated, RoleFrontend
	// or RoleControlPlane; Worker its index among the role's workers.
	Role   string
	Worker int
	// Rank is this process's node among the Nodes the worker spans, and
	// MasterAddr the address of its rank 0.
	Rank, Nodes int
	MasterAddr  string
	// The workers' base URLs (http://10.0.0.1:8000), for the frontend.
	PrefillURLs, DecodeURLs, WorkerURLs []string
	// ControlAddr is where the deployment's control plane runs (its first
	// node's address): ${CONTROL_ADDR}, this host where it is "".
	ControlAddr string
}

// RenderRole is one role's launch of a deployment for this start, as
// Render is a single engine's: the placeholders of the role's launch
// filled, those only a multinode start knows (rank, node count, master
// address, worker index, the workers' URLs) included. Plans made before
// roles get the shipped catalogue's launch.
func RenderRole(rs RoleSpec, binary, host string) (Command, error) {
	return renderRole(rs, binary, host, strconv.Itoa(rs.Rank))
}

// renderRole is RenderRole with the rank as text: a Slurm script leaves
// it to the step.
func renderRole(rs RoleSpec, binary, host, rank string) (Command, error) {
	if !rs.Point.Multinode {
		return Command{}, fmt.Errorf("%w: point %s is single-node: it has no roles (Render)", ErrNoRecipe, rs.Point.ID)
	}
	l, planned := rs.Point.Launch, true
	if l == nil || len(l.Roles) == 0 {
		p := rs.Point
		if len(p.Roles) == 0 {
			// A plan made before deployments were shaped: shape it as
			// planning does now.
			p.Roles = sweep.Shape(p.Prefill, p.Decode, func(hw string) int { return gpusPerNode(p, hw) })
			p.Nodes = sweep.Nodes(p.Roles)
		}
		p.Launch = nil
		var err error
		if l, planned, err = pointLaunch(p); err != nil {
			return Command{}, err
		}
	}
	role := roleLaunch(l, rs.Role)
	if role == nil {
		return Command{}, fmt.Errorf("%w: the launch of point %s has no role %s", ErrNoRecipe, rs.Point.ID, rs.Role)
	}
	nodes := max(rs.Nodes, 1)
	more := []string{
		recipes.NodeRankVar, rank, recipes.NNodesVar, strconv.Itoa(nodes),
		recipes.MasterAddrVar, or(rs.MasterAddr, host), recipes.WorkerVar, strconv.Itoa(rs.Worker),
		recipes.PrefillURLsVar, strings.Join(rs.PrefillURLs, ","), recipes.DecodeURLsVar, strings.Join(rs.DecodeURLs, ","),
		recipes.WorkerURLsVar, strings.Join(rs.WorkerURLs, ","), recipes.ControlAddrVar, or(rs.ControlAddr, host),
	}
	// The settings' engine arguments are a worker's, never the router's
	// or the control plane's.
	planned = planned || rs.Role == sweep.RoleFrontend || rs.Role == sweep.RoleControlPlane
	cmd := fill(rs.Spec, role, planned, binary, host, more...)
	cmd.ReadyOnStart = rs.Role == sweep.RoleControlPlane && role.ReadyPath == ""
	return cmd, nil
}

// roleLaunch is the launch of role in l, nil where l has none.
func roleLaunch(l *sweep.Launch, role string) *sweep.Launch {
	for i := range l.Roles {
		if l.Roles[i].Role == role {
			return &l.Roles[i].Launch
		}
	}
	return nil
}

// gpusPerNode is what one node of the point's (or a role's own) runner
// holds, as planning shapes deployments.
func gpusPerNode(p sweep.Point, hardware string) int {
	hw, _ := sweep.NodeHardware(or(hardware, p.RunnerLabel), sweep.Runners{}, sweep.DefaultNodeHardware())
	return max(hw.GPUsPerNode, 1)
}

func or(v, otherwise string) string {
	if v == "" {
		return otherwise
	}
	return v
}
