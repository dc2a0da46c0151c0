package watchdog

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/infersweep/infersweep/activities"
)

// lookback bounds how far back a missed night is still news.
const lookback = 48 * time.Hour

// checkNights looks at every schedule not paused: a night it should have
// started more than StartGrace ago but did not (the previous night still
// running under a skip-overlap policy, the server down past the catchup
// window) is a missed night; a night it started that still runs
// NightDeadline after its nominal time is a late one.
func (w *Watchdog) checkNights(ctx context.Context, now time.Time) error {
	it, err := w.Client.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return err
	}
	for it.HasNext() {
		entry, err := it.Next()
		if err != nil {
			return err
		}
		if entry.Paused {
			continue
		}
		desc, err := w.Client.ScheduleClient().GetHandle(ctx, entry.ID).Describe(ctx)
		if err != nil {
			return fmt.Errorf("schedule %s: %w", entry.ID, err)
		}
		if err := w.checkNight(ctx, entry.ID, desc, now); err != nil {
			return fmt.Errorf("schedule %s: %w", entry.ID, err)
		}
	}
	return nil
}

func (w *Watchdog) checkNight(ctx context.Context, id string, desc *client.ScheduleDescription, now time.Time) error {
	info := desc.Info
	started := map[string]time.Time{} // workflow id → nominal time
	from := latest(info.CreatedAt, now.Add(-lookback))
	if len(info.RecentActions) >= 10 {
		// Temporal keeps the last ten actions: before the oldest, a night
		// without one is not known to be missed.
		from = latest(from, info.RecentActions[0].ScheduleTime.Add(time.Second))
	}
	for _, a := range info.RecentActions {
		if a.StartWorkflowResult != nil {
			started[a.StartWorkflowResult.WorkflowID] = a.ScheduleTime
		}
	}
	tolerance := max(desc.Schedule.Spec.Jitter, time.Second)
	until := now.Add(-w.StartGrace)
	if until.After(from) {
		resp, err := w.Client.WorkflowService().ListScheduleMatchingTimes(ctx, &workflowservice.ListScheduleMatchingTimesRequest{
			Namespace: w.namespace(), ScheduleId: id, StartTime: timestamppb.New(from), EndTime: timestamppb.New(until)})
		if err != nil {
			return err
		}
		for _, ts := range resp.GetStartTime() {
			if nominal := ts.AsTime(); !tookAction(info.RecentActions, nominal, tolerance) {
				w.notifyNight(ctx, activities.NoticeMissedNight, id, nominal, fmt.Sprintf("schedule %s did not start its night of %s (due %s ago)",
					id, nominal.UTC().Format(time.DateTime), now.Sub(nominal).Round(time.Second)))
			}
		}
	}
	for _, run := range info.RunningWorkflows {
		if nominal, ok := started[run.WorkflowID]; ok && now.Sub(nominal) >= w.NightDeadline {
			w.notifyNight(ctx, activities.NoticeLateNight, id, nominal, fmt.Sprintf("schedule %s's night of %s is still running %s after it was due (workflow %s)",
				id, nominal.UTC().Format(time.DateTime), now.Sub(nominal).Round(time.Second), run.WorkflowID))
		}
	}
	return nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func tookAction(actions []client.ScheduleActionResult, nominal time.Time, tolerance time.Duration) bool {
	for _, a := range actions {
		if d := a.ScheduleTime.Sub(nominal); d >= -tolerance && d <= tolerance {
			return true
		}
	}
	return false
}

// notifyNight names the night as its sweep would be named
// (workflows.nameScheduledSweep), so each night is one message.
func (w *Watchdog) notifyNight(ctx context.Context, kind, schedule string, nominal time.Time, title string) {
	n := activities.Notice{Kind: kind, SweepID: schedule + "-" + nominal.UTC().Format("20060102-1504"), Date: nominal.UTC().Format(time.DateOnly), Title: title}
	if _, err := w.Notifier.Notify(ctx, n); err != nil {
		w.logger().Warn("night not notified", "schedule", schedule, "kind", kind, "error", err)
	}
}

func (w *Watchdog) namespace() string {
	if w.Namespace == "" {
		return "default"
	}
	return w.Namespace
}
