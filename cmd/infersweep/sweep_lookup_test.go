package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/workflows"
)

// TestScheduledSweepsAreFoundBySweepID: a schedule's run carries
// Temporal's workflow id; sweep status/cancel/pause find it by SweepId.
func TestScheduledSweepsAreFoundBySweepID(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stack := devstacktest.Start(ctx, t)
	c := devstacktest.Dial(ctx, t, stack)

	// A stand-in for SweepWorkflow that tags itself as a scheduled one does.
	w := worker.New(c, "lookup-test", worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, sweepID string) error {
		return workflow.UpsertTypedSearchAttributes(ctx, workflows.SweepIDKey.ValueSet(sweepID))
	}, workflow.RegisterOptions{Name: "SweepWorkflow"})
	require.NoError(t, w.Start())
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-nightly-2026-11-27T01:00:00Z", TaskQueue: "lookup-test"}, "SweepWorkflow", "nightly-20261127-0100")
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))

	require.Eventually(t, func() bool {
		id, err := sweepWorkflowOf(ctx, c, "nightly-20261127-0100")
		return err == nil && id == "sweep-nightly-2026-11-27T01:00:00Z"
	}, 30*time.Second, 200*time.Millisecond, "found through the visibility store")
	direct, err := sweepWorkflowOf(ctx, c, "nightly-2026-11-27T01:00:00Z")
	require.ErrorContains(t, err, `sweep id "nightly-2026-11-27T01:00:00Z"`, "colons are not sweep id characters")
	require.Empty(t, direct)
	_, err = sweepWorkflowOf(ctx, c, "no-such-sweep")
	require.ErrorContains(t, err, `no workflow sweep-no-such-sweep, and none with SweepId "no-such-sweep"`)
}
