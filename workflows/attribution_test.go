package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// TestWhatIsChargedToANode: a node is charged only with evidence tied to
// it; the lake or a worker failing is retried without a charge.
func TestWhatIsChargedToANode(t *testing.T) {
	tests := []struct {
		name string
		// fail is n0's failure; firstOnly: only a point's first attempt.
		fail        func(in activities.LoadInput) error
		firstOnly   bool
		counts      map[string]int
		quarantined map[string][]string
		faultsOfN0  string // what the lake keeps of n0's faults
	}{
		{"a sick node: quarantined after faults on different points", func(in activities.LoadInput) error {
			return temporal.NewNonRetryableApplicationError("CUDA error: uncorrectable ECC error encountered on "+in.Lease.Node, activities.ErrNodeFault, nil)
		}, false, map[string]int{"succeeded": 4}, map[string][]string{"sim-h100": {"n0"}}, "uncorrectable ECC error encountered on n0"},
		{"the lake (S3) down while writing results: retried, not charged", func(activities.LoadInput) error {
			return errors.New("operation error S3: PutObject, https response error StatusCode: 503, ServiceUnavailable")
		}, true, map[string]int{"succeeded": 4}, map[string][]string{}, ""},
		{"a restarted worker: retried, not charged", func(in activities.LoadInput) error {
			return temporal.NewApplicationError("the worker of hw-sim-h100."+in.Lease.Node+" that ran this is gone: it restarted", activities.ErrWorkerRestarted)
		}, true, map[string]int{"succeeded": 4}, map[string][]string{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newSweepEnv(t, testPoints("a", 1, 2, 4, 8), 1)
			env.enginesStart()
			var a *activities.Activities
			env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
				if in.Lease.Node == "n0" && (!tc.firstOnly || in.Attempt == 1) {
					return activities.PointResult{}, tc.fail(in)
				}
				return succeed(ctx, in)
			})
			env.alerts()
			res := env.run(t)
			require.Equal(t, tc.counts, res.Counts)
			require.Equal(t, tc.quarantined, env.quarantined)
			if tc.faultsOfN0 == "" {
				require.Empty(t, env.nodeFaults)
				return
			}
			require.Len(t, env.nodeFaults["n0"], quarantineAfter, "one line a fault: %v", env.nodeFaults)
			for _, line := range env.nodeFaults["n0"] {
				require.Contains(t, line, tc.faultsOfN0)
			}
		})
	}
}

// TestABrokenEngineFailsItsOwnPointsNotThePool: an engine that answers
// HTTP 500 to everything fails the same way on two nodes. Its entry fails
// as an engine failure, the charge to the first node is withdrawn, no node
// is quarantined, and the other entry on the pool runs.
func TestABrokenEngineFailsItsOwnPointsNotThePool(t *testing.T) {
	points := append(testPoints("broken", 4, 8, 16), testPoints("good", 4, 8)...)
	env := newSweepEnv(t, points, 1)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.Point.Entry == "broken" })).
		Return(activities.PointResult{}, temporal.NewNonRetryableApplicationError("every request failed: HTTP 500: engine error (request 1234)", activities.ErrNodeFault, nil))
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(succeed)
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 2, "failed": 1, "skipped": 2}, res.Counts)
	require.Equal(t, activities.ErrEngine, env.failures[0].ErrorClass)
	// A retry may land on the node it failed on if that node's teardown
	// ended first: the second node's identical failure settles it.
	require.LessOrEqual(t, env.failures[0].Attempts, 3)
	require.Regexp(t, `^the engine failed the same way on n0 and n[12]: every request failed: HTTP 500`, env.failures[0].Error)
	require.Contains(t, env.failures[1].Error, "canary failed: the engine failed the same way on n0 and n")
	require.Empty(t, env.quarantined, "no node is quarantined")
}

// newPoolEnv runs HardwareSweepWorkflow alone over points, with
// engines that start, teardowns and failure rows that succeed; tests
// add their RunLoad.
func newPoolEnv(points []sweep.Point) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(HardwareSweepWorkflow)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.LoadRunnerPoints, mock.Anything, mock.Anything, mock.Anything).Return(activities.RunnerPoints{Points: points}, nil)
	env.OnActivity(a.Teardown, mock.Anything, mock.Anything).Return("", nil)
	env.OnActivity(a.RecordFailure, mock.Anything, mock.Anything).Return(results.ManifestPoint{}, nil)
	return env
}

// poolProgress is what the progress query of a finished pool says.
func poolProgress(t *testing.T, env *testsuite.TestWorkflowEnvironment) HardwareProgress {
	t.Helper()
	q, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var progress HardwareProgress
	require.NoError(t, q.Get(&progress))
	return progress
}

// TestAQuarantineSaysWhy: the progress query names each quarantined
// node's faults, and a withdrawn charge stays visible as withdrawn.
func TestAQuarantineSaysWhy(t *testing.T) {
	env := newPoolEnv(append(testPoints("sick", 1, 2, 4), testPoints("broken", 1)...))
	var a *activities.Activities
	env.OnActivity(a.StartEngine, mock.Anything, mock.Anything).Return(activities.EngineInfo{BaseURL: "http://engine"}, nil)
	env.OnActivity(a.RunLoad, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.Point.Entry == "broken" })).
		Return(activities.PointResult{}, temporal.NewNonRetryableApplicationError("every request failed: HTTP 500", activities.ErrNodeFault, nil))
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		if in.Lease.Node == "n0" {
			return nodeFault("Xid 79: GPU fell off the bus")(ctx, in)
		}
		return succeed(ctx, in)
	})
	env.ExecuteWorkflow(HardwareSweepWorkflow, HardwareInput{SweepID: "s1", Date: "2026-11-27", PlanKey: "k", Runner: "sim-h100",
		Capacity: 1, Nodes: 3, NodeNames: []string{"n0", "n1", "n2"}, Settings: sweep.DefaultSettings()})
	require.NoError(t, env.GetWorkflowError())
	progress := poolProgress(t, env)
	// Which node each attempt lands on depends on which teardown ends
	// first; what the record says of it does not.
	withdrawn, standing := 0, map[string]int{}
	for node, lines := range progress.Evidence {
		for _, line := range lines {
			switch {
			case strings.HasPrefix(line, "broken-c1 (broken, conc 1): every request failed: HTTP 500"):
				require.True(t, strings.HasSuffix(line, withdrawnNote), line)
				withdrawn++
			default:
				require.Regexp(t, `^sick-c[124] \(sick, conc [124]\): Xid 79: GPU fell off the bus on n0$`, line)
				require.Equal(t, "n0", node)
				standing[node]++
			}
		}
	}
	require.GreaterOrEqual(t, withdrawn, 1, "the engine's failure is on record, withdrawn")
	var quarantined []string
	if standing["n0"] >= quarantineAfter {
		quarantined = []string{"n0"}
	}
	require.Equal(t, quarantined, progress.Quarantined, "quarantined exactly when two faults stand")
}

// TestARestartedWorkerIsNotCharged: a load its worker's restart failed
// (workers.FailOrphans) is retried, and the node keeps a clean record.
func TestARestartedWorkerIsNotCharged(t *testing.T) {
	// Four first attempts fail over three nodes: charged, one node would
	// collect two faults and be quarantined.
	env := newSweepEnv(t, testPoints("a", 1, 2, 4, 8), 1)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		if in.Attempt == 1 {
			return activities.PointResult{}, temporal.NewApplicationError("the worker of hw-sim-h100."+in.Lease.Node+" that ran this is gone: it restarted", activities.ErrWorkerRestarted)
		}
		return succeed(ctx, in)
	})
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 4}, res.Counts)
	require.Empty(t, env.quarantined, "no node is charged for its worker's restart")
}

// TestAnOperatorReleasesAQuarantinedNode: release-node lifts the
// quarantine, the node takes points again, and its record keeps why.
func TestAnOperatorReleasesAQuarantinedNode(t *testing.T) {
	env := newPoolEnv(testPoints("a", 1, 2, 3, 4, 5, 6, 7, 8))
	var a *activities.Activities
	var mu sync.Mutex
	var startedOn []string
	env.OnActivity(a.StartEngine, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StartInput) (activities.EngineInfo, error) {
		mu.Lock()
		defer mu.Unlock()
		startedOn = append(startedOn, in.Lease.Node)
		return activities.EngineInfo{BaseURL: "http://engine"}, nil
	})
	released := false
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).After(time.Minute).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		if in.Lease.Node == "n0" && !released {
			return nodeFault("Xid 79")(ctx, in)
		}
		return succeed(ctx, in)
	})
	env.RegisterDelayedCallback(func() {
		released = true
		env.SignalWorkflow(ReleaseNodeSignal, ReleaseNode{Node: "n0", Reason: "reseated the GPU"})
	}, 5*time.Minute)
	env.ExecuteWorkflow(HardwareSweepWorkflow, HardwareInput{SweepID: "s1", Date: "2026-11-27", PlanKey: "k", Runner: "sim-h100",
		Capacity: 1, Nodes: 2, NodeNames: []string{"n0", "n1"}, Settings: sweep.DefaultSettings()})
	require.NoError(t, env.GetWorkflowError())
	var res HardwareResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Empty(t, res.Quarantined)
	require.Empty(t, res.Failures)
	last := startedOn[len(startedOn)-1]
	require.Equal(t, "n0", last, "n0 takes points again: %v", startedOn)
	progress := poolProgress(t, env)
	require.Equal(t, "released by the operator: reseated the GPU", progress.Evidence["n0"][len(progress.Evidence["n0"])-1])
	require.Equal(t, []string{"n0", "n1"}, progress.Nodes)
}

// The node a point avoids after failing on it is a preference, never a
// wait without end.
func TestFreeNodeForAvoidsTheFailedNodeWhileAnotherIsHealthy(t *testing.T) {
	tests := []struct {
		name        string
		quarantined []string
		busy        []string
		want        string
	}{
		{"another node free: that one", nil, nil, "n1"},
		{"another healthy node busy: wait for it", nil, []string{"n1", "n2"}, ""},
		{"every other node quarantined: back to the failed one", []string{"n1", "n2"}, nil, "n0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &poolRun{in: HardwareInput{NodeNames: []string{"n0", "n1", "n2"}}, progress: &HardwareProgress{Quarantined: tc.quarantined},
				busy: map[string]bool{}, avoid: map[string]string{"p": "n0"}}
			for _, n := range tc.busy {
				r.busy[n] = true
			}
			require.Equal(t, tc.want, r.freeNodeFor(sweep.Point{ID: "p"}))
		})
	}
}
