package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/sweep"
)

// ControlQueue is where sweeps are planned and committed.
const ControlQueue = "infersweep-control"

// SweepInput starts one sweep.
type SweepInput struct {
	// SweepID and Date are empty in a schedule's action: the sweep takes
	// them from its nominal (scheduled) time, so a backfilled night lands
	// under its own date.
	SweepID  string
	Date     string
	Masters  []string
	Runners  string
	Settings string
	// Recipes are engine recipe files beside the shipped catalogue.
	Recipes []string
	Filters sweep.Filters
	// TimeScale speeds up simulated engines (the demo); 1 for real ones.
	TimeScale float64
	// Simulate runs every point on the simulated engine standing in for
	// its framework (`demo --simulate`). Absent from earlier histories,
	// where it is false, so they replay unchanged.
	Simulate bool `json:",omitempty"`
	// Upstream names the checkout files the plan reads beyond the specs
	// (activities.PlanInput.Upstream). Absent from earlier histories.
	Upstream string `json:",omitempty"`
	// MaxPointsPerRun bounds each pool run's history (0: the default).
	MaxPointsPerRun int
	// ChangedSince (a sweep id or spec digest) plans only what is new.
	ChangedSince string
	// ChangedSinceLastOf (a schedule id) plans only what that schedule's
	// previous committed sweep did not have. Schedules applied before it
	// existed send "previous-sweep-of:<id>" in ChangedSince instead, which
	// PlanSweep still reads.
	ChangedSinceLastOf string
	// Set by schedules: which one, the time zone its dates are in, and
	// the sha256 of each spec file it uploaded.
	ScheduleID  string
	TimeZone    string
	SpecDigests []string
}

// ScheduledStartTimeKey is the nominal time Temporal stamps on every
// workflow a schedule starts (backfills included).
var ScheduledStartTimeKey = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// nameScheduledSweep fills in a scheduled sweep's id and date from its
// nominal time: "<schedule>-YYYYMMDD-HHMM" (UTC), dated in the schedule's
// time zone.
func nameScheduledSweep(ctx workflow.Context, in *SweepInput) (time.Time, error) {
	nominal, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(ScheduledStartTimeKey)
	if !ok {
		nominal = workflow.Now(ctx)
	}
	loc := time.UTC
	if in.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(in.TimeZone); err != nil {
			return nominal, temporal.NewNonRetryableApplicationError(fmt.Sprintf("schedule %s: time zone %q: %v", in.ScheduleID, in.TimeZone, err), activities.ErrConfig, nil)
		}
	}
	in.Date = nominal.In(loc).Format(time.DateOnly)
	in.SweepID = in.ScheduleID + "-" + nominal.UTC().Format("20060102-1504")
	return nominal, nil
}

// SweepResult is a sweep's outcome, small enough for history.
type SweepResult struct {
	SweepID     string
	ManifestKey string
	Counts      map[string]int // points by status
	Failures    []string       // "point: reason", for the failed and skipped
	// MoreFailures is how many failures Failures leaves out (the lake's
	// points rows have every one).
	MoreFailures int `json:",omitempty"`
	// AnalysisKey is the sweep's frontiers table, once analysed.
	AnalysisKey string
	// Alert says what became of the sweep's webhook summary.
	Alert string
}

// SweepProgress answers the "progress" query.
type SweepProgress struct {
	Planned  int
	Pools    []string
	Finished map[string]HardwareResult // by runner label, as pools finish
}

// ProgressQuery is the name of the progress query on every sweep workflow.
const ProgressQuery = "progress"

// Planning is quick and idempotent: a few retries cover a blip in S3.
var planOptions = workflow.ActivityOptions{
	TaskQueue:           ControlQueue,
	StartToCloseTimeout: 5 * time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, NonRetryableErrorTypes: []string{activities.ErrConfig}},
}

// A webhook that is down for a while still gets the summary: retries back
// off to 10 minutes for up to 6 hours; a refused summary (4xx) is final.
var alertOptions = workflow.ActivityOptions{
	TaskQueue:              ControlQueue,
	StartToCloseTimeout:    time.Minute,
	ScheduleToCloseTimeout: 6 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrConfig}},
}

// A failed sweep's notice gets a few minutes of retries: it is
// news only while the night is.
var notifyOptions = workflow.ActivityOptions{
	TaskQueue:              ControlQueue,
	StartToCloseTimeout:    time.Minute,
	ScheduleToCloseTimeout: 15 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrConfig}},
}

// SweepWorkflow plans a sweep, runs one HardwareSweepWorkflow per runner
// label on that pool's task queue, and commits the manifest when all end.
// A sweep that fails or is cancelled first tells the team.
func SweepWorkflow(ctx workflow.Context, in SweepInput) (SweepResult, error) {
	result, err := runSweep(ctx, &in)
	// Sweeps started before then ended without a word.
	if err != nil && workflow.GetVersion(ctx, "notify-failure", workflow.DefaultVersion, 1) == 1 {
		notifyFailure(ctx, in, err)
	}
	return result, err
}

// notifyFailure sends the sweep-failed notice, even from a cancelled
// sweep; a notice that cannot be sent does not change how the sweep ends.
func notifyFailure(ctx workflow.Context, in SweepInput, cause error) {
	var a *activities.Activities
	var canceled *temporal.CanceledError
	reason := failureReason(cause)
	if len(reason) > 500 {
		reason = reason[:500] + "…"
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, notifyOptions), a.NotifySweepFailed, activities.FailureNotice{
		SweepID: in.SweepID, Date: in.Date, Cancelled: errors.As(cause, &canceled), Reason: reason,
	}).Get(dctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("sweep-failed notice not delivered", "sweep", in.SweepID, "error", err)
	}
}

// failureReason is what failed, in words: our own context (which pool,
// which step) and the innermost cause, without the Temporal wrappers
// between them (activity and child workflow ids, run ids).
func failureReason(err error) string {
	inner := err
	for next := errors.Unwrap(inner); next != nil; next = errors.Unwrap(inner) {
		inner = next
	}
	cause := inner.Error()
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		cause = app.Message() // without its type and retryability
	}
	msg := err.Error()
	for _, wrapper := range []string{": activity error (", ": child workflow execution error ("} {
		if i := strings.Index(msg, wrapper); i >= 0 {
			return msg[:i] + ": " + cause
		}
	}
	return msg
}

func runSweep(ctx workflow.Context, inp *SweepInput) (SweepResult, error) {
	in := *inp
	defer func() { *inp = in }() // the name a scheduled sweep takes
	var nominal time.Time
	if in.SweepID == "" {
		var err error
		if nominal, err = nameScheduledSweep(ctx, &in); err != nil {
			return SweepResult{}, err
		}
	}
	progress := SweepProgress{Finished: map[string]HardwareResult{}}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (SweepProgress, error) { return progress, nil }); err != nil {
		return SweepResult{}, err
	}
	plan, err := planSweep(ctx, in, nominal)
	if err != nil {
		return SweepResult{}, err
	}
	progress.Planned = plan.Total
	// Pools of sweeps started before then carried every point through
	// payloads, which stop a night past a few thousand points.
	paged := workflow.GetVersion(ctx, "manifest-parts", workflow.DefaultVersion, 1) == 1
	futures := startPools(ctx, in, plan, paged, &progress)
	result, manifest, err := collectPools(ctx, in, plan, futures, paged, &progress)
	if err != nil {
		// Without every pool's points the manifest would lie; the sweep
		// stays uncommitted and visible as running/interrupted.
		return result, err
	}
	return commitSweep(ctx, in, plan, manifest, result)
}

// planSweep plans the sweep and shows the plan in the memo and search
// attributes.
func planSweep(ctx workflow.Context, in SweepInput, nominal time.Time) (activities.PlanOutput, error) {
	var a *activities.Activities
	var plan activities.PlanOutput
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, planOptions), a.PlanSweep, activities.PlanInput{
		SweepID: in.SweepID, Date: in.Date, Masters: in.Masters, Runners: in.Runners, Settings: in.Settings, Recipes: in.Recipes, Filters: in.Filters,
		ChangedSince: in.ChangedSince, ChangedSinceLastOf: in.ChangedSinceLastOf, Simulate: in.Simulate, Upstream: in.Upstream,
	}).Get(ctx, &plan)
	if err != nil {
		return plan, fmt.Errorf("plan sweep %s: %w", in.SweepID, err)
	}
	// The memo shows the plan in the UI without opening the lake. Sweeps
	// started before it existed replay without it.
	if workflow.GetVersion(ctx, "plan-memo", workflow.DefaultVersion, 1) == 1 {
		pools := map[string]int{}
		for _, pool := range plan.Runners {
			pools[pool.Label] = pool.Points
		}
		memo := map[string]any{"plan_key": plan.PlanKey, "points": plan.Total, "points_by_pool": pools}
		if in.ScheduleID != "" {
			memo["schedule_id"], memo["spec_digests"], memo["nominal_time"] = in.ScheduleID, in.SpecDigests, nominal
		}
		if err := workflow.UpsertMemo(ctx, memo); err != nil {
			return plan, err
		}
	}
	return plan, workflow.UpsertTypedSearchAttributes(ctx,
		SweepIDKey.ValueSet(in.SweepID), SweepDateKey.ValueSet(in.Date),
		ModelKey.ValueSet(plan.Models), FrameworkKey.ValueSet(plan.Frameworks), PrecisionKey.ValueSet(plan.Precisions),
	)
}

// startPools starts one HardwareSweepWorkflow per pool on its queue.
func startPools(ctx workflow.Context, in SweepInput, plan activities.PlanOutput, paged bool, progress *SweepProgress) []workflow.ChildWorkflowFuture {
	info := workflow.GetInfo(ctx)
	var futures []workflow.ChildWorkflowFuture
	for _, pool := range plan.Runners {
		progress.Pools = append(progress.Pools, pool.Label)
		childCtx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: PoolWorkflowID(info.WorkflowExecution.ID, pool.Label),
			TaskQueue:  TaskQueue(pool.Label),
			// A cancelled sweep cancels its pools, which tear down engines.
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				SweepIDKey.ValueSet(in.SweepID), SweepDateKey.ValueSet(in.Date), HardwareKey.ValueSet(pool.Label),
				ModelKey.ValueSet(plan.Models), FrameworkKey.ValueSet(plan.Frameworks), PrecisionKey.ValueSet(plan.Precisions),
			),
		})
		futures = append(futures, workflow.ExecuteChildWorkflow(childCtx, HardwareSweepWorkflow, HardwareInput{
			SweepID: in.SweepID, Date: in.Date, PlanKey: plan.PlanKey, Runner: pool.Label, Capacity: pool.Capacity, Nodes: pool.Nodes, NodeNames: pool.NodeNames,
			TimeScale: in.TimeScale, Settings: plan.Settings, MaxPointsPerRun: in.MaxPointsPerRun,
			Paged: paged,
		}))
	}
	return futures
}

// collectPools waits for every pool and sums up what they did: the
// result, and what the manifest commit needs to read.
func collectPools(ctx workflow.Context, in SweepInput, plan activities.PlanOutput, futures []workflow.ChildWorkflowFuture, paged bool,
	progress *SweepProgress) (SweepResult, activities.ManifestInput, error) {
	result := SweepResult{SweepID: in.SweepID, Counts: map[string]int{}}
	manifest := activities.ManifestInput{SweepID: in.SweepID, Date: in.Date, Quarantined: map[string][]string{}}
	var childErr error
	for i, f := range futures {
		label := plan.Runners[i].Label
		var hw HardwareResult
		if err := f.Get(ctx, &hw); err != nil {
			childErr = fmt.Errorf("pool %s: %w", label, err)
			continue
		}
		progress.Finished[label] = hw
		manifest.Points = append(manifest.Points, hw.Points...)
		if paged {
			manifest.Pools = append(manifest.Pools, activities.PoolParts{Runner: label, Parts: hw.Parts})
		}
		if len(hw.Quarantined) > 0 {
			manifest.Quarantined[label] = hw.Quarantined
		}
		for _, p := range hw.Points {
			result.Counts[p.Status]++
		}
		for status, n := range hw.Counts {
			result.Counts[status] += n
		}
		result.Failures = append(result.Failures, hw.Failures...)
		result.MoreFailures += hw.MoreFailures
	}
	return result, manifest, childErr
}

// commitSweep writes the manifest, analyses the sweep and sends its alert.
func commitSweep(ctx workflow.Context, in SweepInput, plan activities.PlanOutput, manifest activities.ManifestInput, result SweepResult) (SweepResult, error) {
	var a *activities.Activities
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, planOptions), a.WriteManifest, manifest).Get(ctx, &result.ManifestKey)
	if err != nil {
		return result, err
	}
	// Sweeps started before the analysis step existed end at the manifest.
	if workflow.GetVersion(ctx, "analyze", workflow.DefaultVersion, 1) == 1 {
		err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, planOptions), a.AnalyzeSweep, activities.AnalyzeInput{
			SweepID: in.SweepID, Date: in.Date, Costs: plan.Settings.Hardware, Analysis: plan.Settings.Analysis,
		}).Get(ctx, &result.AnalysisKey)
		if err != nil {
			return result, err
		}
	}
	// The measurements are committed and analysed: an alert that cannot
	// be delivered is reported in the result, it does not fail the sweep.
	if workflow.GetVersion(ctx, "alert", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, alertOptions), a.SendAlert, activities.AlertInput{
			SweepID: in.SweepID, Date: in.Date,
		}).Get(ctx, &result.Alert); err != nil {
			result.Alert = "failed: " + err.Error()
			workflow.GetLogger(ctx).Error("sweep alert not delivered", "sweep", in.SweepID, "error", err)
		}
	}
	return result, nil
}

// SweepWorkflowID is the readable id of a sweep's workflow.
func SweepWorkflowID(sweepID string) string { return "sweep-" + sweepID }
