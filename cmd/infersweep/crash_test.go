package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/sweepctl"
	"github.com/infersweep/infersweep/workflows"
)

// startWorkerProcess runs `<this binary> worker --pool … --node …` against
// the stack, as a pool node on a GPU host would run.
func startWorkerProcess(t *testing.T, stack *devstack.Stack, pool, node string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "worker", "--pool", pool, "--node", node)
	cmd.Env = append(os.Environ(), stack.Env()...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// TestKilledPoolWorkerLosesNothing kills a node's worker with SIGKILL in
// the middle of a sweep and restarts it: the sweep completes, every point
// is in the lake exactly once, and no engine process is left behind.
func TestKilledPoolWorkerLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts workers during a sweep")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack := devstacktest.Start(ctx, t)

	runners := filepath.Join(t.TempDir(), "runners.yaml")
	// The spec names three pools; the filter keeps sim-h100, whose two
	// nodes are the processes below.
	require.NoError(t, os.WriteFile(runners, []byte("labels:\n  sim-h100: [n0, n1]\n  sim-h200: [x]\n  sim-mi355x: [y]\n"+
		"hardware:\n  sim-h100: { gpus-per-node: 8, available-cpu-dram-mib: 2_000_000 }\n"), 0o644))
	// The control worker runs here; the two nodes are processes.
	c, err := stack.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	lakeFleet, err := startControlOnly(ctx, stack)
	require.NoError(t, err)
	defer lakeFleet.Stop()
	n0 := startWorkerProcess(t, stack, "sim-h100", "n0")
	startWorkerProcess(t, stack, "sim-h100", "n1")

	spec, err := filepath.Abs("../../examples/sweep.yaml")
	require.NoError(t, err)
	settings, err := filepath.Abs("../../examples/settings.yaml")
	require.NoError(t, err)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID("crash"), TaskQueue: workflows.ControlQueue},
		workflows.SweepWorkflow, workflows.SweepInput{SweepID: "crash", Date: "2026-11-27", Masters: []string{spec}, Runners: runners, Settings: settings, TimeScale: 10,
			Filters: sweep.Filters{Runners: []string{"sim-h100"}}})
	require.NoError(t, err)

	// Kill n0 while it runs a point.
	require.Eventually(t, func() bool {
		resp, err := c.QueryWorkflow(ctx, workflows.PoolWorkflowID(run.GetID(), "sim-h100"), "", workflows.ProgressQuery)
		if err != nil {
			return false
		}
		var p workflows.HardwareProgress
		if resp.Get(&p) != nil {
			return false
		}
		for _, node := range p.Running {
			if node == "n0" && p.Done >= 1 {
				return true
			}
		}
		return false
	}, 2*time.Minute, 100*time.Millisecond, "n0 never ran a point")
	// The pool commands find the running pool through its Hardware
	// search attribute.
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	code, stdout, stderr := runCLI(t, "pool", "status", "sim-h100", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var pools []sweepctl.PoolRun
	require.NoError(t, json.Unmarshal([]byte(stdout), &pools))
	require.Len(t, pools, 1)
	require.Equal(t, "sweep-crash/hw-sim-h100", pools[0].Workflow)
	require.Equal(t, []string{"n0", "n1"}, pools[0].Progress.Nodes)
	code, stdout, stderr = runCLI(t, "pool", "release", "sim-h100", "n1", "--reason", "checked by hand")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "released n1 in sweep-crash/hw-sim-h100\n", stdout)
	require.NoError(t, n0.Process.Signal(syscall.SIGKILL))
	_ = n0.Wait()
	startWorkerProcess(t, stack, "sim-h100", "n0")

	var result workflows.SweepResult
	require.NoError(t, run.Get(ctx, &result))
	require.Equal(t, 9, result.Counts["succeeded"], "every point measured: %v %v", result.Counts, result.Failures)
	// The restarted worker failed what its predecessor held at once: the
	// point did not wait for a heartbeat timeout to be retried.
	var killed []string
	it := c.GetWorkflowHistory(ctx, workflows.PoolWorkflowID(run.GetID(), "sim-h100"), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		require.Nil(t, e.GetActivityTaskTimedOutEventAttributes(), "an activity timed out: %v", e)
		if a := e.GetActivityTaskFailedEventAttributes(); a != nil {
			killed = append(killed, a.GetFailure().GetMessage())
		}
	}
	require.Len(t, killed, 1)
	require.Regexp(t, `the worker of hw-sim-h100\.n0 that ran this \(.*\) is gone: it restarted as|node n0 lost lease`, killed[0])

	m, err := lakeFleet.Lake.Manifest(ctx, "crash")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, p := range m.Points {
		require.False(t, seen[p.PointID], "point %s twice in the manifest", p.PointID)
		seen[p.PointID] = true
	}
	require.Len(t, seen, 9)
	rows, err := lakeFleet.Lake.Points(ctx, m)
	require.NoError(t, err)
	require.Len(t, rows, 9, "one row per point")

	out, _ := exec.Command("pgrep", "-f", ownEngines).Output()
	require.Empty(t, strings.TrimSpace(string(out)), "engine processes left behind")

	// The sweep commands see it through the environment dev prints.
	code, stdout, stderr = runCLI(t, "sweep", "status", "crash", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var st sweepctl.Status
	require.NoError(t, json.Unmarshal([]byte(stdout), &st))
	require.Equal(t, "Completed", st.Status)
	require.Equal(t, 9, st.Planned)
	code, stdout, stderr = runCLI(t, "sweep", "ls", "--date", "2026-11-27")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "sweep-crash")
	require.Contains(t, stdout, "Completed")
}

// startControlOnly runs just the control worker of a dev stack.
func startControlOnly(ctx context.Context, stack *devstack.Stack) (*devstack.Workers, error) {
	return stack.StartWorkers(ctx, sweep.Runners{}, workerSetup(nil, slog.New(slog.DiscardHandler)))
}
