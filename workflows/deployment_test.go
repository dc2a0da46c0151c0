package workflows

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/sweep"
)

// deploymentPoints are one disaggregated deployment's points: two
// prefill workers and one decode worker, a node each.
func deploymentPoints(entry, deployment string, concs ...int) []sweep.Point {
	roles := []sweep.RoleShape{
		{Role: sweep.RolePrefill, Workers: 2, GPUsPerWorker: 8, NodesPerWorker: 1, WorkersPerNode: 1, Nodes: 2},
		{Role: sweep.RoleDecode, Workers: 1, GPUsPerWorker: 8, NodesPerWorker: 1, WorkersPerNode: 1, Nodes: 1},
	}
	var out []sweep.Point
	for _, c := range concs {
		out = append(out, sweep.Point{ID: fmt.Sprintf("%s-%s-c%d", entry, deployment, c), Entry: entry, Runner: "sim-h100", Conc: c, GPUs: 24,
			Multinode: true, Disagg: true, DeploymentID: deployment, Roles: roles, Nodes: 3})
	}
	return out
}

// gangNodes answers a gang's node activities and records them: which
// roles started where, and when each node was held.
type gangNodes struct {
	mu        sync.Mutex
	roles     map[string][]string // lease → "role/worker/rank@node"
	held      map[string][]span   // node → lease spans
	open      map[string]time.Time
	teardowns map[string]int // node → Teardown activities
	loads     []activities.LoadInput
	whole     bool              // the backend starts deployments whole (Slurm)
	control   map[string]string // "role/worker/rank@node" → its ControlAddr
}

type span struct {
	lease      string
	start, end time.Time
}

func newGangNodes() *gangNodes {
	return &gangNodes{roles: map[string][]string{}, held: map[string][]span{}, open: map[string]time.Time{}, teardowns: map[string]int{}, control: map[string]string{}}
}

// answer registers the gang activities; load measures each point after
// loadTime unless fail says otherwise.
func (g *gangNodes) answer(env *sweepEnv, loadTime time.Duration, fail func(activities.LoadInput) error) {
	var a *activities.Activities
	env.OnActivity(a.JoinGang, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.GangInput) (activities.GangNode, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		key := in.Lease.Node + "|" + in.Lease.LeaseID
		if _, ok := g.open[key]; !ok {
			g.open[key] = env.Now()
		}
		return activities.GangNode{Address: "10.0.0." + in.Lease.Node[1:], Whole: g.whole}, nil
	})
	env.OnActivity(a.StartDeployment, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RoleInput) (activities.EngineInfo, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.roles[in.Lease.LeaseID] = append(g.roles[in.Lease.LeaseID], fmt.Sprintf("deployment of %d nodes@%s", in.Nodes, in.Lease.Node))
		return activities.EngineInfo{BaseURL: "http://slurm-node-1:8000"}, nil
	}).Maybe()
	env.OnActivity(a.StartRole, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RoleInput) (activities.EngineInfo, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		rank := fmt.Sprintf("%s/%d/%d@%s", in.Role, in.Worker, in.Rank, in.Lease.Node)
		g.roles[in.Lease.LeaseID], g.control[rank] = append(g.roles[in.Lease.LeaseID], rank), in.ControlAddr
		if in.Role == sweep.RoleFrontend {
			return activities.EngineInfo{BaseURL: fmt.Sprintf("http://router(%v|%v)", in.PrefillURLs, in.DecodeURLs)}, nil
		}
		return activities.EngineInfo{BaseURL: fmt.Sprintf("http://127.0.0.1:%d", 8000+len(g.roles[in.Lease.LeaseID]))}, nil
	})
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).After(loadTime).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		g.mu.Lock()
		g.loads = append(g.loads, in)
		g.mu.Unlock()
		if err := fail(in); err != nil {
			return activities.PointResult{}, err
		}
		return succeed(ctx, in)
	})
	env.onTeardown = func(in activities.TeardownInput) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.teardowns[in.Lease.Node]++
		key := in.Lease.Node + "|" + in.Lease.LeaseID
		if at, ok := g.open[key]; ok {
			g.held[in.Lease.Node] = append(g.held[in.Lease.Node], span{in.Lease.LeaseID, at, env.Now()})
			delete(g.open, key)
		}
	}
}

// leases are the gangs' leases, each with its nodes, in start order.
func (g *gangNodes) leases() map[string][]string {
	out := map[string][]string{}
	for node, spans := range g.held {
		for _, s := range spans {
			out[s.lease] = append(out[s.lease], node)
		}
	}
	for _, nodes := range out {
		slices.Sort(nodes)
	}
	return out
}

func TestTwoGangsOnAPoolTooSmallForBothRunOneAfterTheOther(t *testing.T) {
	points := append(deploymentPoints("a", "d1", 1, 2, 4), deploymentPoints("b", "d2", 1, 2, 4)...)
	env := newSweepEnvOn(t, points, 4, []string{"n0", "n1", "n2", "n3"})
	g := newGangNodes()
	g.answer(env, 10*time.Minute, func(activities.LoadInput) error { return nil })
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 6}, res.Counts)
	leases := g.leases()
	require.Len(t, leases, 2, "one gang per deployment")
	for lease, nodes := range leases {
		require.Len(t, nodes, 3, lease)
		require.Len(t, g.roles[lease], 4, "two prefill workers, a decode worker and the frontend: %v", g.roles[lease])
	}
	// The gangs never overlap: the second took its nodes after the first
	// gave every one back.
	var first, second span
	for _, spans := range g.held {
		for _, s := range spans {
			if s.lease == "s1/d1/1" {
				first.end = later(first.end, s.end)
			} else {
				second.start = s.start
			}
		}
	}
	require.False(t, second.start.Before(first.end), "second gang started %s, first ended %s", second.start, first.end)
	// Each deployment served its three concurrencies in order, all through
	// one frontend on its first node.
	var concs []int
	for _, in := range g.loads {
		concs = append(concs, in.Point.Conc)
		require.Len(t, in.Gang, 3)
		require.Equal(t, in.Gang[0], in.Lease.Node)
		require.Contains(t, in.Engine.BaseURL, "http://router([http://10.0.0.")
	}
	require.Equal(t, []int{1, 2, 4, 1, 2, 4}, concs)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// A node of a gang dies after the first point: the probe finds it, it is
// charged, and the rest of the points run on a gang without it; every
// node of the broken gang is torn down.
func TestANodeDyingMidDeploymentMovesTheRestToANewGang(t *testing.T) {
	points := deploymentPoints("a", "d1", 1, 2, 4)
	env := newSweepEnvOn(t, points, 4, []string{"n0", "n1", "n2", "n3"})
	g := newGangNodes()
	var a *activities.Activities
	env.OnActivity(a.CheckRoles, mock.Anything, mock.MatchedBy(func(l activities.Lease) bool { return l.Node == "n1" })).
		Return(activities.RoleHealth{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil))
	env.OnActivity(a.CheckRoles, mock.Anything, mock.Anything).Return(activities.RoleHealth{}, nil)
	g.answer(env, time.Minute, func(in activities.LoadInput) error {
		if in.Attempt == 1 && in.Point.Conc == 2 {
			return temporal.NewNonRetryableApplicationError("12 of 12 requests failed: decode worker unreachable", activities.ErrNodeFault, nil)
		}
		return nil
	})
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 3}, res.Counts)
	leases := g.leases()
	require.Equal(t, []string{"n0", "n1", "n2"}, leases["s1/d1/1"])
	require.Equal(t, []string{"n0", "n2", "n3"}, leases["s1/d1/2"], "the new gang leaves the dead node out")
	for _, n := range []string{"n0", "n1", "n2"} {
		require.GreaterOrEqual(t, g.teardowns[n], 1, "%s of the broken gang torn down", n)
	}
	require.Len(t, env.nodeFaults["n1"], 1, "the dead node is charged")
	require.Contains(t, env.nodeFaults["n1"][0], "decode worker unreachable")
	var attempts []int
	for _, in := range g.loads {
		attempts = append(attempts, in.Attempt)
	}
	require.Equal(t, []int{1, 1, 2, 2}, attempts, "conc 1 kept; conc 2 and 4 measured on the second gang")
}

func TestCancelledSweepTearsDownEveryNodeOfAGang(t *testing.T) {
	env := newSweepEnvOn(t, deploymentPoints("a", "d1", 1, 2), 4, []string{"n0", "n1", "n2", "n3"})
	g := newGangNodes()
	g.answer(env, 10*time.Minute, func(activities.LoadInput) error { return nil })
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	var a *activities.Activities
	env.OnActivity(a.NotifySweepFailed, mock.Anything, mock.Anything).Return(activities.AlertSent, nil).Once()

	env.ExecuteWorkflow(SweepWorkflow, SweepInput{SweepID: "s1", Date: "2026-11-27"})
	require.True(t, env.IsWorkflowCompleted())
	var canceled *temporal.CanceledError
	require.ErrorAs(t, env.GetWorkflowError(), &canceled)
	require.Equal(t, map[string]int{"n0": 1, "n1": 1, "n2": 1}, g.teardowns, "every node of the gang, once")
	require.Len(t, g.roles["s1/d1/1"], 4)
}

func TestADeploymentWiderThanItsPoolFailsAtOnce(t *testing.T) {
	env := newSweepEnvOn(t, deploymentPoints("a", "d1", 1, 2), 2, []string{"n0", "n1"})
	g := newGangNodes()
	g.answer(env, time.Minute, func(activities.LoadInput) error { return nil })
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"failed": 2}, res.Counts)
	require.Len(t, env.failures, 2)
	require.Contains(t, env.failures[0].Error, "the deployment needs 3 nodes; pool sim-h100 has 2 of 2 healthy")
	require.Empty(t, g.roles)
}

// Nodes go to asks in order: a single-node point planned after a waiting
// deployment does not take the nodes the deployment waits for.
func TestALargeGangIsNotStarvedBySmallerAsks(t *testing.T) {
	points := append(testPoints("x", 1), deploymentPoints("d", "d1", 1)...)
	points = append(points, testPoints("y", 1)...)
	env := newSweepEnv(t, points, 3)
	g := newGangNodes()
	g.answer(env, 10*time.Minute, func(activities.LoadInput) error { return nil })
	env.enginesStart()
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 3}, res.Counts)
	var gangEnd time.Time
	for _, spans := range g.held {
		for _, s := range spans {
			gangEnd = later(gangEnd, s.end)
		}
	}
	var yStart time.Time
	for _, s := range env.nodes.starts {
		if s.lease == "s1/y-c1/1" {
			yStart = s.at
		}
	}
	require.False(t, yStart.Before(gangEnd), "y started %s, before the deployment it queued behind ended at %s", yStart, gangEnd)
}

// A backend that starts deployments whole (one Slurm allocation) is asked
// once, on the gang's first node; every node still holds the lease and is
// torn down.
func TestAWholeDeploymentStartsFromItsFirstNode(t *testing.T) {
	env := newSweepEnvOn(t, deploymentPoints("a", "d1", 1, 2), 4, []string{"n0", "n1", "n2", "n3"})
	g := newGangNodes()
	g.whole = true
	g.answer(env, time.Minute, func(activities.LoadInput) error { return nil })
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 2}, res.Counts)
	require.Equal(t, []string{"deployment of 3 nodes@n0"}, g.roles["s1/d1/1"])
	require.Equal(t, map[string]int{"n0": 1, "n1": 1, "n2": 1}, g.teardowns)
	require.Equal(t, "http://slurm-node-1:8000", g.loads[0].Engine.BaseURL)
}

// A deployment whose launch has a control plane (Dynamo's etcd and NATS)
// starts it on its first node before any worker, and every worker and the
// frontend are given its address.
func TestAControlPlaneStartsOnTheFirstNodeBeforeAnyWorker(t *testing.T) {
	points := deploymentPoints("a", "d1", 1)
	points[0].Launch = &sweep.Launch{Recipe: "dynamo-sglang-multinode", Roles: []sweep.RoleLaunch{
		{Role: sweep.RoleControlPlane}, {Role: sweep.RolePrefill}, {Role: sweep.RoleDecode}, {Role: sweep.RoleFrontend}}}
	env := newSweepEnvOn(t, points, 4, []string{"n0", "n1", "n2", "n3"})
	g := newGangNodes()
	g.answer(env, time.Minute, func(activities.LoadInput) error { return nil })
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 1}, res.Counts)
	started := g.roles["s1/d1/1"]
	require.Len(t, started, 5, "the control plane, two prefill workers, a decode worker and the frontend: %v", started)
	require.Equal(t, "control-plane/0/0@n0", started[0], "before any worker")
	require.Equal(t, "frontend/0/0@n0", started[4])
	for _, rank := range started {
		require.Equal(t, "10.0.0.0", g.control[rank], "%s reaches the control plane at the first node", rank)
	}
}
