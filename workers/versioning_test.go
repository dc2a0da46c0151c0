package workers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/workers"
	"github.com/infersweep/infersweep/workflows"
)

// TestVersionedControlWorkerPinsSweeps runs a versioned control worker on
// the embedded server, makes its build current, and checks a sweep started
// then is pinned to that build: a later deploy cannot move it.
func TestVersionedControlWorkerPinsSweeps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack := devstacktest.Start(ctx, t)
	c := devstacktest.Dial(ctx, t, stack)

	v := workers.Versioning{Deployment: "infersweep", BuildID: "v1.2.3"}
	w := workers.NewControl(c, &activities.Activities{}, v)
	require.NoError(t, w.Start())
	defer w.Stop()

	deployment := c.WorkerDeploymentClient().GetHandle(v.Deployment)
	require.Eventually(t, func() bool {
		_, err := deployment.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: v.BuildID})
		return err == nil
	}, time.Minute, 250*time.Millisecond, "the worker's version registers with the server")

	// A sweep whose spec does not exist fails at planning; what matters
	// is where its workflow task ran.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-pinned", TaskQueue: workflows.ControlQueue}, workflows.SweepWorkflow,
		workflows.SweepInput{SweepID: "pinned", Date: "2026-11-27", Masters: []string{"/nonexistent.yaml"}, Runners: "/nonexistent.yaml"})
	require.NoError(t, err)
	require.Error(t, run.Get(ctx, nil))
	desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	info := desc.GetWorkflowExecutionInfo().GetVersioningInfo()
	require.NotNil(t, info)
	require.Equal(t, enumspb.VERSIONING_BEHAVIOR_PINNED, info.GetBehavior())
	require.Equal(t, "v1.2.3", info.GetDeploymentVersion().GetBuildId())
}
