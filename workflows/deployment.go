package workflows

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/sweep"
)

// A multinode deployment serves its points (one per concurrency) in
// order, as upstream runs a multinode row's concurrency list on one
// deployment. It holds a gang of nodes, all taken at once: every node
// joins the gang's lease, its control plane (where it has one) starts on
// the first node, each worker's ranks start on the nodes placed for them,
// then the frontend on the first node; the points' loads run
// against the frontend; every node is torn down on every outcome. A
// failure is charged to the node whose worker or engine died (a probe of
// each node finds it), and the rest of the points run on a new gang.

// gang is the nodes one attempt of a deployment holds, in placement order.
type gang struct {
	nodes   []string
	lease   string
	address []string // where each node's engines are reached
}

func (g gang) lease0(r *poolRun, i int) activities.Lease {
	return activities.Lease{Node: g.nodes[i], NodeQueue: NodeQueue(r.in.Runner, g.nodes[i]), LeaseID: g.lease}
}

// runDeployment runs a deployment's points; attempts are per deployment:
// points measured before a failure stay, the rest move to a new gang.
func (r *poolRun) runDeployment(ctx workflow.Context, points []sweep.Point) {
	first := points[0]
	if reason, skipped := r.configFailedEntries[first.Entry]; skipped {
		for _, p := range points {
			r.record(ctx, p, "skipped", activities.ErrConfig, "canary failed: "+reason, 0, "")
			r.progress.Skipped++
		}
		return
	}
	try := &pointTry{attempts: max(r.in.Settings.Retry.PointAttempts, 1)}
	var lastErr error
	var lastNode string
	for try.attempt = 1; try.attempt <= try.attempts && len(points) > 0; try.attempt++ {
		try.p = points[0]
		if r.gangUnavailable(try.p) {
			lastErr = r.gangUnavailableError(try.p)
			break
		}
		measured, node, err := r.deploymentAttempt(ctx, points, try.attempt)
		points = points[measured:]
		if err == nil {
			return
		}
		try.p = points[0]
		lastErr, lastNode = err, node
		if ctx.Err() != nil {
			return
		}
		if r.judge(ctx, try, node, err) {
			// judge recorded the first point; the rest fail alike.
			for _, p := range points[1:] {
				r.record(ctx, p, "failed", errorType(err), reason(err), try.attempt, node)
				r.progress.Failed++
			}
			return
		}
	}
	for _, p := range points {
		delete(r.avoid, p.ID)
		r.progress.Failed++
		r.record(ctx, p, "failed", activities.ErrNodeFault, reason(lastErr), try.attempts, lastNode)
	}
}

// deploymentAttempt leases a gang, starts the deployment, measures
// points in order until one fails, and tears down. It returns how many
// points it measured and, on failure, the node to blame ("" for none).
func (r *poolRun) deploymentAttempt(ctx workflow.Context, points []sweep.Point, attempt int) (measured int, blamed string, err error) {
	p := points[0]
	g, err := r.takeGang(ctx, p, attempt)
	if err != nil {
		return 0, "", err
	}
	for _, q := range points {
		r.progress.Running[q.ID] = strings.Join(g.nodes, "+")
	}
	defer func() {
		for _, q := range points {
			delete(r.progress.Running, q.ID)
		}
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		r.teardownGang(dctx, g, p, attempt)
	}()
	frontend, node, err := r.startDeployment(ctx, g, p)
	if err != nil {
		return 0, node, err
	}
	for _, q := range points {
		res, err := r.loadOnGang(ctx, g, q, frontend, attempt)
		if err != nil {
			return measured, r.blameGang(ctx, g, err), err
		}
		r.succeeded(ctx, &pointTry{p: q}, res)
		measured++
	}
	return measured, "", nil
}

// takeGang waits its turn, then takes p.Nodes free, healthy nodes at once.
func (r *poolRun) takeGang(ctx workflow.Context, p sweep.Point, attempt int) (gang, error) {
	var nodes []string
	err := r.inTurn(ctx, func() bool {
		nodes = r.freeNodesFor(p, p.Nodes)
		return nodes != nil || r.gangUnavailable(p)
	})
	if err != nil {
		return gang{}, err
	}
	if nodes == nil {
		return gang{}, r.gangUnavailableError(p)
	}
	for _, n := range nodes {
		r.busy[n] = true
	}
	return gang{nodes: nodes, lease: activities.LeaseID(r.in.SweepID, p.DeploymentID, attempt)}, nil
}

// inTurn waits until ready holds for the oldest waiter: nodes go to
// waiters in the order they asked, so a large gang is never starved by
// smaller asks that keep taking the nodes it waits for.
func (r *poolRun) inTurn(ctx workflow.Context, ready func() bool) error {
	ticket := r.nextTicket
	r.nextTicket++
	r.waiting = append(r.waiting, ticket)
	defer func() { r.waiting = slices.DeleteFunc(r.waiting, func(t int) bool { return t == ticket }) }()
	return workflow.Await(ctx, func() bool { return r.waiting[0] == ticket && ready() })
}

// freeNodesFor is n nodes a deployment may take now, avoiding the node
// that failed its last attempt while others are healthy; nil when fewer
// are free.
func (r *poolRun) freeNodesFor(p sweep.Point, n int) []string {
	avoid := r.avoid[p.ID]
	if avoid != "" && r.healthyNodes() <= n {
		avoid = ""
	}
	var nodes []string
	for _, node := range r.in.NodeNames {
		if node != avoid && !r.busy[node] && !slices.Contains(r.progress.Quarantined, node) {
			nodes = append(nodes, node)
		}
		if len(nodes) == n {
			return nodes
		}
	}
	return nil
}

func (r *poolRun) healthyNodes() int {
	n := 0
	for _, node := range r.in.NodeNames {
		if !slices.Contains(r.progress.Quarantined, node) {
			n++
		}
	}
	return n
}

// gangUnavailable: the pool will never have enough healthy nodes.
func (r *poolRun) gangUnavailable(p sweep.Point) bool { return r.healthyNodes() < p.Nodes }

func (r *poolRun) gangUnavailableError(p sweep.Point) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("the deployment needs %d nodes; pool %s has %d of %d healthy (quarantined: %s)",
		p.Nodes, r.in.Runner, r.healthyNodes(), len(r.in.NodeNames), strings.Join(r.progress.Quarantined, ", ")), activities.ErrNodeFault, nil)
}

// nodeOptions are for a gang node's activities: a node whose worker is
// gone never starts them, and ScheduleToStart says so.
func (r *poolRun) nodeOptions(ctx workflow.Context, node string, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: NodeQueue(r.in.Runner, node), ScheduleToStartTimeout: nodeStartToStart,
		StartToCloseTimeout: timeout, HeartbeatTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}

// startDeployment brings every node into the gang, starts each worker's
// ranks where Placement puts them, then the frontend on the first node
// (or has the backend start it all from there); it returns the frontend,
// or the node that failed.
func (r *poolRun) startDeployment(ctx workflow.Context, g gang, p sweep.Point) (activities.EngineInfo, string, error) {
	var a *activities.Activities
	whole, node, err := r.joinGang(ctx, &g)
	if err != nil {
		return activities.EngineInfo{}, node, err
	}
	frontend := activities.RoleInput{Lease: g.lease0(r, 0), Point: p, Role: sweep.RoleFrontend, Nodes: 1, MasterAddr: g.address[0],
		TimeScale: r.in.TimeScale, Engine: r.engineSettings(p)}
	start := a.StartRole
	if whole {
		// The backend places the roles itself, in one allocation.
		start, frontend.Nodes = a.StartDeployment, len(g.nodes)
	} else {
		control, node, err := r.startControlPlane(ctx, g, p)
		if err != nil {
			return activities.EngineInfo{}, node, err
		}
		urls, node, err := r.startWorkers(ctx, g, p, control)
		if err != nil {
			return activities.EngineInfo{}, node, err
		}
		frontend.ControlAddr = control
		frontend.PrefillURLs, frontend.DecodeURLs, frontend.WorkerURLs = urls[sweep.RolePrefill], urls[sweep.RoleDecode], urls[sweep.RoleAggregated]
	}
	var info activities.EngineInfo
	if err := workflow.ExecuteActivity(r.nodeOptions(ctx, g.nodes[0], r.in.Settings.Retry.StartTimeout), start, frontend).Get(ctx, &info); err != nil {
		return activities.EngineInfo{}, g.nodes[0], err
	}
	return info, "", nil
}

// joinGang brings every node into the gang's lease and learns their
// addresses; whole says the first node's backend starts deployments whole.
func (r *poolRun) joinGang(ctx workflow.Context, g *gang) (whole bool, failed string, err error) {
	var a *activities.Activities
	g.address = make([]string, len(g.nodes))
	joins := make([]workflow.Future, len(g.nodes))
	for i := range g.nodes {
		joins[i] = workflow.ExecuteActivity(r.nodeOptions(ctx, g.nodes[i], 2*time.Minute), a.JoinGang, activities.GangInput{Lease: g.lease0(r, i)})
	}
	for i, f := range joins {
		var node activities.GangNode
		if err := f.Get(ctx, &node); err != nil {
			return false, g.nodes[i], err
		}
		g.address[i] = node.Address
		whole = whole || (i == 0 && node.Whole)
	}
	return whole, "", nil
}

// startControlPlane starts the deployment's control plane, where its
// launch has one, on the first node before any worker (they register
// with it as they start) and returns its address, "" for none.
func (r *poolRun) startControlPlane(ctx workflow.Context, g gang, p sweep.Point) (addr, failed string, err error) {
	if p.Launch == nil || !slices.ContainsFunc(p.Launch.Roles, func(l sweep.RoleLaunch) bool { return l.Role == sweep.RoleControlPlane }) {
		return "", "", nil
	}
	// Histories from before control planes started none.
	if workflow.GetVersion(ctx, "control-plane", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return "", "", nil
	}
	var a *activities.Activities
	in := activities.RoleInput{Lease: g.lease0(r, 0), Point: p, Role: sweep.RoleControlPlane, Nodes: 1, MasterAddr: g.address[0],
		ControlAddr: g.address[0], TimeScale: r.in.TimeScale, Engine: r.engineSettings(p)}
	if err := workflow.ExecuteActivity(r.nodeOptions(ctx, g.nodes[0], r.in.Settings.Retry.StartTimeout), a.StartRole, in).Get(ctx, nil); err != nil {
		return "", g.nodes[0], err
	}
	return g.address[0], "", nil
}

// startWorkers starts every rank of every worker on its node, at once,
// and returns each role's rank-0 URLs as the other nodes reach them;
// control is the control plane's address.
func (r *poolRun) startWorkers(ctx workflow.Context, g gang, p sweep.Point, control string) (map[string][]string, string, error) {
	var a *activities.Activities
	type start struct {
		future     workflow.Future
		node, rank int
		role       string
	}
	var starts []start
	for ri, workers := range sweep.Placement(p.Roles) {
		role := p.Roles[ri].Role
		for w, nodes := range workers {
			for rank, n := range nodes {
				in := activities.RoleInput{Lease: g.lease0(r, n), Point: p, Role: role, Worker: w, Rank: rank, Nodes: len(nodes),
					MasterAddr: g.address[nodes[0]], ControlAddr: control, TimeScale: r.in.TimeScale, Engine: r.engineSettings(p)}
				starts = append(starts, start{workflow.ExecuteActivity(r.nodeOptions(ctx, g.nodes[n], r.in.Settings.Retry.StartTimeout), a.StartRole, in), n, rank, role})
			}
		}
	}
	urls := map[string][]string{}
	var failed error
	failedNode := ""
	// Every start is waited for, so none is left running unseen.
	for _, s := range starts {
		var info activities.EngineInfo
		if err := s.future.Get(ctx, &info); err != nil {
			if failed == nil {
				failed, failedNode = err, g.nodes[s.node]
			}
			continue
		}
		if s.rank == 0 {
			urls[s.role] = append(urls[s.role], reachable(info.BaseURL, g.address[s.node]))
		}
	}
	return urls, failedNode, failed
}

// reachable is an engine's URL as other nodes reach it: an engine that
// says it listens on loopback is at its node's address.
func reachable(base, address string) string {
	u, err := url.Parse(base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") || address == "" {
		return base
	}
	if port := u.Port(); port != "" {
		u.Host = address + ":" + port
	}
	return u.String()
}

// engineSettings are the settings' engine overrides for p: its entry's
// own, else its framework's.
func (r *poolRun) engineSettings(p sweep.Point) sweep.EngineSettings {
	if e, ok := r.in.Settings.Engines[p.Entry]; ok {
		return e
	}
	return r.in.Settings.Engines[p.Framework]
}

// loadOnGang measures one point against the deployment's frontend; the
// engines keep running for the next point.
func (r *poolRun) loadOnGang(ctx workflow.Context, g gang, p sweep.Point, frontend activities.EngineInfo, attempt int) (activities.PointResult, error) {
	var a *activities.Activities
	settings := r.in.Settings
	var res activities.PointResult
	err := workflow.ExecuteActivity(r.nodeOptions(ctx, g.nodes[0], settings.Retry.LoadTimeout), a.RunLoad, activities.LoadInput{
		Lease: g.lease0(r, 0), SweepID: r.in.SweepID, Date: r.in.Date, Point: p, Engine: frontend, Workload: settings.Workload,
		Goodput: settings.Goodput, TimeScale: r.in.TimeScale, Attempt: attempt, ConfigDigest: r.digest, Gang: g.nodes,
	}).Get(ctx, &res)
	return res, err
}

// blameGang finds the node behind a failed load: the first node whose
// worker is gone or whose engines exited; the first node itself when its
// own activity timed out; "" when every node is well (the failure is not
// a node's).
func (r *poolRun) blameGang(ctx workflow.Context, g gang, loadErr error) string {
	if timeoutType(loadErr) != enumspb.TIMEOUT_TYPE_UNSPECIFIED {
		return g.nodes[0]
	}
	var a *activities.Activities
	checks := make([]workflow.Future, len(g.nodes))
	for i := range g.nodes {
		checks[i] = workflow.ExecuteActivity(r.nodeOptions(ctx, g.nodes[i], 30*time.Second), a.CheckRoles, g.lease0(r, i))
	}
	blamed := ""
	for i, f := range checks {
		var h activities.RoleHealth
		if err := f.Get(ctx, &h); (err != nil || len(h.Dead) > 0) && blamed == "" {
			blamed = g.nodes[i]
		}
	}
	return blamed
}

// teardownGang stops every role on every node of the gang, in parallel,
// and gives the nodes back when each is done.
func (r *poolRun) teardownGang(ctx workflow.Context, g gang, p sweep.Point, attempt int) {
	var a *activities.Activities
	opts := teardownOptions
	futures := make([]workflow.Future, len(g.nodes))
	for i, node := range g.nodes {
		opts.TaskQueue = NodeQueue(r.in.Runner, node)
		futures[i] = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.Teardown, activities.TeardownInput{
			Lease: g.lease0(r, i), SweepID: r.in.SweepID, Date: r.in.Date, Hardware: p.Runner, PointID: p.DeploymentID + "-" + node, Attempt: attempt,
		})
	}
	for i, f := range futures {
		_ = f.Get(ctx, nil)
		delete(r.busy, g.nodes[i])
	}
}

// units hands runAll what one lease serves: a point, or (for pools that
// run gangs) a deployment's consecutive points, which RunOrder keeps
// together.
func (r *poolRun) units(next func() (sweep.Point, bool)) func() ([]sweep.Point, bool) {
	var held *sweep.Point
	return func() ([]sweep.Point, bool) {
		var p sweep.Point
		if held != nil {
			p, held = *held, nil
		} else {
			var ok bool
			if p, ok = next(); !ok {
				return nil, false
			}
		}
		unit := []sweep.Point{p}
		if !r.gangs || p.Nodes == 0 {
			p.Nodes = 0 // pools from before gangs run it as any point
			return []sweep.Point{p}, true
		}
		for {
			q, ok := next()
			if !ok {
				break
			}
			if q.DeploymentID != p.DeploymentID {
				held = &q
				break
			}
			unit = append(unit, q)
		}
		return unit, true
	}
}
