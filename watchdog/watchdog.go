// Package watchdog notices sweeps that stopped moving and nights that did
// not happen. It runs beside the control worker, outside any sweep's
// workflow, so a sweep whose workflow or pools are stuck (a payload over
// Temporal's limit, every node gone) is still noticed: it asks Temporal
// which sweeps run and how far each got, and which nights each schedule
// was due to start; each finding is reported once.
package watchdog

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/sweepctl"
	"github.com/infersweep/infersweep/workflows"
)

// Notifier sends a notice at most once per sweep and kind
// (activities.Activities.Notify).
type Notifier interface {
	Notify(ctx context.Context, n activities.Notice) (string, error)
}

// Watchdog remembers, per running sweep, how many points had finished and
// since when.
type Watchdog struct {
	Client    client.Client
	Namespace string // default: "default"
	Notifier  Notifier
	// StallAfter: a running sweep that finishes no point for this long
	// stalled. NightDeadline: a scheduled night still running this long
	// after it was due is late. StartGrace: a night not started this long
	// after it was due was missed.
	StallAfter, NightDeadline, StartGrace time.Duration
	Logger                                *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	last map[string]mark
}

type mark struct {
	finished int
	since    time.Time
}

// runningSweeps is every sweep workflow still running.
const runningSweeps = "WorkflowType = 'SweepWorkflow' AND ExecutionStatus = 'Running'"

// Run checks every period until ctx ends.
func (w *Watchdog) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.logger().Warn("watchdog check failed; next in a while", "error", err, "every", every)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Check looks at every running sweep and every schedule once, and says
// how many sweeps it watches.
func (w *Watchdog) Check(ctx context.Context) (int, error) {
	now := w.now()
	if err := w.checkNights(ctx, now); err != nil {
		return 0, err
	}
	return w.checkSweeps(ctx, now)
}

// checkSweeps: a sweep that does not answer its progress query (its
// workers gone) counts as not moving.
func (w *Watchdog) checkSweeps(ctx context.Context, now time.Time) (int, error) {
	execs, err := sweepctl.List(ctx, w.Client, runningSweeps)
	if err != nil {
		return 0, err
	}
	if w.last == nil {
		w.last = map[string]mark{}
	}
	running := map[string]bool{}
	for _, e := range execs {
		id := e.GetExecution().GetWorkflowId()
		running[id] = true
		finished, summary := -1, "its workflow does not answer"
		if p, err := sweepctl.QueryProgress(ctx, w.Client, id); err == nil {
			finished, summary = p.PointsFinished(), p.Summary()
		}
		m, seen := w.last[id]
		if !seen || finished > m.finished {
			w.last[id] = mark{finished, now}
			continue
		}
		if stalled := now.Sub(m.since); stalled >= w.StallAfter {
			// A sweep stuck before its plan named it has no search
			// attributes yet: its workflow id and start say who it is.
			fields := e.GetSearchAttributes().GetIndexedFields()
			sweepID := cmp.Or(searchAttribute(fields, workflows.SweepIDKey.GetName()), strings.TrimPrefix(id, "sweep-"))
			date := cmp.Or(searchAttribute(fields, workflows.SweepDateKey.GetName()), e.GetStartTime().AsTime().UTC().Format(time.DateOnly))
			n := activities.Notice{Kind: activities.NoticeStalled, SweepID: sweepID, Date: date,
				Title: fmt.Sprintf("sweep %s (workflow %s) has finished no point for %s", sweepID, id, stalled.Round(time.Minute)),
				Lines: []string{strings.TrimSpace(summary)}}
			if _, err := w.Notifier.Notify(ctx, n); err != nil {
				w.logger().Warn("stalled sweep not notified", "workflow", id, "error", err)
			}
		}
	}
	for id := range w.last {
		if !running[id] {
			delete(w.last, id)
		}
	}
	return len(w.last), nil
}

// searchAttribute is a keyword search attribute's value; "" if unset.
func searchAttribute(fields map[string]*commonpb.Payload, name string) string {
	var v string
	if p, ok := fields[name]; ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &v)
	}
	return v
}

func (w *Watchdog) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

func (w *Watchdog) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}
