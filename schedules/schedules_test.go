package schedules

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/workflows"
)

// planned records each sweep a schedule started, as its planner saw it;
// a blocked planner holds its sweep running.
type planned struct {
	mu    sync.Mutex
	calls []activities.PlanInput
	block chan struct{}
}

func (p *planned) plan(ctx context.Context, in activities.PlanInput) (activities.PlanOutput, error) {
	p.mu.Lock()
	p.calls = append(p.calls, in)
	block := p.block
	p.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return activities.PlanOutput{}, ctx.Err()
		}
	}
	// No pools: the sweep commits at once.
	return activities.PlanOutput{PlanKey: results.PlanKey(in.Date, in.SweepID)}, nil
}

func (p *planned) snapshot() []activities.PlanInput {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]activities.PlanInput(nil), p.calls...)
}

const exampleFile = `schedules:
  - id: nightly
    note: the example sweep
    at:
      - time: "02:00"
    time-zone: Europe/Berlin
    jitter: 5m
    spec: [../examples/sweep.yaml]
    runners: ../examples/runners.yaml
    settings: ../examples/settings.yaml
    paused: true
`

// TestSchedulesOnTheEmbeddedServer applies, updates, triggers, backfills
// and overlaps a schedule against the real Temporal server of `infersweep
// dev`, with a control worker whose activities only record what they get.
func TestSchedulesOnTheEmbeddedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Options{Ephemeral: true, IP: "127.0.0.1", Namespace: "default", Bucket: "infersweep", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer func() { _ = stack.Stop(context.WithoutCancel(ctx)) }()
	c, err := stack.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	lake, err := stack.Lake(ctx)
	require.NoError(t, err)

	rec := &planned{}
	w := worker.New(c, workflows.ControlQueue, worker.Options{})
	w.RegisterWorkflow(workflows.SweepWorkflow)
	w.RegisterActivityWithOptions(rec.plan, activity.RegisterOptions{Name: "PlanSweep"})
	w.RegisterActivityWithOptions(func(_ context.Context, in activities.ManifestInput) (string, error) {
		return results.ManifestKey(in.Date, in.SweepID), nil
	}, activity.RegisterOptions{Name: "WriteManifest"})
	w.RegisterActivityWithOptions(func(context.Context, activities.AnalyzeInput) (string, error) { return "", nil }, activity.RegisterOptions{Name: "AnalyzeSweep"})
	w.RegisterActivityWithOptions(func(context.Context, activities.AlertInput) (string, error) {
		return activities.AlertNotConfigured, nil
	}, activity.RegisterOptions{Name: "SendAlert"})
	require.NoError(t, w.Start())
	defer w.Stop()

	dir := t.TempDir()
	file := filepath.Join(dir, "schedules.yaml")
	write := func(body string) []Schedule {
		body = strings.ReplaceAll(body, "../examples", mustAbs(t, "../examples"))
		require.NoError(t, os.WriteFile(file, []byte(body), 0o644))
		scheds, err := Parse(file, []byte(body))
		require.NoError(t, err)
		return scheds
	}

	// Apply twice: the second changes nothing and says so.
	scheds := write(exampleFile)
	changes, err := Apply(ctx, c, lake, scheds, false)
	require.NoError(t, err)
	require.Equal(t, []Change{{ID: "nightly", Action: "created"}}, changes)
	changes, err = Apply(ctx, c, lake, scheds, false)
	require.NoError(t, err)
	require.Equal(t, []Change{{ID: "nightly", Action: "unchanged"}}, changes)
	spec, err := lake.Store().Get(ctx, results.SpecKey(fileDigest(t, "../examples/sweep.yaml")))
	require.NoError(t, err, "the spec is in the lake by content")
	require.Equal(t, mustRead(t, "../examples/sweep.yaml"), spec)

	// An edit updates only what differs; --dry-run first writes nothing.
	scheds = write(strings.Replace(exampleFile, "jitter: 5m", "jitter: 10m", 1))
	changes, err = Apply(ctx, c, lake, scheds, true)
	require.NoError(t, err)
	require.Equal(t, []Change{{ID: "nightly", Action: "would be updated", Diff: []string{`jitter: "5m0s" → "10m0s"`}}}, changes)
	changes, err = Apply(ctx, c, lake, scheds, false)
	require.NoError(t, err)
	require.Equal(t, []Change{{ID: "nightly", Action: "updated", Diff: []string{`jitter: "5m0s" → "10m0s"`}}}, changes)
	desc, err := c.ScheduleClient().GetHandle(ctx, "nightly").Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, 10*time.Minute, desc.Schedule.Spec.Jitter)
	require.True(t, desc.Schedule.State.Paused, "apply leaves the paused state alone")

	h := c.ScheduleClient().GetHandle(ctx, "nightly")
	waitCalls := func(n int) []activities.PlanInput {
		require.Eventually(t, func() bool { return len(rec.snapshot()) >= n }, time.Minute, 50*time.Millisecond)
		return rec.snapshot()
	}

	// A 3-night backfill makes three sweeps, each under its own date.
	require.NoError(t, Backfill(ctx, h, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC)))
	calls := waitCalls(3)
	var dates, ids []string
	for _, in := range calls {
		dates, ids = append(dates, in.Date), append(ids, in.SweepID)
		require.Equal(t, results.LakeRefPrefix+results.SpecKey(fileDigest(t, "../examples/sweep.yaml")), in.Masters[0], "the sweep reads the uploaded spec")
	}
	require.ElementsMatch(t, []string{"2026-11-20", "2026-11-21", "2026-11-22"}, dates)
	// 02:00 in Berlin is 01:00 UTC in November, plus up to 10 minutes of jitter.
	require.Len(t, ids, 3)
	for _, day := range []string{"20", "21", "22"} {
		require.True(t, slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, "nightly-202611"+day+"-010") }), "%v has no sweep for the %sth", ids, day)
	}

	idle := func() {
		require.Eventually(t, func() bool {
			d, err := h.Describe(ctx)
			return err == nil && len(d.Info.RunningWorkflows) == 0
		}, time.Minute, 100*time.Millisecond)
	}
	idle()

	// Trigger starts a sweep now; while it runs, SKIP drops a second one.
	rec.mu.Lock()
	rec.block = make(chan struct{})
	rec.mu.Unlock()
	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	running := waitCalls(4)[3]
	require.Equal(t, time.Now().Format(time.DateOnly), running.Date)
	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	time.Sleep(2 * time.Second)
	require.Len(t, rec.snapshot(), 4, "overlap SKIP: no second sweep while one runs")
	close(rec.block)
	idle()
	require.Len(t, rec.snapshot(), 4)
	require.NoError(t, h.Delete(ctx))
}

func mustAbs(t *testing.T, path string) string {
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	return abs
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func fileDigest(t *testing.T, path string) string {
	def, _, err := define(Schedule{ID: "x", Runners: path})
	require.NoError(t, err)
	return def.Runners.Digest
}
