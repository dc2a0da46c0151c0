package workflows

import (
	"fmt"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/sweep"
)

// A pool's nodes: which one a point may take, what is charged to each,
// and when one is out for the night.

// maxEvidence lines are kept per node.
const maxEvidence = 4

// charge counts a fault against node, with its evidence, and quarantines
// the node at its quarantineAfter-th.
func (r *poolRun) charge(node string, p sweep.Point, err error) {
	if r.distinctEvidence && r.chargedFor(node, p.ID) {
		return // the same point failing again on one node is no new evidence
	}
	r.faults[node]++
	if r.progress.Evidence == nil {
		r.progress.Evidence = map[string][]string{}
	}
	r.progress.Evidence[node] = append(r.progress.Evidence[node], fmt.Sprintf("%s (%s, conc %d): %s", p.ID, p.Entry, p.Conc, firstLine(reason(err))))
	// The latest faults say why a node is out; older ones only grow the
	// carry and the progress query.
	if ev := r.progress.Evidence[node]; len(ev) > maxEvidence {
		r.progress.Evidence[node] = ev[len(ev)-maxEvidence:]
	}
	if r.faults[node] == quarantineAfter {
		r.progress.Quarantined = append(r.progress.Quarantined, node)
	}
}

// chargedFor: a standing charge of node is for point id.
func (r *poolRun) chargedFor(node, id string) bool {
	return slices.ContainsFunc(r.progress.Evidence[node], func(line string) bool {
		return strings.HasPrefix(line, id+" (") && !strings.HasSuffix(line, withdrawnNote)
	})
}

// release lifts a node's quarantine and clears its charges, on the
// operator's word; the evidence stays, with the reason.
func (r *poolRun) release(rel ReleaseNode) {
	if !slices.Contains(r.in.NodeNames, rel.Node) && !slices.Contains(r.progress.Quarantined, rel.Node) {
		return
	}
	r.progress.Quarantined = slices.DeleteFunc(r.progress.Quarantined, func(n string) bool { return n == rel.Node })
	delete(r.faults, rel.Node)
	if r.progress.Evidence == nil {
		r.progress.Evidence = map[string][]string{}
	}
	r.progress.Evidence[rel.Node] = append(r.progress.Evidence[rel.Node], "released by the operator: "+rel.Reason)
}

func (r *poolRun) allQuarantined() bool {
	return r.in.Nodes > 0 && len(r.progress.Quarantined) >= r.in.Nodes
}

func (r *poolRun) quarantinedError() error {
	return fmt.Errorf("every node of pool %s is quarantined (%s)", r.in.Runner, strings.Join(r.progress.Quarantined, ", "))
}

// freeNodeFor is the node a point may start on now: its own node when it
// names one (planned with --runner-node-filter), else the first node, in
// runners-file order, that is neither busy nor quarantined; "" when there
// is none right now.
func (r *poolRun) freeNodeFor(p sweep.Point) string {
	// The node a point avoids is a preference: once it is the only
	// healthy one left, the point takes it rather than wait forever.
	avoid := r.avoid[p.ID]
	if avoid != "" && !r.anotherNodeFor(p, avoid) {
		avoid = ""
	}
	for _, n := range r.in.NodeNames {
		if (p.Node == "" || p.Node == n) && n != avoid && !r.busy[n] && !slices.Contains(r.progress.Quarantined, n) {
			return n
		}
	}
	return ""
}

// anotherNodeFor: a healthy node other than node could run p.
func (r *poolRun) anotherNodeFor(p sweep.Point, node string) bool {
	if p.Node != "" {
		return false
	}
	return slices.ContainsFunc(r.in.NodeNames, func(n string) bool {
		return n != node && !slices.Contains(r.progress.Quarantined, n)
	})
}

// unavailable: no node will ever be free for the point.
func (r *poolRun) unavailable(p sweep.Point) bool {
	if p.Node != "" {
		return slices.Contains(r.progress.Quarantined, p.Node) || !slices.Contains(r.in.NodeNames, p.Node)
	}
	return r.allQuarantined()
}

func (r *poolRun) unavailableError(p sweep.Point) error {
	if p.Node == "" {
		return r.quarantinedError()
	}
	if !slices.Contains(r.in.NodeNames, p.Node) {
		return fmt.Errorf("node %s, which the point was planned on, is not a node of pool %s", p.Node, r.in.Runner)
	}
	return fmt.Errorf("node %s, which the point was planned on, is quarantined", p.Node)
}
