package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// Provision claims this node for one point. A node holds one lease at a
// time; a busy or quarantined node answers NodeBusy and Temporal's retry
// hands the task to another node of the pool.
func (a *Activities) Provision(ctx context.Context, in ProvisionInput) (Lease, error) {
	leaseID := LeaseID(in.SweepID, in.PointID, in.Attempt)
	if err := a.acquire(in.Node, in.SweepID, in.Quarantined, leaseID); err != nil {
		return Lease{}, err
	}
	return Lease{Node: a.Node, NodeQueue: a.NodeQueue, LeaseID: leaseID}, nil
}

// LeaseID names one attempt of one point: the same on every retry of an
// activity, so a repeated acquire or release is harmless.
func LeaseID(sweepID, pointID string, attempt int) string {
	return sweepID + "/" + pointID + "/" + strconv.Itoa(attempt)
}

// acquire claims this node for leaseID; node is the node the pool chose
// ("" when any node of the pool may take the point).
func (a *Activities) acquire(node, sweepID string, quarantined []string, leaseID string) error {
	if node != "" && node != a.Node {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("lease for node %s reached node %s: two workers share a node name", node, a.Node), ErrNodeFault, nil)
	}
	if slices.Contains(quarantined, a.Node) {
		return temporal.NewApplicationError(fmt.Sprintf("node %s is quarantined for sweep %s", a.Node, sweepID), ErrNodeBusy)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lease != "" && a.lease != leaseID {
		return temporal.NewApplicationError(fmt.Sprintf("node %s holds lease %s", a.Node, a.lease), ErrNodeBusy)
	}
	a.lease = leaseID
	return nil
}

func (a *Activities) holds(lease Lease) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lease != lease.LeaseID {
		// This worker restarted since the lease was granted: whatever ran
		// under it died with the old process.
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("node %s lost lease %s", a.Node, lease.LeaseID), ErrNodeFault, nil)
	}
	return nil
}

// StartEngine launches the point's engine and waits until it is ready.
func (a *Activities) StartEngine(ctx context.Context, in StartInput) (EngineInfo, error) {
	if in.Acquire {
		if err := a.acquire(in.Lease.Node, "", nil, in.Lease.LeaseID); err != nil {
			return EngineInfo{}, err
		}
	}
	if err := a.holds(in.Lease); err != nil {
		return EngineInfo{}, err
	}
	if err := a.reap(ctx); err != nil {
		return EngineInfo{}, err
	}
	stopBeat := heartbeatEvery(ctx, 2*time.Second, "starting engine")
	engine, err := a.Launcher.Start(ctx, launch.Spec{Point: in.Point, Name: launch.EngineName(a.Node + "/" + in.Lease.LeaseID), Node: a.Node, Lease: in.Lease.LeaseID, TimeScale: in.TimeScale, ExtraArgs: in.Engine.Args, Env: in.Engine.Env})
	stopBeat()
	if err != nil {
		if ctx.Err() != nil {
			// Cancelled: the teardown that follows may have come already
			// and found nothing to release, so free the node here.
			a.mu.Lock()
			if a.lease == in.Lease.LeaseID && a.engine == nil {
				a.lease = ""
			}
			a.mu.Unlock()
		}
		var start *launch.StartError
		if errors.As(err, &start) && start.Kind == launch.ConfigFailure {
			return EngineInfo{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrConfig, nil)
		}
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrNodeFault, nil)
	}
	a.mu.Lock()
	held := a.lease == in.Lease.LeaseID
	if held {
		a.engine = engine
	}
	a.mu.Unlock()
	if !held {
		// Torn down while it started (its sweep was cancelled, or the pool
		// gave up on the start): the teardown found no engine to stop, and
		// nothing else will stop this one.
		_, _ = engine.Stop(context.WithoutCancel(ctx))
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("lease %s was released while its engine started; the engine is stopped", in.Lease.LeaseID), ErrNodeFault, nil)
	}
	a.metrics().EngineReady(in.Point.Runner, engine.StartupSeconds)
	a.logger().Info("engine ready", "lease", in.Lease.LeaseID, "point", in.Point.ID, "startup_s", engine.StartupSeconds)
	return EngineInfo{BaseURL: engine.BaseURL, StartupSeconds: engine.StartupSeconds, ImageDigest: engine.ImageDigest, Placement: engine.Placement}, nil
}

// reap removes this node's leftovers: containers and jobs outlive a dead
// worker. Names carry the node, so other nodes are untouched.
func (a *Activities) reap(ctx context.Context) error {
	reaper, ok := a.Launcher.(launch.Reaper)
	if !ok {
		return nil
	}
	n, err := reaper.Reap(ctx, a.Node)
	if err != nil {
		return fmt.Errorf("reap leftover engines on %s: %w", a.Node, err)
	}
	if n > 0 {
		a.logger().Warn("removed leftover engines", "node", a.Node, "count", n)
	}
	return nil
}

// heartbeatEvery heartbeats until stopped, the first time after one
// period: a step that ends sooner costs the server nothing.
func heartbeatEvery(ctx context.Context, every time.Duration, details any) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				activity.RecordHeartbeat(ctx, details)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// RunLoad measures the point and writes its rows to the lake, write-once.
// An eval point then runs its evals on the same engine (an eval-only
// point runs only them): the load's tables are staged first, the evals
// and the points row, whose status the scores decide, committed after.
func (a *Activities) RunLoad(ctx context.Context, in LoadInput) (PointResult, error) {
	if err := a.holds(in.Lease); err != nil {
		return PointResult{}, err
	}
	if in.Attempt > 1 {
		a.metrics().PointRetried(in.Point.Runner)
	}
	if in.Point.EvalOnly {
		return a.runEvalOnly(ctx, in)
	}
	run, trace, err := a.loadOf(ctx, in)
	if err != nil {
		return PointResult{}, err
	}
	m, err := a.measure(ctx, run)
	if err != nil {
		return PointResult{}, err
	}
	if err := deploymentServes(ctx, in, m.res.Summary); err != nil {
		return PointResult{}, err
	}
	row := a.measuredRow(in, m)
	row.TraceDigest, row.TraceSource = trace.digest, trace.source
	// Writes may wait out an S3 outage: keep the activity alive meanwhile.
	stopBeat := heartbeatEvery(ctx, 2*time.Second, "writing results")
	defer stopBeat()
	mp := results.MeasuredPoint{Date: in.Date, Row: row, Records: m.res.Records, Metrics: m.res.Metrics}
	if in.Point.Eval && row.Status == "succeeded" {
		staged, adopted, err := a.Lake.StagePoint(ctx, mp)
		if err != nil || adopted {
			return a.committed(ctx, in, staged, adopted, err)
		}
		if mp.Evals, err = a.evaluate(ctx, in); err != nil {
			return PointResult{}, err
		}
		mp.Staged, mp.Row.Status = true, accuracyStatus(row.Status, mp.Evals)
	}
	committed, adopted, err := a.Lake.CommitPoint(ctx, mp)
	if err != nil || adopted {
		return a.committed(ctx, in, committed, adopted, err)
	}
	a.recordMeasured(ctx, in, mp.Row, m)
	out := PointResult{Manifest: committed, Completed: m.res.Summary.Completed, Failed: m.res.Summary.Failed, Error: row.Error}
	if row.TputPerGPU != nil {
		out.TputPerGPU = *row.TputPerGPU
	}
	return a.releaseAfterLoad(ctx, in, out), nil
}

// committed ends a RunLoad whose commit failed, or found the point
// committed by an earlier attempt whose report was lost.
func (a *Activities) committed(ctx context.Context, in LoadInput, mp results.ManifestPoint, adopted bool, err error) (PointResult, error) {
	if err != nil {
		return PointResult{}, err
	}
	a.logger().Warn("point already committed by an attempt whose report was lost; this measurement is dropped", "sweep", in.SweepID, "point", in.Point.ID, "attempt", in.Attempt)
	return a.releaseAfterLoad(ctx, in, PointResult{Manifest: mp}), nil
}

// runEvalOnly evaluates an eval-only point: no throughput measurement,
// as upstream's EVAL_ONLY skips benchmark_serving. Its points row has
// the eval's window and no figures.
func (a *Activities) runEvalOnly(ctx context.Context, in LoadInput) (PointResult, error) {
	row := a.measuredRowBase(in)
	row.Status, row.Start = "succeeded", time.Now().UTC()
	rows, err := a.evaluate(ctx, in)
	if err != nil {
		return PointResult{}, err
	}
	row.End, row.Status = time.Now().UTC(), accuracyStatus(row.Status, rows)
	stopBeat := heartbeatEvery(ctx, 2*time.Second, "writing results")
	defer stopBeat()
	mp, adopted, err := a.Lake.CommitPoint(ctx, results.MeasuredPoint{Date: in.Date, Row: row, Evals: rows, NoLoad: true})
	if err != nil || adopted {
		return a.committed(ctx, in, mp, adopted, err)
	}
	a.metrics().PointFinished(in.Point.Runner, row.Status)
	a.logger().Info("eval-only point evaluated", "sweep", in.SweepID, "point", in.Point.ID, "status", row.Status)
	return a.releaseAfterLoad(ctx, in, PointResult{Manifest: mp}), nil
}

// loadConfig translates the point and the sweep's settings into a load.
func loadConfig(ctx context.Context, in LoadInput) loadgen.Config {
	p := in.Point
	w := loadgen.DefaultWorkload()
	w.Model, w.InputLen, w.OutputLen = p.Model, p.ISL, p.OSL
	w.RangeRatio, w.RangeMode, w.Seed = in.Workload.RandomRangeRatio, loadgen.RangeMode(in.Workload.RangeMode), in.Workload.Seed
	rate := math.Inf(1)
	if in.Workload.RequestRate != "inf" {
		rate, _ = strconv.ParseFloat(in.Workload.RequestRate, 64)
	}
	return loadgen.Config{
		BaseURL: in.Engine.BaseURL, Workload: w, MaxConcurrency: p.Conc, RequestRate: rate,
		NumPrompts: in.Workload.PromptsPerConc * p.Conc, NumWarmups: in.Workload.WarmupsPerConc * p.Conc,
		TimeScale: in.TimeScale, ScrapeMetrics: true, StallTimeout: stallTimeout(in.TimeScale),
		Goodput:    loadgen.SLO{TTFTms: in.Goodput.TTFTms, TPOTms: in.Goodput.TPOTms, E2ELms: in.Goodput.E2ELms},
		OnProgress: loadProgress(ctx),
	}
}

// loadOf is how the point is measured: a trace replay for an agentic
// point (with the trace it replays), else a random load.
func (a *Activities) loadOf(ctx context.Context, in LoadInput) (func(context.Context) (*loadgen.Result, error), replayTrace, error) {
	if in.Point.Scenario != sweep.ScenarioAgentic {
		cfg := loadConfig(ctx, in)
		return func(ctx context.Context) (*loadgen.Result, error) { return loadgen.Run(ctx, cfg) }, replayTrace{}, nil
	}
	cfg, trace, err := a.replayConfig(ctx, in)
	if err != nil {
		return nil, replayTrace{}, err
	}
	return func(ctx context.Context) (*loadgen.Result, error) { return loadgen.Replay(ctx, cfg) }, trace, nil
}

// stallTimeout: a minute of silence in the engine's time is a stall; a
// time-scaled simulated engine's minute is shorter.
func stallTimeout(timeScale float64) time.Duration {
	return max(time.Duration(float64(time.Minute)/max(timeScale, 1)), 2*time.Second)
}

// loadProgress heartbeats a load's progress. Like heartbeatEvery, the
// first beat waits: a load shorter than that costs the server no
// heartbeat.
func loadProgress(ctx context.Context) func(loadgen.Progress) {
	return func(pr loadgen.Progress) {
		if pr.Elapsed >= loadHeartbeatAfter {
			activity.RecordHeartbeat(ctx, fmt.Sprintf("%d/%d requests (%d failed)", pr.Done+pr.Failed, pr.Total, pr.Failed))
		}
	}
}

// measurement is one load and the node's power read beside it.
type measurement struct {
	res            *loadgen.Result
	started, ended time.Time
	watts          float64 // per GPU, when powerRead
	powerRead      bool
}

// measure runs the load while sampling the node's power. A load that
// measured no point ends in an error the workflow can attribute.
func (a *Activities) measure(ctx context.Context, run func(context.Context) (*loadgen.Result, error)) (measurement, error) {
	var stopPower func() (float64, bool)
	if a.Power != nil {
		stopPower = samplePower(ctx, a.Power)
	}
	m := measurement{started: time.Now()}
	res, err := run(ctx)
	m.res, m.ended = res, time.Now()
	if stopPower != nil {
		m.watts, m.powerRead = stopPower()
	}
	if res == nil {
		return m, temporal.NewNonRetryableApplicationError("load could not start: "+err.Error(), ErrConfig, nil)
	}
	if err != nil && !errors.Is(err, loadgen.ErrAllFailed) {
		return m, err
	}
	if failure := loadFailure(res.Summary); failure != nil {
		return m, failure
	}
	return m, err
}

// measuredRow is the point's row. InferenceX fails a run when too many
// requests failed and does not rerun it: the engine answered, so another
// node is not expected to help. The measurement is kept, counts
// included, as a failed point.
func (a *Activities) measuredRow(in LoadInput, m measurement) results.PointRow {
	row := a.measuredRowBase(in)
	row.Status, row.Start, row.End = "succeeded", m.started.UTC(), m.ended.UTC()
	if err := m.res.Summary.CheckFailureRate(in.Workload.FailureRateLimit()); err != nil {
		row.Status, row.ErrorClass, row.Error = "failed", ErrFailureRate, err.Error()
	}
	row.SummaryFigures(m.res.Summary)
	if m.powerRead {
		setPower(&row, m.watts)
	} else if m.res.Metrics != nil {
		addPower(&row, m.res.Metrics)
	}
	return row
}

// measuredRowBase is the points row of a point run on an engine, before
// any figure: where it ran and how its engine started.
func (a *Activities) measuredRowBase(in LoadInput) results.PointRow {
	node := in.Lease.Node
	if len(in.Gang) > 0 {
		node = strings.Join(in.Gang, "+")
	}
	row := a.pointRow(in.SweepID, in.Point, node, in.Attempt, in.ConfigDigest)
	row.EngineStartupS, row.ImageDigest = &in.Engine.StartupSeconds, in.Engine.ImageDigest
	row.EngineHost, row.EngineJob, row.EnginePartition = in.Engine.Placement.Host, in.Engine.Placement.Job, in.Engine.Placement.Partition
	return row
}

// recordMeasured counts and logs a point this attempt committed.
func (a *Activities) recordMeasured(ctx context.Context, in LoadInput, row results.PointRow, m measurement) {
	loadSeconds := m.ended.Sub(m.started).Seconds()
	a.metrics().PointFinished(in.Point.Runner, row.Status)
	a.metrics().LoadMeasured(in.Point.Runner, loadSeconds)
	level := slog.LevelInfo
	if row.Error != "" {
		level = slog.LevelWarn
	}
	a.logger().Log(ctx, level, "point measured", "sweep", in.SweepID, "point", in.Point.ID, "attempt", in.Attempt, "status", row.Status, "error", row.Error,
		"completed", m.res.Summary.Completed, "failed", m.res.Summary.Failed, "load_s", loadSeconds)
}

// releaseAfterLoad stops the engine and frees the node when the workflow
// asked RunLoad to. The workflow's teardown stays the backstop: it runs
// unless out.Released says this was done.
func (a *Activities) releaseAfterLoad(ctx context.Context, in LoadInput, out PointResult) PointResult {
	if !in.Release {
		return out
	}
	if _, err := a.release(ctx, in.Lease.LeaseID, results.LogKey(in.Date, in.Point.Runner, in.SweepID, in.Point.ID, in.Attempt)); err != nil {
		a.logger().Warn("engine not stopped after its load; the teardown activity will", "lease", in.Lease.LeaseID, "error", err)
	} else {
		out.Released = true
	}
	return out
}

// loadHeartbeatAfter is well inside RunLoad's 10 s heartbeat timeout.
const loadHeartbeatAfter = time.Second

// addPower averages the engine's modeled or measured power per GPU.
func addPower(row *results.PointRow, m *loadgen.ScrapedMetrics) {
	var sum float64
	var n int
	for _, s := range m.Samples {
		if s.Name == "vllm:gpu_power_watts" {
			sum += s.Value
			n++
		}
	}
	if n == 0 {
		return
	}
	setPower(row, sum/float64(n))
}

// setPower records average watts per GPU and the energy per token it means.
func setPower(row *results.PointRow, watts float64) {
	row.AvgPowerW = &watts
	if row.TputPerGPU != nil && *row.TputPerGPU > 0 {
		j := watts / *row.TputPerGPU
		row.JoulesPerToken = &j
	}
}

// Teardown stops the engine, stores the end of its log beside the
// results, and releases the lease. It is safe to repeat.
func (a *Activities) Teardown(ctx context.Context, in TeardownInput) (string, error) {
	return a.release(ctx, in.Lease.LeaseID, results.LogKey(in.Date, in.Hardware, in.SweepID, in.PointID, in.Attempt))
}

// release stops the engine started under leaseID, stores the end of its
// log at logKey and frees the node; a lease not held (released already,
// or lost with a restarted worker) is left alone.
func (a *Activities) release(ctx context.Context, leaseID, logKey string) (string, error) {
	a.mu.Lock()
	engine, roles := a.engine, a.roles
	held := a.lease == leaseID
	a.mu.Unlock()
	if !held {
		return "", nil
	}
	tail, err := stopRoles(ctx, roles)
	if err != nil {
		return tail, err
	}
	if engine != nil {
		var err error
		if tail, err = engine.Stop(ctx); err != nil {
			return tail, err
		}
		if tail != "" && a.Lake != nil {
			// Logs are diagnostics, not results: a retried teardown may
			// overwrite them.
			if err := a.Lake.Store().Put(ctx, logKey, []byte(tail+"\n"), "text/plain"); err != nil {
				a.logger().Warn("engine log not stored", "key", logKey, "error", err)
			}
		}
	}
	a.mu.Lock()
	a.engine, a.roles, a.lease = nil, nil, ""
	a.mu.Unlock()
	return tail, nil
}

// stopRoles stops every rank a gang ran here, all of them even when one
// fails, and returns their logs' ends, each under its role's name.
func stopRoles(ctx context.Context, roles []roleEngine) (string, error) {
	var tails []string
	var errs []error
	for _, r := range roles {
		tail, err := r.engine.Stop(ctx)
		if tail != "" {
			tails = append(tails, "=== "+r.name+" ===\n"+tail)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", r.name, err))
		}
	}
	return strings.Join(tails, "\n"), errors.Join(errs...)
}
