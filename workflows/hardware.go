package workflows

import (
	"cmp"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// defaultPointsPerRun keeps a pool's history far below Temporal's limits:
// a point costs about a dozen events.
const defaultPointsPerRun = 500

// quarantineAfter node faults in one sweep take a node out of rotation.
const quarantineAfter = 2

// Activity options, declared once so the retry story is readable here:
var (
	// Provision on the pool queue is the path of sweeps started before
	// pools assigned nodes: NodeBusy means "ask another node", so the retry
	// is quick and flat.
	provisionOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 20 * time.Millisecond, BackoffCoefficient: 1, MaximumInterval: 20 * time.Millisecond},
	}
	// Node activities must start promptly: if the node's worker died, its
	// queue is never polled and ScheduleToStart fires (Temporal does not
	// retry that), which is the node-fault signal.
	nodeStartToStart = 30 * time.Second
	// Teardown gets generous retries: an engine must never be leaked.
	teardownOptions = workflow.ActivityOptions{
		ScheduleToStartTimeout: nodeStartToStart,
		StartToCloseTimeout:    2 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 10},
	}
	// Small lake writes (failure rows) are idempotent: retry freely.
	recordOptions = workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 10},
	}
)

// HardwareSweepWorkflow runs a pool's points, at most Capacity at once:
// each entry's lowest-concurrency point first (a canary: a config error
// there skips the rest of the entry), then the rest. A node fault retries
// the point on another node and quarantines a node after repeated faults.
func HardwareSweepWorkflow(ctx workflow.Context, in HardwareInput) (HardwareResult, error) {
	progress := HardwareProgress{Running: map[string]string{}}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (HardwareProgress, error) { return progress, nil }); err != nil {
		return HardwareResult{}, err
	}
	start := 0
	if in.Carry != nil {
		start = in.Carry.Cursor
	}
	src, err := loadPoints(ctx, in, start)
	if err != nil {
		return HardwareResult{}, err
	}
	progress.Planned = src.total
	r := newPoolRun(ctx, in, src.digest, &progress)
	workflow.Go(ctx, r.takeSignals)
	limit := in.MaxPointsPerRun
	if limit <= 0 {
		limit = defaultPointsPerRun
	}
	// Canaries finish before the rest start: the rest may be skipped.
	phases := [][2]int{{min(start, src.canaries), src.canaries}, {max(start, src.canaries), src.total}}
	for _, phase := range phases {
		if phase[0] >= phase[1] {
			continue
		}
		finished := r.runAll(ctx, src.span(phase[0], phase[1]), &limit)
		if err := cmp.Or(ctx.Err(), src.err); err != nil {
			return r.result, err
		}
		if cursor := phase[0] + finished; cursor < phase[1] {
			if r.flush(ctx); r.partErr != nil {
				return r.result, r.partErr
			}
			next := in
			next.Carry = &HardwareCarry{Cursor: cursor, Result: r.result, Pending: r.pending, Progress: progress, Faults: r.faults, Charges: r.charges}
			next.Carry.keepConfigFailed(r.configFailedEntries, in.Paged)
			next.Carry.Progress.Running = nil
			return HardwareResult{}, workflow.NewContinueAsNewError(ctx, HardwareSweepWorkflow, next)
		}
	}
	if err := r.retryPending(ctx); err != nil {
		return r.result, err
	}
	return r.finish(ctx)
}

// newPoolRun decides, once per run, which behaviours the pool's history
// allows, and takes over what an earlier run carried.
func newPoolRun(ctx workflow.Context, in HardwareInput, digest string, progress *HardwareProgress) *poolRun {
	r := &poolRun{in: in, digest: digest, progress: progress, faults: map[string]int{}, configFailedEntries: map[string]string{},
		busy: map[string]bool{}, teardowns: workflow.NewWaitGroup(ctx), avoid: map[string]string{}, charges: map[string]map[string][]string{}}
	// Pools started before retry-failed existed recorded failures at once.
	r.deferFailures = workflow.GetVersion(ctx, "deferred-failures", workflow.DefaultVersion, 1) == 1
	// Pools started before then provisioned and tore down in activities
	// of their own.
	r.leaseInStart = workflow.GetVersion(ctx, "lease-in-start", workflow.DefaultVersion, 1) == 1
	// Pools started before then charged every engine failure to its node.
	r.attributeEngines = workflow.GetVersion(ctx, "engine-attribution", workflow.DefaultVersion, 1) == 1
	// Pools started before then charged any failure to its node, an S3
	// outage too.
	r.nodeEvidenceOnly = workflow.GetVersion(ctx, "node-evidence-only", workflow.DefaultVersion, 1) == 1
	// Pools started before then took one node's config error as final.
	r.confirmConfig = workflow.GetVersion(ctx, "config-on-two-nodes", workflow.DefaultVersion, 1) == 1
	// Pools started before then charged a node for a config error that
	// another node cleared, counted a point's repeat on one node twice,
	// and might retry a point on the node that just failed it.
	r.distinctEvidence = workflow.GetVersion(ctx, "distinct-evidence", workflow.DefaultVersion, 1) == 1
	// Pools started before then ran a multinode point like any other (and
	// failed it: no backend launched one), and handed nodes to whichever
	// point asked when one was free.
	r.gangs = workflow.GetVersion(ctx, "gang-leases", workflow.DefaultVersion, 1) == 1
	progress.Nodes = in.NodeNames
	if c := in.Carry; c != nil {
		r.result, r.faults, r.configFailedEntries, r.pending = c.Result, c.Faults, c.configFailed(), c.Pending
		if c.Charges != nil {
			r.charges = c.Charges
		}
		progress.Done, progress.Failed, progress.Skipped, progress.Quarantined = c.Progress.Done, c.Progress.Failed, c.Progress.Skipped, c.Progress.Quarantined
		progress.Evidence = c.Progress.Evidence
		progress.Paused = c.Progress.Paused
	}
	return r
}

// takeSignals is the coroutine that answers the pool's signals for as
// long as it runs.
func (r *poolRun) takeSignals(ctx workflow.Context) {
	pause, resume := workflow.GetSignalChannel(ctx, PauseSignal), workflow.GetSignalChannel(ctx, ResumeSignal)
	retry, release := workflow.GetSignalChannel(ctx, RetryFailedSignal), workflow.GetSignalChannel(ctx, ReleaseNodeSignal)
	for {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(pause, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); r.progress.Paused = true })
		sel.AddReceive(resume, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); r.progress.Paused = false })
		sel.AddReceive(retry, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); r.retryRequested = true })
		sel.AddReceive(release, func(c workflow.ReceiveChannel, _ bool) {
			var rel ReleaseNode
			c.Receive(ctx, &rel)
			r.release(rel)
		})
		sel.Select(ctx)
	}
}

// retryPending gives points lost to node faults another chance when
// asked: during the run, or within the failed-window after it.
func (r *poolRun) retryPending(ctx workflow.Context) error {
	for len(r.pending) > 0 {
		if !r.retryRequested && r.in.Settings.Retry.FailedWindow > 0 {
			if _, err := workflow.AwaitWithTimeout(ctx, r.in.Settings.Retry.FailedWindow, func() bool { return r.retryRequested }); err != nil {
				return err
			}
		}
		if !r.retryRequested {
			return nil
		}
		r.retryRequested = false
		retry := &pointSource{}
		for _, f := range r.pending {
			retry.all = append(retry.all, f.Point)
		}
		r.progress.Failed -= len(r.pending)
		r.progress.Quarantined, r.progress.Evidence, r.faults, r.pending = nil, nil, map[string]int{}, nil
		unlimited := len(retry.all)
		r.runAll(ctx, retry.span(0, len(retry.all)), &unlimited)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// finish records the failures no retry came for and leaves the pool's
// last manifest part and its nodes' faults in the lake.
func (r *poolRun) finish(ctx workflow.Context) (HardwareResult, error) {
	for _, f := range r.pending {
		r.record(ctx, f.Point, "failed", activities.ErrNodeFault, f.Reason, f.Attempts, f.Node)
	}
	if r.flush(ctx); r.partErr != nil {
		return r.result, r.partErr
	}
	if err := r.keepNodeFaults(ctx); err != nil {
		return r.result, err
	}
	r.result.Quarantined = r.progress.Quarantined
	return r.result, nil
}

type poolRun struct {
	busy map[string]bool // nodes holding one of this pool's points
	// retryRequested: retry-failed came and is not yet acted on.
	retryRequested bool
	deferFailures  bool // node-fault failures wait in pending
	// leaseInStart: on an assigned node, StartEngine takes the lease and
	// RunLoad gives it back, two activities per point instead of four.
	leaseInStart bool
	// teardowns still running: a pool finishes only after them.
	teardowns           workflow.WaitGroup
	pending             []PendingFailure
	in                  HardwareInput
	digest              string
	progress            *HardwareProgress
	faults              map[string]int
	configFailedEntries map[string]string
	result              HardwareResult
	// attributeEngines: a failure seen on two nodes is the engine's
	// (attribution.go); charges are what it may withdraw.
	attributeEngines bool
	// nodeEvidenceOnly: only node faults (reported by the node, or its
	// worker gone) are charged; the lake or Temporal failing is not the
	// node's doing, and the point is simply retried.
	nodeEvidenceOnly bool
	// confirmConfig: a config error is the config's once a second node
	// confirms it; avoid is the node a point's retry must not take.
	confirmConfig bool
	avoid         map[string]string
	// distinctEvidence: only faults on different points count toward a
	// quarantine, a config error cleared elsewhere charges nobody, and a
	// point's retry avoids the node that failed it.
	distinctEvidence bool
	charges          map[string]map[string][]string
	// gangs: a deployment's points run on one gang of nodes taken at once,
	// and every ask for nodes waits its turn (waiting, by ticket).
	gangs      bool
	nextTicket int
	waiting    []int
	// outcomes wait for the next manifest part (paged pools only).
	outcomes []results.Outcome
	partErr  error // a part that could not be written fails the pool
}

// runAll runs points in order with at most Capacity in flight, until
// budget runs out or Temporal suggests continue-as-new; it waits for what
// it started and returns how many points (a prefix of points) finished.
func (r *poolRun) runAll(ctx workflow.Context, next func() (sweep.Point, bool), budget *int) int {
	slots := workflow.NewBufferedChannel(ctx, max(r.in.Capacity, 1))
	units := r.units(next)
	wg := workflow.NewWaitGroup(ctx)
	started := 0
	for {
		// A paused pool lets running points finish and starts no more.
		if err := workflow.Await(ctx, func() bool { return !r.progress.Paused }); err != nil {
			break
		}
		if ctx.Err() != nil || *budget <= 0 || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			break
		}
		unit, ok := units()
		if !ok {
			break
		}
		*budget -= len(unit)
		started += len(unit)
		slots.Send(ctx, struct{}{})
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() {
				slots.Receive(ctx, nil)
				wg.Done()
			}()
			if len(unit) == 1 && unit[0].Nodes == 0 {
				r.runPoint(ctx, unit[0])
				return
			}
			r.runDeployment(ctx, unit)
		})
	}
	wg.Wait(ctx)
	r.teardowns.Wait(ctx)
	return started
}

func (r *poolRun) runPoint(ctx workflow.Context, p sweep.Point) {
	if reason, skipped := r.configFailedEntries[p.Entry]; skipped {
		r.record(ctx, p, "skipped", activities.ErrConfig, "canary failed: "+reason, 0, "")
		r.progress.Skipped++
		return
	}
	try := &pointTry{p: p, attempts: max(r.in.Settings.Retry.PointAttempts, 1)}
	var lastErr error
	var lastNode string
	defer delete(r.avoid, p.ID)
	for try.attempt = 1; try.attempt <= try.attempts; try.attempt++ {
		if r.unavailable(p) {
			// Provisioning would wait forever for a healthy node.
			lastErr = r.unavailableError(p)
			break
		}
		res, node, err := r.attempt(ctx, p, try.attempt)
		delete(r.progress.Running, p.ID)
		if err == nil {
			r.succeeded(ctx, try, res)
			return
		}
		lastErr, lastNode = err, node
		if ctx.Err() != nil || r.judge(ctx, try, node, err) {
			return
		}
	}
	r.progress.Failed++
	if r.deferFailures && (!r.in.Paged || len(r.pending) < maxPending) {
		r.pending = append(r.pending, PendingFailure{Point: p, Reason: reason(lastErr), Attempts: try.attempts, Node: lastNode})
		return
	}
	r.record(ctx, p, "failed", activities.ErrNodeFault, reason(lastErr), try.attempts, lastNode)
}

// succeeded takes a point's measurement.
func (r *poolRun) succeeded(ctx workflow.Context, try *pointTry, res activities.PointResult) {
	if try.suspect != "" && !r.distinctEvidence {
		// Fine elsewhere: pools started before distinct evidence blamed
		// the first node.
		r.charge(try.suspect, try.p, try.suspectErr)
	}
	r.finished(ctx, res.Manifest)
	if res.Manifest.Status == "failed" {
		// Measured, but too many requests failed: not retried.
		r.progress.Failed++
		r.failed(failureLine(try.p, "failed", res.Error))
		return
	}
	r.progress.Done++
}

// attempt runs a point once on one node; teardown always follows: done
// by RunLoad after a measured point, by its own activity otherwise.
func (r *poolRun) attempt(ctx workflow.Context, p sweep.Point, attempt int) (res activities.PointResult, node string, err error) {
	var a *activities.Activities
	lease, inline, freeNode, err := r.takeNode(ctx, p, attempt)
	if err != nil {
		return activities.PointResult{}, lease.Node, err
	}
	r.progress.Running[p.ID] = lease.Node
	startTimedOut := false
	defer func() {
		// Teardown runs even when the sweep is cancelled.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		switch {
		case !inline:
			r.teardown(dctx, lease, p, attempt)
			freeNode()
		case res.Released || startTimedOut:
			// Torn down by RunLoad, or never started: nothing holds the node.
			freeNode()
		default:
			// The node stays busy until its engine is gone, but the point
			// need not wait for that: its retry may start elsewhere now.
			r.teardowns.Add(1)
			workflow.Go(dctx, func(ctx workflow.Context) {
				defer r.teardowns.Done()
				r.teardown(ctx, lease, p, attempt)
				freeNode()
			})
		}
	}()

	settings := r.in.Settings
	engineSettings := r.engineSettings(p)
	sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: lease.NodeQueue, ScheduleToStartTimeout: nodeStartToStart,
		StartToCloseTimeout: settings.Retry.StartTimeout, HeartbeatTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var engine activities.EngineInfo
	if err := workflow.ExecuteActivity(sctx, a.StartEngine, activities.StartInput{
		Lease: lease, Acquire: inline, Point: p, TimeScale: r.in.TimeScale, Engine: engineSettings,
	}).Get(ctx, &engine); err != nil {
		startTimedOut = timeoutType(err) == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START
		return activities.PointResult{}, lease.Node, err
	}
	lctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: lease.NodeQueue, ScheduleToStartTimeout: nodeStartToStart,
		// Progress is reported five times a second: 10 s of silence means
		// the node's worker is gone (longer than a Temporal restart).
		StartToCloseTimeout: settings.Retry.LoadTimeout, HeartbeatTimeout: 10 * time.Second,
		// A load cannot resume on a dead engine: the point is retried whole.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	err = workflow.ExecuteActivity(lctx, a.RunLoad, activities.LoadInput{
		Lease: lease, SweepID: r.in.SweepID, Date: r.in.Date, Point: p, Engine: engine, Workload: settings.Workload,
		Goodput: settings.Goodput, TimeScale: r.in.TimeScale, Attempt: attempt, ConfigDigest: r.digest, Release: inline,
	}).Get(ctx, &res)
	return res, lease.Node, err
}

// takeNode leases a node for one attempt of p: a free, healthy node the
// pool chooses (the lease then is taken by StartEngine, inline), or, for
// sweeps whose pools do not choose, whichever node's Provision answers.
// freeNode gives the node back to the pool.
func (r *poolRun) takeNode(ctx workflow.Context, p sweep.Point, attempt int) (lease activities.Lease, inline bool, freeNode func(), err error) {
	var a *activities.Activities
	opts := provisionOptions
	assigned := ""
	freeNode = func() {}
	if len(r.in.NodeNames) > 0 {
		// Hand the point to a free, healthy node; a node whose worker is
		// gone never starts the task, and ScheduleToStart says so.
		// Nodes may all be quarantined while this point waits: then no node
		// will ever be free, and the point fails like the rest.
		ready := func() bool { assigned = r.freeNodeFor(p); return assigned != "" || r.unavailable(p) }
		wait := func() error { return workflow.Await(ctx, ready) }
		if r.gangs {
			wait = func() error { return r.inTurn(ctx, ready) }
		}
		if err := wait(); err != nil {
			return lease, false, freeNode, err
		}
		if assigned == "" {
			return lease, false, freeNode, r.unavailableError(p)
		}
		r.busy[assigned] = true
		freeNode = func() { delete(r.busy, assigned) }
		opts = workflow.ActivityOptions{
			TaskQueue: NodeQueue(r.in.Runner, assigned), ScheduleToStartTimeout: nodeStartToStart, StartToCloseTimeout: 30 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3},
		}
	}
	inline = r.leaseInStart && assigned != ""
	if inline {
		return activities.Lease{Node: assigned, NodeQueue: opts.TaskQueue, LeaseID: activities.LeaseID(r.in.SweepID, p.ID, attempt)}, true, freeNode, nil
	}
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.Provision, activities.ProvisionInput{
		Node: assigned, SweepID: r.in.SweepID, PointID: p.ID, Attempt: attempt, Quarantined: slices.Clone(r.progress.Quarantined),
	}).Get(ctx, &lease); err != nil {
		freeNode()
		return activities.Lease{Node: assigned}, false, freeNode, err
	}
	return lease, false, freeNode, nil
}

func (r *poolRun) teardown(ctx workflow.Context, lease activities.Lease, p sweep.Point, attempt int) {
	var a *activities.Activities
	opts := teardownOptions
	opts.TaskQueue = lease.NodeQueue
	_ = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.Teardown, activities.TeardownInput{
		Lease: lease, SweepID: r.in.SweepID, Date: r.in.Date, Hardware: p.Runner, PointID: p.ID, Attempt: attempt,
	}).Get(ctx, nil)
}

func (r *poolRun) record(ctx workflow.Context, p sweep.Point, status, class, msg string, attempts int, node string) {
	var a *activities.Activities
	var mp results.ManifestPoint
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, recordOptions), a.RecordFailure, activities.FailureInput{
		SweepID: r.in.SweepID, Date: r.in.Date, Point: p, Status: status, ErrorClass: class, Error: msg, Attempts: attempts, Node: node,
		At: workflow.Now(dctx).UTC(),
	}).Get(dctx, &mp)
	if err != nil {
		mp = results.ManifestPoint{PointID: p.ID, Hardware: p.Runner, Status: status}
	}
	r.finished(dctx, mp)
	r.failed(failureLine(p, status, msg))
}
