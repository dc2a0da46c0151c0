package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

// ownDeployments matches the deployment processes (workers and routers)
// this test binary launched.
var ownDeployments = regexp.QuoteMeta(os.Args[0]) + " engine (sim --role|router)"

// TestAGangLosingANodeMovesItsDeployment kills, with SIGKILL, the worker
// of one node of a running disaggregated deployment (its engine dies with
// it): the sweep completes on a new gang without that node, every point
// of the deployment measured once, and no process of either gang is left.
func TestAGangLosingANodeMovesItsDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a worker during a sweep")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack := devstacktest.Start(ctx, t)
	const pool = "sim-h100-multinode"
	nodes := []string{"m0", "m1", "m2", "m3"}
	runners := filepath.Join(t.TempDir(), "runners.yaml")
	require.NoError(t, os.WriteFile(runners, []byte("labels:\n  "+pool+": ["+strings.Join(nodes, ", ")+"]\n"+
		"hardware:\n  "+pool+": { gpus-per-node: 8, available-cpu-dram-mib: 2_000_000 }\n"), 0o644))
	c, err := stack.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	control, err := startControlOnly(ctx, stack)
	require.NoError(t, err)
	defer control.Stop()
	workers := map[string]*exec.Cmd{}
	for _, n := range nodes {
		workers[n] = startWorkerProcess(t, stack, pool, n, "--backend", "local")
	}
	t.Cleanup(func() { _ = exec.Command("pkill", "-9", "-f", ownDeployments).Run() })

	spec, err := filepath.Abs("../../examples/disagg.yaml")
	require.NoError(t, err)
	// The example settings' simulated engines answer evals as a good
	// model would.
	settings, err := filepath.Abs("../../examples/settings.yaml")
	require.NoError(t, err)
	const sweepID = "gangcrash"
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(sweepID), TaskQueue: workflows.ControlQueue},
		workflows.SweepWorkflow, workflows.SweepInput{SweepID: sweepID, Date: "2026-11-27", Masters: []string{spec}, Runners: runners, Settings: settings, TimeScale: 10,
			Filters: sweep.Filters{ConfigKeys: []string{"llama70b-fp8-h100-sim-disagg"}}})
	require.NoError(t, err)

	// Once the deployment measured its first point, kill a node of its gang
	// that is not the frontend's.
	var gang []string
	require.Eventually(t, func() bool {
		resp, err := c.QueryWorkflow(ctx, workflows.PoolWorkflowID(run.GetID(), pool), "", workflows.ProgressQuery)
		var p workflows.HardwareProgress
		if err != nil || resp.Get(&p) != nil || p.Done < 1 {
			return false
		}
		for _, held := range p.Running {
			gang = strings.Split(held, "+")
		}
		return len(gang) == 3
	}, 2*time.Minute, 100*time.Millisecond, "the deployment never ran its second point")
	victim := gang[1]
	require.NoError(t, workers[victim].Process.Signal(syscall.SIGKILL))
	_ = workers[victim].Wait()

	var result workflows.SweepResult
	require.NoError(t, run.Get(ctx, &result))
	require.Equal(t, map[string]int{"succeeded": 4}, result.Counts, "%v", result.Failures)
	m, err := control.Lake.Manifest(ctx, sweepID)
	require.NoError(t, err)
	rows, err := control.Lake.Points(ctx, m)
	require.NoError(t, err)
	require.Len(t, rows, 4, "one row per point")
	moved := 0
	for _, row := range rows {
		require.Equal(t, 3, strings.Count(row.Node, "+")+1, "a row names its gang: %q", row.Node)
		if !strings.Contains(row.Node, victim) {
			moved++
			require.Equal(t, int32(2), row.Attempts, "measured on the second gang")
		}
	}
	require.GreaterOrEqual(t, moved, 1, "the points after the kill ran without %s", victim)
	faults, err := control.Lake.NodeFaults(ctx, "2026-11-27", sweepID, pool)
	require.NoError(t, err)
	require.NotEmpty(t, faults[victim], "the dead node is charged: %v", faults)
	for node := range faults {
		require.Equal(t, victim, node, "only the dead node is charged")
	}
	require.Eventually(t, func() bool {
		out, _ := exec.Command("pgrep", "-f", ownDeployments).Output()
		return strings.TrimSpace(string(out)) == ""
	}, 30*time.Second, 200*time.Millisecond, "processes of a gang left behind")
}
