package workflows

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

func testPoints(entry string, concs ...int) []sweep.Point {
	var out []sweep.Point
	for _, c := range concs {
		out = append(out, sweep.Point{ID: fmt.Sprintf("%s-c%d", entry, c), Entry: entry, Runner: "sim-h100", Conc: c, TP: 8, GPUs: 8})
	}
	return out
}

// fakeNodes answers the node activities like a pool's workers would, and
// records what the workflow asked of them.
type fakeNodes struct {
	mu          sync.Mutex
	nodes       []string
	next        int
	starts      []start // StartEngine calls, in order
	teardowns   int     // Teardown activities; RunLoad's own releases are not counted
	quarantined [][]string
}

type start struct {
	lease string // sweep/point/attempt
	node  string
	at    time.Time
}

// provision answers the pool queue's Provision of sweeps whose pools did
// not choose nodes.
func (f *fakeNodes) provision(_ context.Context, in activities.ProvisionInput) (activities.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quarantined = append(f.quarantined, in.Quarantined)
	if in.Node != "" {
		// The pool chose the node: its own worker answers.
		return activities.Lease{Node: in.Node, NodeQueue: "hw-sim-h100." + in.Node, LeaseID: in.PointID}, nil
	}
	for range f.nodes {
		node := f.nodes[f.next%len(f.nodes)]
		f.next++
		if !contains(in.Quarantined, node) {
			return activities.Lease{Node: node, NodeQueue: "hw-sim-h100." + node, LeaseID: in.PointID}, nil
		}
	}
	return activities.Lease{}, temporal.NewApplicationError("all nodes quarantined", activities.ErrNodeBusy)
}

func (f *fakeNodes) startsOn(node string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.starts {
		if s.node == node {
			n++
		}
	}
	return n
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func (f *fakeNodes) teardown(_ context.Context, _ activities.TeardownInput) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.teardowns++
	return "", nil
}

type sweepEnv struct {
	*testsuite.TestWorkflowEnvironment
	nodes       *fakeNodes
	loads       int // first pages read: one per pool run
	pages       int // pages read
	parts       map[int][]results.Outcome
	nodeFaults  map[string][]string // what the pool left in the lake
	manifest    []results.ManifestPoint
	quarantined map[string][]string // what the manifest records
	failures    []activities.FailureInput
	onTeardown  func(activities.TeardownInput) // gang tests watch teardowns
}

func newSweepEnv(t *testing.T, points []sweep.Point, capacity int) *sweepEnv {
	return newSweepEnvOn(t, points, capacity, []string{"n0", "n1", "n2"})
}

// newSweepEnvOn is a sweep of one pool of the given nodes.
func newSweepEnvOn(t *testing.T, points []sweep.Point, capacity int, nodes []string) *sweepEnv {
	var suite testsuite.WorkflowTestSuite
	env := &sweepEnv{TestWorkflowEnvironment: suite.NewTestWorkflowEnvironment(), nodes: &fakeNodes{nodes: nodes}}
	env.RegisterWorkflow(SweepWorkflow)
	env.RegisterWorkflow(HardwareSweepWorkflow)
	var a *activities.Activities
	env.RegisterActivity(a)
	settings := sweep.DefaultSettings()
	env.OnActivity(a.PlanSweep, mock.Anything, mock.Anything).Return(activities.PlanOutput{
		PlanKey: "v1/plans/dt=2026-11-27/sweep=s1/plan.json", Total: len(points), Settings: settings,
		Runners: []activities.RunnerPlan{{Label: "sim-h100", Points: len(points), Capacity: capacity, Nodes: len(nodes), NodeNames: nodes}},
		Models:  []string{"m"}, Frameworks: []string{"sim"}, Precisions: []string{"fp8"},
	}, nil)
	env.OnActivity(a.LoadPoolPage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PoolPageInput) (activities.PoolPage, error) {
		require.Equal(t, "sim-h100", in.Runner)
		env.pages++
		if in.Limit == 0 {
			env.loads++
		}
		ordered, canaries := sweep.RunOrder(points)
		end := min(in.From+in.Limit, len(ordered))
		if in.From < canaries {
			end = min(end, canaries)
		}
		return activities.PoolPage{ConfigDigest: "d", Total: len(ordered), Canaries: canaries, Points: ordered[min(in.From, end):end]}, nil
	})
	env.parts = map[int][]results.Outcome{}
	env.OnActivity(a.WriteNodeFaults, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.NodeFaultsInput) error {
		env.nodeFaults = in.Faults
		return nil
	}).Maybe()
	env.OnActivity(a.WriteManifestPart, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ManifestPartInput) error {
		require.NotContains(t, env.parts, in.Part, "parts are numbered once")
		env.parts[in.Part] = in.Outcomes
		return nil
	}).Maybe()
	env.OnActivity(a.Provision, mock.Anything, mock.Anything).Return(env.nodes.provision).Maybe()
	env.OnActivity(a.Teardown, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.TeardownInput) (string, error) {
		if env.onTeardown != nil {
			env.onTeardown(in)
		}
		return env.nodes.teardown(ctx, in)
	})
	env.OnActivity(a.RecordFailure, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FailureInput) (results.ManifestPoint, error) {
		env.failures = append(env.failures, in)
		return results.ManifestPoint{PointID: in.Point.ID, Hardware: in.Point.Runner, Status: in.Status}, nil
	}).Maybe()
	env.OnActivity(a.WriteManifest, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ManifestInput) (string, error) {
		env.manifest, env.quarantined = in.Points, in.Quarantined
		for _, pool := range in.Pools {
			for part := range pool.Parts {
				for _, o := range env.parts[part] {
					env.manifest = append(env.manifest, results.ManifestPoint{PointID: o.PointID, Hardware: pool.Runner, Status: o.Status})
				}
			}
		}
		return results.ManifestKey(in.Date, in.SweepID), nil
	}).Maybe()
	env.OnActivity(a.AnalyzeSweep, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AnalyzeInput) (string, error) {
		return results.AnalysisKey(in.Date, in.SweepID, "frontiers"), nil
	}).Maybe()
	return env
}

// alerts answers SendAlert; tests that make it fail register theirs first.
func (e *sweepEnv) alerts() {
	var a *activities.Activities
	e.OnActivity(a.SendAlert, mock.Anything, activities.AlertInput{SweepID: "s1", Date: "2026-11-27"}).Return(activities.AlertSent, nil).Once()
}

// enginesStart makes every StartEngine succeed; tests that fail some
// register their own expectation first (testify takes the first match).
func (e *sweepEnv) enginesStart() {
	var a *activities.Activities
	e.OnActivity(a.StartEngine, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StartInput) (activities.EngineInfo, error) {
		e.nodes.mu.Lock()
		defer e.nodes.mu.Unlock()
		e.nodes.starts = append(e.nodes.starts, start{in.Lease.LeaseID, in.Lease.Node, e.Now()})
		return activities.EngineInfo{BaseURL: "http://engine"}, nil
	})
}

// nodeFault fails a load the way a sick node does: with evidence naming
// the node, so no two nodes fail it the same way.
func nodeFault(msg string) func(context.Context, activities.LoadInput) (activities.PointResult, error) {
	return func(_ context.Context, in activities.LoadInput) (activities.PointResult, error) {
		return activities.PointResult{}, temporal.NewNonRetryableApplicationError(msg+" on "+in.Lease.Node, activities.ErrNodeFault, nil)
	}
}

// succeed measures the point and, when asked, stops its engine itself.
func succeed(_ context.Context, in activities.LoadInput) (activities.PointResult, error) {
	return activities.PointResult{Manifest: results.ManifestPoint{PointID: in.Point.ID, Hardware: in.Point.Runner, Status: "succeeded"}, Completed: 4, Released: in.Release}, nil
}

func (e *sweepEnv) run(t *testing.T) SweepResult {
	t.Helper()
	e.ExecuteWorkflow(SweepWorkflow, SweepInput{SweepID: "s1", Date: "2026-11-27", TimeScale: 10})
	require.True(t, e.IsWorkflowCompleted())
	require.NoError(t, e.GetWorkflowError())
	var res SweepResult
	require.NoError(t, e.GetWorkflowResult(&res))
	return res
}

func TestSweepRunsEveryPointAndTearsEachDown(t *testing.T) {
	points := append(testPoints("a", 4, 8, 16), testPoints("b", 1, 2)...)
	env := newSweepEnv(t, points, 2)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(succeed)
	env.alerts()

	res := env.run(t)
	require.Equal(t, activities.AlertSent, res.Alert, "one alert after the analysis")
	require.Equal(t, map[string]int{"succeeded": 5}, res.Counts)
	require.Equal(t, "v1/manifests/dt=2026-11-27/sweep=s1.json", res.ManifestKey)
	require.Equal(t, "v1/analysis/dt=2026-11-27/sweep=s1/frontiers.parquet", res.AnalysisKey, "analysed after the commit")
	require.Len(t, env.manifest, 5)
	require.Len(t, env.nodes.starts, 5)
	require.Zero(t, env.nodes.teardowns, "each load stopped its own engine: no teardown round trip")
	require.Empty(t, res.Failures)
}

// StartEngine takes the lease on the node the pool chose and RunLoad gives
// it back: two activities per point, with lease and queue named by the pool.
func TestAPointTakesAndReturnsItsLeaseWithoutProvisioning(t *testing.T) {
	env := newSweepEnv(t, testPoints("a", 1), 1)
	var a *activities.Activities
	var started activities.StartInput
	env.OnActivity(a.StartEngine, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StartInput) (activities.EngineInfo, error) {
		started = in
		return activities.EngineInfo{BaseURL: "http://engine"}, nil
	})
	var loaded activities.LoadInput
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		loaded = in
		return succeed(ctx, in)
	})
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 1}, res.Counts)
	want := activities.Lease{Node: "n0", NodeQueue: "hw-sim-h100.n0", LeaseID: "s1/a-c1/1"}
	require.Equal(t, want, started.Lease)
	require.True(t, started.Acquire)
	require.Equal(t, want, loaded.Lease)
	require.True(t, loaded.Release)
	require.Empty(t, env.nodes.quarantined, "no Provision activity")
	require.Zero(t, env.nodes.teardowns)
}

func TestTeardownCases(t *testing.T) {
	tests := []struct {
		name      string
		start     error
		load      func(context.Context, activities.LoadInput) (activities.PointResult, error)
		teardowns int
	}{
		{name: "the load stopped its engine", load: succeed, teardowns: 0},
		{name: "the load could not stop its engine", teardowns: 1, load: func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
			res, err := succeed(ctx, in)
			res.Released = false
			return res, err
		}},
		{name: "the engine failed to start", start: temporal.NewNonRetryableApplicationError("CUDA out of memory", activities.ErrConfig, nil), teardowns: 1},
		// The node's worker never took the task, so it holds nothing.
		{name: "the start never reached the node", start: temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil), teardowns: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSweepEnv(t, testPoints("a", 1), 1)
			var a *activities.Activities
			if tt.start != nil {
				env.OnActivity(a.StartEngine, mock.Anything, mock.Anything).Return(activities.EngineInfo{}, tt.start).Once()
			}
			env.enginesStart()
			if tt.load != nil {
				env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(tt.load)
			} else {
				env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(succeed)
			}
			env.ExecuteWorkflow(SweepWorkflow, SweepInput{SweepID: "s1", Date: "2026-11-27", TimeScale: 10})
			require.NoError(t, env.GetWorkflowError())
			require.Equal(t, tt.teardowns, env.nodes.teardowns)
		})
	}
}

// A point that failed on a node is retried elsewhere at once; the node
// itself takes no new point until its engine is torn down.
func TestAFailedPointRetriesWhileItsNodeTearsDown(t *testing.T) {
	// Two canaries side by side: a's first attempt fails on n0 while b runs on n1.
	env := newSweepEnv(t, append(testPoints("a", 1), testPoints("b", 1)...), 2)
	var a *activities.Activities
	env.OnActivity(a.Teardown, mock.Anything, mock.Anything).After(5 * time.Minute).Return(env.nodes.teardown).Once()
	env.enginesStart()
	env.OnActivity(a.RunLoad, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.Point.Entry == "b" })).
		After(2 * time.Minute).Return(succeed)
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		if in.Attempt == 1 {
			return activities.PointResult{}, temporal.NewNonRetryableApplicationError("engine crashed", activities.ErrNodeFault, nil)
		}
		return succeed(ctx, in)
	})

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 2}, res.Counts)
	// Activities run concurrently in the test environment: look starts up
	// by lease, not by the order they were recorded in.
	starts := map[string]start{}
	for _, s := range env.nodes.starts {
		starts[s.lease] = s
	}
	require.Len(t, starts, 3)
	require.Equal(t, "n0", starts["s1/a-c1/1"].node)
	require.Equal(t, "n1", starts["s1/b-c1/1"].node)
	require.Equal(t, "n2", starts["s1/a-c1/2"].node, "a is retried on n2: n1 is busy and n0 still tears down")
	require.Less(t, starts["s1/a-c1/2"].at.Sub(starts["s1/a-c1/1"].at), time.Minute, "the retry did not wait for the teardown")
	require.Equal(t, 1, env.nodes.teardowns)
}

func TestCanaryConfigErrorSkipsTheRestOfItsEntry(t *testing.T) {
	points := append(testPoints("oom", 4, 8, 16), testPoints("ok", 4, 8)...)
	env := newSweepEnv(t, points, 1)
	var a *activities.Activities
	env.OnActivity(a.StartEngine, mock.Anything, mock.MatchedBy(func(in activities.StartInput) bool { return in.Point.Entry == "oom" })).
		Return(activities.EngineInfo{}, temporal.NewNonRetryableApplicationError("CUDA out of memory", activities.ErrConfig, nil))
	env.enginesStart()
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(succeed)

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 2, "failed": 1, "skipped": 2}, res.Counts)
	require.Len(t, env.failures, 3)
	require.Equal(t, "oom-c4", env.failures[0].Point.ID, "the lowest concurrency runs first")
	require.Equal(t, activities.ErrConfig, env.failures[0].ErrorClass)
	require.Equal(t, 2, env.failures[0].Attempts, "a second node confirmed the config error")
	for _, f := range env.failures[1:] {
		require.Equal(t, "skipped", f.Status)
		require.Contains(t, f.Error, "canary failed: on n0 and n1 alike: CUDA out of memory")
	}
	require.Equal(t, 2, env.nodes.teardowns, "both failed starts are torn down; the loads stopped their own engines")
	require.Empty(t, env.quarantined)
}

// A config error that a second node does not repeat charges nobody (a
// start that fails at random must not take nodes out): the entry runs on.
func TestAConfigErrorOnOneNodeOnlyChargesNobody(t *testing.T) {
	env := newSweepEnv(t, testPoints("a", 4, 8, 16), 1)
	var a *activities.Activities
	env.OnActivity(a.StartEngine, mock.Anything, mock.MatchedBy(func(in activities.StartInput) bool { return in.Lease.Node == "n0" })).
		Return(activities.EngineInfo{}, temporal.NewNonRetryableApplicationError("torch.OutOfMemoryError: CUDA out of memory (another process holds 70 GiB)", activities.ErrConfig, nil))
	env.enginesStart()
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(succeed)
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 3}, res.Counts)
	require.Empty(t, env.failures)
	require.Empty(t, env.quarantined)
	require.Empty(t, env.nodeFaults)
}

// A point that failed on a node is retried on another one, even when that
// node is the first free again.
func TestANodeFaultIsRetriedOnAnotherNode(t *testing.T) {
	env := newSweepEnv(t, append(testPoints("a", 1), append(testPoints("b", 1), testPoints("c", 1)...)...), 3)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.Point.Entry != "a" })).
		After(10 * time.Minute).Return(succeed)
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		if in.Attempt == 1 {
			return nodeFault("the engine died during the load: stalled")(ctx, in)
		}
		return succeed(ctx, in)
	})
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 3}, res.Counts)
	env.nodes.mu.Lock()
	defer env.nodes.mu.Unlock()
	nodeOf := map[string]string{}
	for _, s := range env.nodes.starts {
		nodeOf[s.lease] = s.node
	}
	require.NotEmpty(t, nodeOf["s1/a-c1/2"])
	require.NotEqual(t, nodeOf["s1/a-c1/1"], nodeOf["s1/a-c1/2"], "the retry waited for another node rather than take the one that failed it")
}

func TestNodeFaultsRetryElsewhereAndQuarantine(t *testing.T) {
	points := testPoints("a", 1, 2, 4, 8)
	env := newSweepEnv(t, points, 1)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		if in.Lease.Node == "n0" {
			return activities.PointResult{}, temporal.NewNonRetryableApplicationError("engine crashed: CUDA error", activities.ErrNodeFault, nil)
		}
		return succeed(ctx, in)
	})

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 4}, res.Counts, "every point lands on a healthy node")
	require.Equal(t, 2, env.nodes.startsOn("n0"), "n0 faults twice and is quarantined: no point starts there again")
}

func TestAPointFailsAfterItsAttempts(t *testing.T) {
	env := newSweepEnv(t, testPoints("a", 1), 1)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(nodeFault("engine crashed"))

	res := env.run(t)
	require.Equal(t, map[string]int{"failed": 1}, res.Counts)
	require.Len(t, env.failures, 1)
	require.Equal(t, 3, env.failures[0].Attempts, "settings' point-attempts")
	require.Equal(t, activities.ErrNodeFault, env.failures[0].ErrorClass)
	require.Len(t, res.Failures, 1)
	require.True(t, strings.HasPrefix(res.Failures[0], "a-c1 (a, conc 1): failed: "), res.Failures[0])
	require.Contains(t, res.Failures[0], "engine crashed")
	require.Equal(t, 3, env.nodes.teardowns)
}

// A point measured with too many failed requests (InferenceX's 5% rule)
// is failed as it is: RunLoad wrote its row, and a retry is not made.
func TestAPointWithTooManyFailedRequestsFailsWithoutRetry(t *testing.T) {
	env := newSweepEnv(t, testPoints("a", 1), 1)
	env.enginesStart()
	var a *activities.Activities
	const why = "request failure rate 25.0% exceeds the 5% threshold (6/8 completed)"
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.LoadInput) (activities.PointResult, error) {
		return activities.PointResult{Manifest: results.ManifestPoint{PointID: in.Point.ID, Hardware: in.Point.Runner, Status: "failed"},
			Completed: 6, Failed: 2, Released: in.Release, Error: why}, nil
	})

	res := env.run(t)
	require.Equal(t, map[string]int{"failed": 1}, res.Counts)
	require.Len(t, env.nodes.starts, 1, "not retried")
	require.Empty(t, env.failures, "RunLoad wrote the row; nothing else records it")
	require.Equal(t, []string{"a-c1 (a, conc 1): failed: " + why}, res.Failures)
}

// A point waiting for a free node when the last healthy one is
// quarantined fails instead of waiting forever (found by the chaos run).
func TestAPointWaitingForANodeFailsWhenTheLastIsQuarantined(t *testing.T) {
	// Capacity above the node count: some points wait for a node.
	env := newSweepEnv(t, testPoints("a", 1, 2, 4, 8, 16, 32), 6)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).After(time.Minute).Return(nodeFault("engine crashed"))

	res := env.run(t)
	require.Equal(t, map[string]int{"failed": 6}, res.Counts)
	require.Contains(t, res.Failures[len(res.Failures)-1], "every node of pool sim-h100 is quarantined")
}

func TestAPoolWithEveryNodeQuarantinedFailsItsPointsFast(t *testing.T) {
	env := newSweepEnv(t, testPoints("a", 1, 2, 4, 8), 1)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(nodeFault("engine crashed"))

	res := env.run(t)
	require.Equal(t, map[string]int{"failed": 4}, res.Counts)
	last := env.failures[len(env.failures)-1]
	require.Equal(t, "every node of pool sim-h100 is quarantined (n0, n1, n2)", last.Error)
}

func TestPoolsContinueAsNewWithoutLosingPoints(t *testing.T) {
	points := append(testPoints("oom", 1, 2, 4), testPoints("ok", 1, 2, 4, 8)...)
	env := newSweepEnv(t, points, 2)
	var a *activities.Activities
	env.OnActivity(a.StartEngine, mock.Anything, mock.MatchedBy(func(in activities.StartInput) bool { return in.Point.Entry == "oom" })).
		Return(activities.EngineInfo{}, temporal.NewNonRetryableApplicationError("CUDA out of memory", activities.ErrConfig, nil))
	env.enginesStart()
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(succeed)

	// Three points per run: the pool continues as new twice, and the
	// canary's verdict and the results so far survive each hand-over.
	env.ExecuteWorkflow(SweepWorkflow, SweepInput{SweepID: "s1", Date: "2026-11-27", TimeScale: 10, MaxPointsPerRun: 3})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res SweepResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, map[string]int{"succeeded": 4, "failed": 1, "skipped": 2}, res.Counts)
	require.Len(t, env.manifest, 7)
	require.Equal(t, 3, env.loads, "7 points at 3 per run: three runs")
	seen := map[string]bool{}
	for _, p := range env.manifest {
		require.False(t, seen[p.PointID], "point %s twice", p.PointID)
		seen[p.PointID] = true
	}
}

func TestPausedPoolStartsNothingUntilResumed(t *testing.T) {
	env := newSweepEnv(t, testPoints("a", 1, 2, 4), 1)
	env.enginesStart()
	var a *activities.Activities
	// Each load takes ten minutes; the pool is paused during the first.
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).After(10 * time.Minute).Return(succeed)
	pool := "default-test-workflow-id/hw-sim-h100"
	start := env.Now()
	env.RegisterDelayedCallback(func() {
		require.NoError(t, env.SignalWorkflowByID(pool, PauseSignal, nil))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		resp, err := env.QueryWorkflowByID(pool, ProgressQuery)
		require.NoError(t, err)
		var p HardwareProgress
		require.NoError(t, resp.Get(&p))
		require.True(t, p.Paused)
		require.Equal(t, 1, p.Done, "the running point finished; nothing new started")
		require.Empty(t, p.Running)
		require.NoError(t, env.SignalWorkflowByID(pool, ResumeSignal, nil))
	}, time.Hour)

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 3}, res.Counts)
	require.GreaterOrEqual(t, env.Now().Sub(start), time.Hour, "the pool waited for resume")
}

func TestCancelledSweepTearsDownRunningEngines(t *testing.T) {
	// Two entries: their canaries run side by side.
	env := newSweepEnv(t, append(testPoints("a", 1, 2), testPoints("b", 1, 2)...), 2)
	env.enginesStart()
	var a *activities.Activities
	// Loads take ten minutes; the sweep is cancelled after one.
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).After(10 * time.Minute).Return(succeed)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	// The team hears of it, even though the sweep was cancelled.
	env.OnActivity(a.NotifySweepFailed, mock.Anything, activities.FailureNotice{SweepID: "s1", Date: "2026-11-27", Cancelled: true, Reason: "pool sim-h100: canceled"}).
		Return(activities.AlertSent, nil).Once()

	env.ExecuteWorkflow(SweepWorkflow, SweepInput{SweepID: "s1", Date: "2026-11-27"})
	require.True(t, env.IsWorkflowCompleted())
	var canceled *temporal.CanceledError
	require.ErrorAs(t, env.GetWorkflowError(), &canceled)
	env.AssertExpectations(t)
	env.nodes.mu.Lock()
	defer env.nodes.mu.Unlock()
	require.Len(t, env.nodes.starts, 2, "two points were running")
	require.Equal(t, 2, env.nodes.teardowns, "both engines were torn down after the cancel")
	require.Nil(t, env.manifest, "a cancelled sweep is not committed")
}

func TestRetryFailedRerunsPointsLostToNodeFaults(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		signal time.Duration // when retry-failed arrives
	}{
		{"signal while the pool still runs", 0, 5 * time.Minute},
		{"signal within the failed-window after the run", time.Hour, 30 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSweepEnv(t, append(testPoints("a", 1), testPoints("b", 1)...), 1)
			env.enginesStart()
			var a *activities.Activities
			healthy := false
			env.OnActivity(a.RunLoad, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.Point.Entry == "b" })).
				After(10 * time.Minute).Return(succeed)
			env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
				if !healthy {
					return nodeFault("GPU fell off the bus")(ctx, in)
				}
				return succeed(ctx, in)
			})
			env.RegisterDelayedCallback(func() {
				healthy = true // the operator fixed the nodes
				env.SignalWorkflow(RetryFailedSignal, nil)
			}, tt.signal)

			settings := sweep.DefaultSettings()
			settings.Retry.FailedWindow = tt.window
			env.ExecuteWorkflow(HardwareSweepWorkflow, HardwareInput{SweepID: "s1", Date: "2026-11-27", PlanKey: "k", Runner: "sim-h100",
				Capacity: 1, Nodes: 3, NodeNames: []string{"n0", "n1", "n2"}, TimeScale: 10, Settings: settings, Paged: true})
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			var res HardwareResult
			require.NoError(t, env.GetWorkflowResult(&res))
			require.Equal(t, map[string]int{"succeeded": 2}, res.Counts)
			require.Equal(t, 1, res.Parts)
			require.Len(t, env.parts[0], 2, "both points in the pool's one manifest part")
			require.Empty(t, env.failures, "nothing was recorded as failed")
			require.Empty(t, res.Quarantined, "retry-failed lifts the quarantine")
		})
	}
}

func TestFailedPointsAreRecordedWhenNoRetryComes(t *testing.T) {
	env := newSweepEnv(t, testPoints("a", 1), 1)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(nodeFault("GPU fell off the bus"))
	settings := sweep.DefaultSettings()
	settings.Retry.FailedWindow = time.Hour
	start := env.Now()
	env.ExecuteWorkflow(HardwareSweepWorkflow, HardwareInput{SweepID: "s1", Date: "2026-11-27", PlanKey: "k", Runner: "sim-h100",
		Capacity: 1, Nodes: 3, NodeNames: []string{"n0", "n1", "n2"}, Settings: settings, Paged: true})
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, env.failures, 1)
	require.Regexp(t, `^GPU fell off the bus on n[012]$`, env.failures[0].Error, "the last attempt's reason (its node depends on which teardown finished first)")
	require.GreaterOrEqual(t, env.Now().Sub(start), time.Hour, "the pool waited out the window")
}

func TestAnUndeliverableAlertDoesNotFailTheSweep(t *testing.T) {
	env := newSweepEnv(t, testPoints("a", 4), 1)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(succeed)
	env.OnActivity(a.SendAlert, mock.Anything, mock.Anything).Return("",
		temporal.NewNonRetryableApplicationError("alert webhook hooks.example refused the summary: 404 Not Found", activities.ErrConfig, nil)).Once()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 1}, res.Counts)
	require.Contains(t, res.Alert, "failed: ")
	require.Contains(t, res.Alert, "refused the summary: 404 Not Found")
}

// TestPointsPlannedOnANodeRunThere: --runner-node-filter plans a point
// per node; the pool starts it on that node only, and fails it at once
// when that node is not the pool's.
func TestPointsPlannedOnANodeRunThere(t *testing.T) {
	points := testPoints("a", 1, 2, 4, 8)
	for i := range points {
		points[i].Node = "n2"
	}
	points[3].Node = "n9"
	env := newSweepEnv(t, points, 3)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(succeed)
	env.alerts()

	res := env.run(t)
	require.Equal(t, map[string]int{"succeeded": 3, "failed": 1}, res.Counts)
	require.Equal(t, 3, env.nodes.startsOn("n2"))
	require.Zero(t, env.nodes.startsOn("n0")+env.nodes.startsOn("n1"))
	require.Contains(t, res.Failures[0], "node n9, which the point was planned on, is not a node of pool sim-h100")
}

// largestPayload records the largest payload a test's workflows made.
type largestPayload struct {
	converter.DataConverter
	mu    sync.Mutex
	bytes int
	what  string
}

func (l *largestPayload) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	ps, err := l.DataConverter.ToPayloads(values...)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, p := range ps.GetPayloads() {
		if p.Size() > l.bytes {
			l.bytes, l.what = p.Size(), fmt.Sprintf("%T", values[i])
		}
	}
	return ps, err
}

// TestPayloadsDoNotGrowWithTheSweep: a pool of thousands of points reads
// them a page at a time and writes manifest parts; no payload (inputs,
// results, the carry, the pools' results) comes near Temporal's limits,
// failures included.
func TestPayloadsDoNotGrowWithTheSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20,000-point sweep")
	}
	const n = 20000
	var points []sweep.Point
	for i := range n / 4 {
		points = append(points, testPoints(fmt.Sprintf("entry-%04d-with-a-long-recipe-name", i), 1, 2, 4, 8)...)
	}
	env := newSweepEnv(t, points, 3)
	largest := &largestPayload{DataConverter: converter.GetDefaultDataConverter()}
	env.SetDataConverter(largest)
	env.enginesStart()
	var a *activities.Activities
	env.OnActivity(a.RunLoad, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.LoadInput) (activities.PointResult, error) {
		if in.Point.Conc == 8 && strings.HasSuffix(in.Point.Entry, "7-with-a-long-recipe-name") {
			return activities.PointResult{}, temporal.NewNonRetryableApplicationError("every request failed: HTTP 500 (engine crashed at warm-up)", activities.ErrNodeFault, nil)
		}
		return succeed(ctx, in)
	})
	env.alerts()

	res := env.run(t)
	require.Equal(t, n, res.Counts["succeeded"]+res.Counts["failed"])
	require.Len(t, env.manifest, n, "every point in the manifest parts")
	require.Len(t, res.Failures, maxFailureLines, "the result names the first failures")
	require.Equal(t, res.Counts["failed"]-maxFailureLines, res.MoreFailures, "and counts the rest")
	require.Equal(t, n/defaultPointsPerRun, env.loads, "one pool run per %d points", defaultPointsPerRun)
	require.LessOrEqual(t, largest.bytes, 64<<10, "largest payload: a %s", largest.what)
	t.Logf("largest payload: %d bytes (%s); %d pages, %d parts", largest.bytes, largest.what, env.pages, len(env.parts))
}

// A pool whose pages come back short fails, saying so, instead of
// continuing as new forever.
// A sweep that fails tells the team why, and still fails.
func TestAFailedSweepIsNotified(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(SweepWorkflow)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.PlanSweep, mock.Anything, mock.Anything).Return(activities.PlanOutput{},
		temporal.NewNonRetryableApplicationError("the sweep spec is invalid:\nsweep.yaml:3:5: bad-entry.image: required", activities.ErrConfig, nil))
	var notice activities.FailureNotice
	env.OnActivity(a.NotifySweepFailed, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FailureNotice) (string, error) {
		notice = in
		return activities.AlertSent, nil
	}).Once()

	env.ExecuteWorkflow(SweepWorkflow, SweepInput{SweepID: "s1", Date: "2026-11-27"})
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "bad-entry.image: required")
	require.Equal(t, "s1", notice.SweepID)
	require.False(t, notice.Cancelled)
	require.Equal(t, "plan sweep s1: the sweep spec is invalid:\nsweep.yaml:3:5: bad-entry.image: required", notice.Reason)
}

func TestAPoolFailsWhenItsPlanComesBackShort(t *testing.T) {
	env := newPoolEnv(nil)
	var a *activities.Activities
	env.OnActivity(a.LoadPoolPage, mock.Anything, mock.Anything).Return(activities.PoolPage{ConfigDigest: "d", Total: 5, Canaries: 5}, nil)
	env.ExecuteWorkflow(HardwareSweepWorkflow, HardwareInput{SweepID: "s1", Date: "2026-11-27", PlanKey: "k", Runner: "sim-h100",
		Capacity: 1, Nodes: 3, NodeNames: []string{"n0", "n1", "n2"}, Settings: sweep.DefaultSettings(), Paged: true})
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "the plan has no points at 0 of 5")
}
