package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/launch/launchtest"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/sweepctl"
	"github.com/infersweep/infersweep/workflows"
)

// startWorkerProcess runs `<this binary> worker --pool … --node …` against
// the stack with the backend's flags, as a pool node on a GPU host would
// run.
func startWorkerProcess(t *testing.T, stack *devstack.Stack, pool, node string, backendArgs ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"worker", "--pool", pool, "--node", node}, backendArgs...)...)
	cmd.Env = append(os.Environ(), stack.Env()...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// crashBackend is one way node workers start engines, as the crash and
// cancel tests drive it.
type crashBackend struct {
	name string
	// args are the worker's backend flags; nil skips the test.
	args func(t *testing.T) []string
	// leftovers lists what still runs of the sweep's engines, by the ids
	// remove takes, so a failed test leaves nothing behind either.
	leftovers func(t *testing.T, sweepID string) []string
	remove    []string
	// checkRow asserts what the backend records of where a point ran.
	checkRow func(t *testing.T, row results.PointRow)
}

var crashBackends = []crashBackend{
	{
		name: "local",
		args: func(*testing.T) []string { return []string{"--backend", "local"} },
		leftovers: func(t *testing.T, _ string) []string {
			out, _ := exec.Command("pgrep", "-f", ownEngines).Output()
			return strings.Fields(string(out))
		},
		remove:   []string{"kill", "-9"},
		checkRow: func(t *testing.T, row results.PointRow) { require.Empty(t, row.EngineJob, "a local engine has no job") },
	},
	{
		name: "docker",
		args: func(t *testing.T) []string {
			image, _ := launchtest.Image(t)
			return []string{"--backend", "docker", "--sim-image", image}
		},
		leftovers: func(t *testing.T, sweepID string) []string {
			out, err := exec.Command("docker", "ps", "-a", "-q", "--filter", "label="+launch.LabelSweep+"="+sweepID).CombinedOutput()
			require.NoError(t, err, "%s", out)
			return strings.Fields(string(out))
		},
		remove: []string{"docker", "rm", "-f"},
		checkRow: func(t *testing.T, row results.PointRow) {
			require.True(t, strings.HasPrefix(row.ImageDigest, "sha256:"), "the image the container ran: %q", row.ImageDigest)
			require.NotEmpty(t, row.EngineJob, "the container id")
		},
	},
	{
		name: "slurm",
		args: func(t *testing.T) []string {
			launchtest.RequireSlurm(t)
			return []string{"--backend", "slurm", "--slurm-engine-binary", launchtest.Binary(t), "--slurm-log-dir", t.TempDir()}
		},
		leftovers: func(t *testing.T, sweepID string) []string {
			out, err := exec.Command("squeue", "-h", "-o", "%i %j").CombinedOutput()
			require.NoError(t, err, "%s", out)
			var jobs []string
			for line := range strings.Lines(string(out)) {
				if id, name, _ := strings.Cut(strings.TrimSpace(line), " "); strings.Contains(name, "-"+sweepID+"-") {
					jobs = append(jobs, id)
				}
			}
			return jobs
		},
		remove: []string{"scancel"},
		checkRow: func(t *testing.T, row results.PointRow) {
			require.Regexp(t, `^\d+$`, row.EngineJob, "the Slurm job id")
			require.Regexp(t, `^n\d+$`, row.EngineHost, "the Slurm node")
			require.NotEmpty(t, row.EnginePartition)
		},
	},
}

// TestKilledPoolWorkerLosesNothing kills a node's worker with SIGKILL in
// the middle of a sweep and restarts it, with each backend: the sweep
// completes, every point is in the lake exactly once, and no engine is
// left behind: a local engine dies with its worker; a container or Slurm
// job outlives it and the restarted worker removes it.
func TestKilledPoolWorkerLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts workers during a sweep")
	}
	for _, b := range crashBackends {
		t.Run(b.name, func(t *testing.T) { killPoolWorker(t, b) })
	}
}

// start gives the backend's worker flags, and removes at the end of the
// test what the sweep's engines left.
func (b crashBackend) start(t *testing.T, sweepID string) []string {
	t.Helper()
	args := b.args(t)
	t.Cleanup(func() {
		if left := b.leftovers(t, sweepID); len(left) > 0 {
			_ = exec.Command(b.remove[0], append(b.remove[1:], left...)...).Run()
		}
	})
	return args
}

func killPoolWorker(t *testing.T, b crashBackend) {
	sweepID := "crash" + b.name
	backendArgs := b.start(t, sweepID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack := devstacktest.Start(ctx, t)
	n0, n1 := b.name[:1]+"0", b.name[:1]+"1"
	runners := filepath.Join(t.TempDir(), "runners.yaml")
	// The spec names three pools; the filter keeps sim-h100, whose two
	// nodes are the processes below.
	require.NoError(t, os.WriteFile(runners, []byte("labels:\n  sim-h100: ["+n0+", "+n1+"]\n  sim-h200: [x]\n  sim-mi355x: [y]\n"+
		"hardware:\n  sim-h100: { gpus-per-node: 8, available-cpu-dram-mib: 2_000_000 }\n"), 0o644))
	// The control worker runs here; the two nodes are processes.
	c, err := stack.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	lakeFleet, err := startControlOnly(ctx, stack)
	require.NoError(t, err)
	defer lakeFleet.Stop()
	worker0 := startWorkerProcess(t, stack, "sim-h100", n0, backendArgs...)
	startWorkerProcess(t, stack, "sim-h100", n1, backendArgs...)

	run := startExampleSweep(ctx, t, c, sweepID, runners)
	waitForPoint(ctx, t, c, run.GetID(), n0)
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
	require.Equal(t, "sweep-"+sweepID+"/hw-sim-h100", pools[0].Workflow)
	require.Equal(t, []string{n0, n1}, pools[0].Progress.Nodes)
	code, stdout, stderr = runCLI(t, "pool", "release", "sim-h100", n1, "--reason", "checked by hand")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "released "+n1+" in sweep-"+sweepID+"/hw-sim-h100\n", stdout)
	require.NoError(t, worker0.Process.Signal(syscall.SIGKILL))
	_ = worker0.Wait()
	startWorkerProcess(t, stack, "sim-h100", n0, backendArgs...)

	var result workflows.SweepResult
	require.NoError(t, run.Get(ctx, &result))
	require.Equal(t, 9, result.Counts["succeeded"], "every point measured: %v %v", result.Counts, result.Failures)
	// The restarted worker failed what its predecessor held at once: the
	// point did not wait for a heartbeat timeout to be retried.
	killed := failedActivities(ctx, t, c, run.GetID())
	require.Len(t, killed, 1)
	require.Regexp(t, `the worker of hw-sim-h100\.`+n0+` that ran this \(.*\) is gone: it restarted as|node `+n0+` lost lease`, killed[0])

	m, err := lakeFleet.Lake.Manifest(ctx, sweepID)
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
	for _, row := range rows {
		b.checkRow(t, row)
	}
	// A cancelled job or container may take a moment to leave the lists.
	require.Eventually(t, func() bool { return len(b.leftovers(t, sweepID)) == 0 }, 20*time.Second, 200*time.Millisecond,
		"engines left behind: %v", b.leftovers(t, sweepID))

	// The sweep commands see it through the environment dev prints.
	code, stdout, stderr = runCLI(t, "sweep", "status", sweepID, "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var st sweepctl.Status
	require.NoError(t, json.Unmarshal([]byte(stdout), &st))
	require.Equal(t, "Completed", st.Status)
	require.Equal(t, 9, st.Planned)
	code, stdout, stderr = runCLI(t, "sweep", "ls", "--date", "2026-11-27")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "sweep-"+sweepID)
	require.Contains(t, stdout, "Completed")
}

// TestCancelledSweepLeavesNoEngine cancels a sweep while its points run,
// with each backend: every container and job of it is gone afterwards.
func TestCancelledSweepLeavesNoEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sweeps")
	}
	for _, b := range crashBackends {
		t.Run(b.name, func(t *testing.T) {
			sweepID := "cancel" + b.name
			backendArgs := b.start(t, sweepID)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			stack := devstacktest.Start(ctx, t)
			runners := filepath.Join(t.TempDir(), "runners.yaml")
			require.NoError(t, os.WriteFile(runners, []byte("labels:\n  sim-h100: [c0, c1]\n  sim-h200: [x]\n  sim-mi355x: [y]\n"), 0o644))
			c, err := stack.Dial(ctx)
			require.NoError(t, err)
			defer c.Close()
			control, err := startControlOnly(ctx, stack)
			require.NoError(t, err)
			defer control.Stop()
			startWorkerProcess(t, stack, "sim-h100", "c0", backendArgs...)
			startWorkerProcess(t, stack, "sim-h100", "c1", backendArgs...)
			run := startExampleSweep(ctx, t, c, sweepID, runners)
			waitForPoint(ctx, t, c, run.GetID(), "c0")
			require.NoError(t, c.CancelWorkflow(ctx, run.GetID(), ""))
			// Cancelled, told, and closed: not a test deadline running out.
			var canceled *temporal.CanceledError
			require.ErrorAs(t, run.Get(ctx, nil), &canceled, "the sweep ends cancelled")
			// Teardowns run as the pool winds down, after the sweep reports.
			require.Eventually(t, func() bool { return len(b.leftovers(t, sweepID)) == 0 }, time.Minute, 200*time.Millisecond,
				"engines of the cancelled sweep left: %v", b.leftovers(t, sweepID))
		})
	}
}

// startExampleSweep runs the example sweep's sim-h100 points.
func startExampleSweep(ctx context.Context, t *testing.T, c client.Client, sweepID, runners string) client.WorkflowRun {
	t.Helper()
	spec, err := filepath.Abs("../../examples/sweep.yaml")
	require.NoError(t, err)
	settings, err := filepath.Abs("../../examples/settings.yaml")
	require.NoError(t, err)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(sweepID), TaskQueue: workflows.ControlQueue},
		workflows.SweepWorkflow, workflows.SweepInput{SweepID: sweepID, Date: "2026-11-27", Masters: []string{spec}, Runners: runners, Settings: settings, TimeScale: 10,
			Filters: sweep.Filters{Runners: []string{"sim-h100"}}})
	require.NoError(t, err)
	return run
}

// waitForPoint waits until node runs a point after the pool finished one.
func waitForPoint(ctx context.Context, t *testing.T, c client.Client, sweepWorkflowID, node string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := c.QueryWorkflow(ctx, workflows.PoolWorkflowID(sweepWorkflowID, "sim-h100"), "", workflows.ProgressQuery)
		if err != nil {
			return false
		}
		var p workflows.HardwareProgress
		if resp.Get(&p) != nil {
			return false
		}
		return p.Done >= 1 && slices.Contains(slices.Collect(maps.Values(p.Running)), node)
	}, 2*time.Minute, 100*time.Millisecond, "%s never ran a point", node)
}

// failedActivities are the failure messages of the pool's failed
// activities; it asserts none timed out.
func failedActivities(ctx context.Context, t *testing.T, c client.Client, sweepWorkflowID string) []string {
	t.Helper()
	var failed []string
	it := c.GetWorkflowHistory(ctx, workflows.PoolWorkflowID(sweepWorkflowID, "sim-h100"), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		require.Nil(t, e.GetActivityTaskTimedOutEventAttributes(), "an activity timed out: %v", e)
		if a := e.GetActivityTaskFailedEventAttributes(); a != nil {
			failed = append(failed, a.GetFailure().GetMessage())
		}
	}
	return failed
}

// startControlOnly runs just the control worker of a dev stack.
func startControlOnly(ctx context.Context, stack *devstack.Stack) (*devstack.Workers, error) {
	return stack.StartWorkers(ctx, sweep.Runners{}, workerSetup(nil, slog.New(slog.DiscardHandler)))
}
