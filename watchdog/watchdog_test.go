package watchdog_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/watchdog"
	"github.com/infersweep/infersweep/workers"
	"github.com/infersweep/infersweep/workflows"
)

// TestAStalledSweepIsNotifiedOnce runs a real sweep whose pool has no
// node worker, so nothing ever finishes, and the watchdog beside it: the
// first look remembers the sweep, a look StallAfter later sends one
// stalled notice, and later looks send nothing more.
func TestAStalledSweepIsNotifiedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sweep on the embedded stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := startStack(ctx, t)
	c, lake := st.client, st.lake
	hook, posts := receiver(t)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID("stuck"), TaskQueue: workflows.ControlQueue},
		workflows.SweepWorkflow, workflows.SweepInput{SweepID: "stuck", Date: "2026-12-07", Masters: []string{st.spec}, Runners: st.runners,
			Filters: sweep.Filters{Runners: []string{"sim-h100"}}})
	require.NoError(t, err)
	defer func() { _ = c.TerminateWorkflow(context.Background(), run.GetID(), "", "test over") }()

	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	w := &watchdog.Watchdog{Client: c, StallAfter: 30 * time.Minute, Now: func() time.Time { return now },
		Notifier: &activities.Activities{Lake: lake, Alerts: activities.AlertConfig{WebhookURL: hook, Format: "json"}}}
	// Visibility lists the sweep once its plan has named it.
	require.Eventually(t, func() bool {
		watching, err := w.Check(ctx)
		require.NoError(t, err)
		return watching == 1
	}, time.Minute, 200*time.Millisecond)
	// Planned: the pool is waiting for a node that never answers.
	require.Eventually(t, func() bool {
		resp, err := c.QueryWorkflow(ctx, run.GetID(), "", workflows.ProgressQuery)
		var p workflows.SweepProgress
		return err == nil && resp.Get(&p) == nil && p.Planned > 0
	}, time.Minute, 200*time.Millisecond)
	now = now.Add(29 * time.Minute)
	check(t, ctx, w)
	require.Empty(t, posts(), "not yet stalled long enough")
	now = now.Add(time.Minute)
	check(t, ctx, w)
	now = now.Add(time.Hour)
	check(t, ctx, w)

	require.Len(t, posts(), 1, "one message per sweep")
	n := posts()[0]
	require.Equal(t, activities.NoticeStalled, n.Kind)
	require.Equal(t, "stuck", n.SweepID)
	require.Equal(t, "2026-12-07", n.Date)
	require.Equal(t, "sweep stuck (workflow sweep-stuck) has finished no point for 30m0s", n.Title)
	require.Len(t, n.Lines, 1)
	require.Regexp(t, `^0/\d+ points`, n.Lines[0])
}

// TestMissedAndLateNights: a schedule whose first night never finishes
// (its pool has no node worker) skips the nights after it, as the
// skip-overlap policy says. The watchdog reports the first night late
// and each skipped one missed, once each.
func TestMissedAndLateNights(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a schedule on the embedded stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := startStack(ctx, t)
	c, lake := st.client, st.lake
	hook, posts := receiver(t)
	h, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: "wd", Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 3 * time.Second}}},
		Action: &client.ScheduleWorkflowAction{ID: "wd-sweep", Workflow: workflows.SweepWorkflow, TaskQueue: workflows.ControlQueue,
			Args: []any{workflows.SweepInput{ScheduleID: "wd", Masters: []string{st.spec}, Runners: st.runners, Filters: sweep.Filters{Runners: []string{"sim-h100"}}}}}})
	require.NoError(t, err)
	defer func() { _ = h.Delete(context.Background()) }()
	var first string
	require.Eventually(t, func() bool {
		desc, err := h.Describe(ctx)
		if err != nil || len(desc.Info.RunningWorkflows) == 0 || desc.Info.NumActionsSkippedOverlap < 2 {
			return false
		}
		first = desc.Info.RunningWorkflows[0].WorkflowID
		return true
	}, time.Minute, 200*time.Millisecond, "the first night runs and later ones are skipped")
	defer func() { _ = c.TerminateWorkflow(context.Background(), first, "", "test over") }()

	w := &watchdog.Watchdog{Client: c, StallAfter: time.Hour, StartGrace: time.Second, NightDeadline: 2 * time.Second,
		Notifier: &activities.Activities{Lake: lake, Alerts: activities.AlertConfig{WebhookURL: hook, Format: "json"}}}
	check(t, ctx, w)
	got := posts()
	check(t, ctx, w)
	kinds := map[string][]string{}
	for _, n := range got {
		kinds[n.Kind] = append(kinds[n.Kind], n.SweepID)
		require.True(t, strings.HasPrefix(n.SweepID, "wd-"), n.SweepID)
	}
	require.Len(t, kinds[activities.NoticeLateNight], 1, "the night still running")
	// Nights are named to the minute, as their sweeps are: the skipped
	// nights of one minute are one message.
	require.NotEmpty(t, kinds[activities.NoticeMissedNight], "the skipped nights")
	for _, n := range got {
		want := map[string]string{activities.NoticeLateNight: "is still running", activities.NoticeMissedNight: "did not start its night of"}[n.Kind]
		require.Contains(t, n.Title, want)
	}
	require.Len(t, posts(), len(got)+countNewNights(posts(), got), "a second look repeats nothing")
}

// stack is the embedded stack with a control worker and no node worker:
// the example sweep's sim-h100 points wait for a node forever.
type stack struct {
	client        client.Client
	lake          *results.Lake
	spec, runners string
}

func startStack(ctx context.Context, t *testing.T) stack {
	t.Helper()
	dev := devstacktest.Start(ctx, t)
	st := stack{client: devstacktest.Dial(ctx, t, dev)}
	var err error
	st.lake, err = dev.Lake(ctx)
	require.NoError(t, err)
	control, err := workers.StartControl(st.client, workers.Setup{Lake: st.lake, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(control.Stop)
	st.runners = filepath.Join(t.TempDir(), "runners.yaml")
	require.NoError(t, os.WriteFile(st.runners, []byte("labels:\n  sim-h100: [n0]\n  sim-h200: [x]\n  sim-mi355x: [y]\n"), 0o644))
	st.spec, err = filepath.Abs("../examples/sweep.yaml")
	require.NoError(t, err)
	return st
}

// countNewNights is how many notices of after is about nights before
// has none for: nights skipped between the two looks.
func countNewNights(after, before []activities.Notice) int {
	seen := map[string]bool{}
	for _, n := range before {
		seen[n.Kind+n.SweepID] = true
	}
	fresh := 0
	for _, n := range after {
		if !seen[n.Kind+n.SweepID] {
			fresh++
		}
	}
	return fresh
}

// receiver is a webhook that keeps the notices it is sent.
func receiver(t *testing.T) (url string, posts func() []activities.Notice) {
	var mu sync.Mutex
	var got []activities.Notice
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var n activities.Notice
		body, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(body, &n))
		mu.Lock()
		defer mu.Unlock()
		got = append(got, n)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []activities.Notice {
		mu.Lock()
		defer mu.Unlock()
		return append([]activities.Notice(nil), got...)
	}
}

func check(t *testing.T, ctx context.Context, w *watchdog.Watchdog) {
	t.Helper()
	_, err := w.Check(ctx)
	require.NoError(t, err)
}
