package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/infersweep/infersweep/devstack/s3store"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

func testLake(t *testing.T) *results.Lake {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv, err := s3store.Start(l, "", "lake", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	cfg := results.S3Config{Endpoint: "http://" + l.Addr().String(), Region: "us-east-1", Bucket: "lake", PathStyle: true}
	c, err := results.NewS3Client(context.Background(), cfg, awsconfig.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}}))
	require.NoError(t, err)
	return results.NewLake(results.NewStore(c, "lake"))
}

func appErrorType(err error) (string, bool) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type(), app.NonRetryable()
	}
	return "", false
}

func TestLeasesAreOnePerNode(t *testing.T) {
	a := &Activities{Node: "n0", NodeQueue: "hw-h100.n0"}
	ctx := context.Background()
	lease, err := a.Provision(ctx, ProvisionInput{SweepID: "s", PointID: "p1", Attempt: 1})
	require.NoError(t, err)
	require.Equal(t, Lease{Node: "n0", NodeQueue: "hw-h100.n0", LeaseID: "s/p1/1"}, lease)

	again, err := a.Provision(ctx, ProvisionInput{SweepID: "s", PointID: "p1", Attempt: 1})
	require.NoError(t, err, "a retried provision of the same lease succeeds")
	require.Equal(t, lease, again)

	_, err = a.Provision(ctx, ProvisionInput{SweepID: "s", PointID: "p2", Attempt: 1})
	kind, nonRetryable := appErrorType(err)
	require.Equal(t, ErrNodeBusy, kind)
	require.False(t, nonRetryable, "busy: Temporal retries, possibly on another node")

	_, err = a.Teardown(ctx, TeardownInput{Lease: lease})
	require.NoError(t, err)
	require.ErrorContains(t, a.holds(lease), "node n0 lost lease s/p1/1")
	_, err = a.Teardown(ctx, TeardownInput{Lease: lease})
	require.NoError(t, err, "teardown is idempotent")

	_, err = a.Provision(ctx, ProvisionInput{SweepID: "s", PointID: "p2", Attempt: 1, Quarantined: []string{"n0"}})
	kind, _ = appErrorType(err)
	require.Equal(t, ErrNodeBusy, kind)
	require.ErrorContains(t, err, "node n0 is quarantined for sweep s")
}

// examplePlan plans the repository's example sweep as sweep s1.
var examplePlan = PlanInput{SweepID: "s1", Date: "2026-11-27", Masters: []string{"../examples/sweep.yaml"},
	Runners: "../examples/runners.yaml", Settings: "../examples/settings.yaml"}

func TestPlanSweepStoresThePlanAndSizesPools(t *testing.T) {
	a := &Activities{Lake: testLake(t)}
	ctx := context.Background()
	out, err := a.PlanSweep(ctx, examplePlan)
	require.NoError(t, err)
	require.Equal(t, "v1/plans/dt=2026-11-27/sweep=s1/plan.json", out.PlanKey)
	require.Equal(t, 22, out.Total)
	require.Equal(t, []RunnerPlan{
		{Label: "sim-h100", Points: 9, Capacity: 2, Nodes: 2, NodeNames: []string{"sim-h100-0", "sim-h100-1"}},
		{Label: "sim-h200", Points: 8, Capacity: 1, Nodes: 1, NodeNames: []string{"sim-h200-0"}},
		{Label: "sim-mi355x", Points: 5, Capacity: 1, Nodes: 1, NodeNames: []string{"sim-mi355x-0"}},
	}, out.Runners)
	require.Equal(t, 4, out.Settings.Workload.PromptsPerConc)

	points, err := a.LoadRunnerPoints(ctx, out.PlanKey, "sim-h200")
	require.NoError(t, err)
	require.Len(t, points.Points, 8)
	require.Len(t, points.ConfigDigest, 16)

	// Planning again (a retried activity) is a no-op, not a conflict.
	_, err = a.PlanSweep(ctx, examplePlan)
	require.NoError(t, err)
}

func TestPlanSweepRejectsABadSpecWithoutRetrying(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("e1:\n  image: i\n"), 0o644))
	a := &Activities{Lake: testLake(t)}
	_, err := a.PlanSweep(context.Background(), PlanInput{SweepID: "s", Date: "2026-11-27", Masters: []string{bad}, Runners: "../examples/runners.yaml"})
	kind, nonRetryable := appErrorType(err)
	require.Equal(t, ErrConfig, kind)
	require.True(t, nonRetryable)
	require.ErrorContains(t, err, bad+":2:3: e1.model: required field is missing")
}

func TestRecordFailureWritesAPointRow(t *testing.T) {
	lake := testLake(t)
	a := &Activities{Lake: lake, Version: "test"}
	p := sweep.Point{ID: "p1", Entry: "e", Runner: "sim-h100", Conc: 4, TP: 8, GPUs: 8}
	mp, err := a.RecordFailure(context.Background(), FailureInput{SweepID: "s", Date: "2026-11-27", Point: p, Status: "skipped", ErrorClass: ErrConfig, Error: "canary failed: CUDA out of memory", Attempts: 0})
	require.NoError(t, err)
	require.Equal(t, "skipped", mp.Status)
	require.NoError(t, lake.WriteManifest(context.Background(), results.Manifest{SweepID: "s", Date: "2026-11-27", Status: "partial", Points: []results.ManifestPoint{mp}}))
	m, err := lake.Manifest(context.Background(), "s")
	require.NoError(t, err)
	rows, err := lake.Points(context.Background(), m)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "skipped", rows[0].Status)
	require.Equal(t, ErrConfig, rows[0].ErrorClass)
	require.Equal(t, "canary failed: CUDA out of memory", rows[0].Error)
	require.Nil(t, rows[0].TputPerGPU, "no measurement, no figure")
}

// TestLoadFailuresAreClassifiedByKind: what a load that measured no point
// ends with, decided from loadgen's failure kinds. A node fault's first
// line is the signature the workflow compares across nodes: kind and
// status, the same whatever the counts.
func TestLoadFailuresAreClassifiedByKind(t *testing.T) {
	http500 := loadgen.FailureCount{Kind: loadgen.FailServerError, HTTPStatus: 500, Example: "HTTP 500: engine error (request 1234)"}
	http503 := loadgen.FailureCount{Kind: loadgen.FailServerError, HTTPStatus: 503, Example: "HTTP 503: overloaded"}
	http400 := loadgen.FailureCount{Kind: loadgen.FailClientError, HTTPStatus: 400, Example: "HTTP 400: maximum context length is 2048 tokens"}
	refused := loadgen.FailureCount{Kind: loadgen.FailEngineGone, Example: `Post "http://127.0.0.1:8000/v1/completions": dial tcp 127.0.0.1:8000: connect: connection refused`}
	closed := loadgen.FailureCount{Kind: loadgen.FailEngineGone, Example: "stream closed before [DONE] after 3 of 128 output tokens"}
	stalled := loadgen.FailureCount{Kind: loadgen.FailStalled, Example: "stalled: no data for 1m0s"}
	n := func(c loadgen.FailureCount, count int) loadgen.FailureCount { c.Count = count; return c }
	tests := []struct {
		name      string
		completed int
		failures  []loadgen.FailureCount
		wantClass string // "": a measured point
		wantError string
	}{
		{"every request answered 500", 0, []loadgen.FailureCount{n(http500, 8)}, ErrNodeFault,
			"the engine failed the load: server-error, HTTP 500\nthe engine answered 5xx to 8/8 requests; first: HTTP 500: engine error (request 1234)"},
		{"a larger point, same signature", 0, []loadgen.FailureCount{n(http500, 80)}, ErrNodeFault,
			"the engine failed the load: server-error, HTTP 500\nthe engine answered 5xx to 80/80 requests; first: HTTP 500: engine error (request 1234)"},
		{"nearly every request answered 5xx", 1, []loadgen.FailureCount{n(http500, 12), n(http503, 7)}, ErrNodeFault,
			"the engine failed the load: server-error, HTTP 500\nthe engine answered 5xx to 19/20 requests; first: HTTP 500: engine error (request 1234)"},
		{"every request refused: the configuration", 0, []loadgen.FailureCount{n(http400, 8)}, ErrConfig,
			"the engine refused 8/8 requests: HTTP 400: maximum context length is 2048 tokens"},
		{"nothing listens", 0, []loadgen.FailureCount{n(refused, 8)}, ErrNodeFault,
			"the engine failed the load: engine-gone\n8/8 requests failed as engine-gone; first: " + refused.Example},
		{"crash mid-load", 6, []loadgen.FailureCount{n(http500, 1), n(closed, 1)}, ErrNodeFault,
			"the engine died during the load: engine-gone\n1/8 requests lost; first: stream closed before [DONE] after 3 of 128 output tokens"},
		{"a stall mid-load", 7, []loadgen.FailureCount{n(stalled, 1)}, ErrNodeFault,
			"the engine died during the load: stalled\n1/8 requests lost; first: stalled: no data for 1m0s"},
		{"a few 500s: measured, the failure rate judges", 6, []loadgen.FailureCount{n(http500, 2)}, "", ""},
		{"nothing failed", 8, []loadgen.FailureCount{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loadgen.Summary{Completed: tt.completed, FailureKinds: tt.failures}
			for _, c := range tt.failures {
				s.Failed += c.Count
			}
			err := loadFailure(s)
			if tt.wantClass == "" {
				require.NoError(t, err)
				return
			}
			class, nonRetryable := appErrorType(err)
			require.Equal(t, tt.wantClass, class)
			require.True(t, nonRetryable, "the workflow decides where to retry")
			var app *temporal.ApplicationError
			require.ErrorAs(t, err, &app)
			require.Equal(t, tt.wantError, app.Message())
		})
	}
}

// An engine that answers HTTP 500 to everything fails the load with a
// node fault the workflow can attribute, and writes nothing to the lake.
func TestAnEngineThatAnswers500FailsTheLoad(t *testing.T) {
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"object":"error","message":"engine error"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(engine.Close)
	lake := testLake(t)
	a, lease, env := leasedNode(lake)
	_, err := env.ExecuteActivity(a.RunLoad, LoadInput{Lease: lease, SweepID: "s", Date: "2026-11-27", Point: onePoint, Engine: EngineInfo{BaseURL: engine.URL}, Attempt: 1,
		Workload: sweep.WorkloadSettings{PromptsPerConc: 8, WarmupsPerConc: 1, RequestRate: "inf", RandomRangeRatio: 1, RangeMode: "inferencemax"}})
	class, _ := appErrorType(err)
	require.Equal(t, ErrNodeFault, class)
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Equal(t, "the engine failed the load: server-error, HTTP 500\nthe engine answered 5xx to 8/8 requests; first: HTTP 500: {\"object\":\"error\",\"message\":\"engine error\"}", app.Message())
	objects, err := lake.Store().List(context.Background(), "v1/")
	require.NoError(t, err)
	require.Empty(t, objects, "no measurement, no files")
}

// fakeDocker answers the docker CLI: `run` starts a healthy engine on the
// published port, `ps` lists one leftover of this node.
type fakeDocker struct {
	t        *testing.T
	mu       sync.Mutex
	commands []string
	// beforeRun, when set, is called as `docker run` starts the engine.
	beforeRun func()
}

func (f *fakeDocker) Run(_ context.Context, name string, args ...string) (string, error) {
	cmd := name + " " + strings.Join(args, " ")
	f.mu.Lock()
	f.commands = append(f.commands, cmd)
	f.mu.Unlock()
	switch {
	case len(args) > 0 && args[0] == "run":
		if f.beforeRun != nil {
			f.beforeRun()
		}
		for i, a := range args {
			if a == "--port" {
				port := args[i+1]
				l, err := net.Listen("tcp", "127.0.0.1:"+port)
				require.NoError(f.t, err)
				srv := &http.Server{Handler: http.HandlerFunc(instantCompletions)}
				go func() { _ = srv.Serve(l) }()
				f.t.Cleanup(func() { _ = srv.Close() })
			}
		}
	case strings.HasPrefix(cmd, "docker ps"):
		return "leftover1\n", nil
	case strings.HasPrefix(cmd, "docker logs"):
		return "INFO engine ready\nINFO shutting down", nil
	}
	return "", nil
}

// instantCompletions is a healthy engine that streams one token at once.
func instantCompletions(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/completions" {
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" t\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n")
}

// dockerNode is node n0 of pool h100 with a fake docker CLI whose engines
// answer at once, and an activity environment to run its activities in.
func dockerNode(t *testing.T, lake *results.Lake) (*Activities, *fakeDocker, *testsuite.TestActivityEnvironment) {
	cli := &fakeDocker{t: t}
	a := &Activities{Lake: lake, Node: "n0", NodeQueue: "hw-h100.n0", Launcher: &launch.Docker{Exec: cli}}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return a, cli, env
}

// leasedNode is node n0 holding the lease of attempt 1 of point p1, its
// engine already started, and an activity environment to load it in.
func leasedNode(lake *results.Lake) (*Activities, Lease, *testsuite.TestActivityEnvironment) {
	a := &Activities{Lake: lake, Node: "n0"}
	lease := Lease{Node: "n0", NodeQueue: "hw-h100.n0", LeaseID: LeaseID("s", "p1", 1)}
	a.lease = lease.LeaseID
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return a, lease, env
}

// onePoint is a point of one request of one token.
var onePoint = sweep.Point{ID: "p1", Runner: "h100", Framework: "vllm", Model: "m", Image: "vllm/vllm-openai:v0.11.0", TP: 8, GPUs: 8, Conc: 1, ISL: 8, OSL: 1, MaxModelLen: 2304}

// On a node the pool chose, StartEngine takes the lease and RunLoad, once
// the rows are written, stops the engine, keeps its log and frees the node.
func TestALoadReleasesTheLeaseItsStartTook(t *testing.T) {
	lake := testLake(t)
	a, cli, env := dockerNode(t, lake)
	lease := Lease{Node: "n0", NodeQueue: "hw-h100.n0", LeaseID: LeaseID("s", "p1", 1)}
	p := onePoint

	_, err := env.ExecuteActivity(a.StartEngine, StartInput{Lease: Lease{Node: "n1", NodeQueue: "hw-h100.n1", LeaseID: lease.LeaseID}, Acquire: true, Point: p})
	require.ErrorContains(t, err, "lease for node n1 reached node n0: two workers share a node name")
	val, err := env.ExecuteActivity(a.StartEngine, StartInput{Lease: lease, Acquire: true, Point: p})
	require.NoError(t, err)
	var engine EngineInfo
	require.NoError(t, val.Get(&engine))
	require.Equal(t, lease.LeaseID, a.lease, "the start took the lease")
	_, err = a.Provision(context.Background(), ProvisionInput{SweepID: "s", PointID: "p2", Attempt: 1})
	kind, _ := appErrorType(err)
	require.Equal(t, ErrNodeBusy, kind, "the node is taken")

	val, err = env.ExecuteActivity(a.RunLoad, LoadInput{Lease: lease, SweepID: "s", Date: "2026-11-27", Point: p, Engine: engine, Attempt: 1, Release: true,
		Workload: sweep.WorkloadSettings{PromptsPerConc: 2, RequestRate: "inf", RandomRangeRatio: 1, RangeMode: "inferencemax"}})
	require.NoError(t, err)
	var res PointResult
	require.NoError(t, val.Get(&res))
	require.True(t, res.Released)
	require.Equal(t, 2, res.Completed)
	require.Empty(t, a.lease, "the node is free")
	require.Equal(t, "docker rm -f infersweep-n0-s-p1-1", cli.commands[len(cli.commands)-1], "the engine is gone")
	log, err := lake.Store().Get(context.Background(), results.LogKey("2026-11-27", "h100", "s", "p1", 1))
	require.NoError(t, err)
	require.Equal(t, "INFO engine ready\nINFO shutting down\n", string(log))
	_, err = a.Teardown(context.Background(), TeardownInput{Lease: lease})
	require.NoError(t, err, "a teardown after the release finds nothing to do")
}

// A point whose failed requests exceed the settings' limit (InferenceX's
// 5% unless set) is failed, not an error a workflow would retry; its row
// keeps both counts and the figures measured.
func TestAPointWithTooManyFailedRequestsIsFailed(t *testing.T) {
	var count atomic.Int64
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1)%4 == 0 { // the 4th and 8th of 8
			http.Error(w, "overloaded", http.StatusInternalServerError)
			return
		}
		instantCompletions(w, r)
	}))
	t.Cleanup(engine.Close)
	half := 0.5
	tests := []struct {
		name                  string
		limit                 *float64
		wantStatus, wantClass string
		wantError             string
	}{
		{"InferenceX's 5% by default", nil, "failed", ErrFailureRate, "request failure rate 25.0% exceeds the 5% threshold (6/8 completed)"},
		{"a limit the settings raised", &half, "succeeded", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			count.Store(0)
			lake := testLake(t)
			a, lease, env := leasedNode(lake)
			val, err := env.ExecuteActivity(a.RunLoad, LoadInput{Lease: lease, SweepID: "s", Date: "2026-11-27", Point: onePoint, Engine: EngineInfo{BaseURL: engine.URL}, Attempt: 1,
				Workload: sweep.WorkloadSettings{PromptsPerConc: 8, RequestRate: "inf", RandomRangeRatio: 1, RangeMode: "inferencemax", MaxFailureRate: tt.limit}})
			require.NoError(t, err, "a measured point is not retried")
			var res PointResult
			require.NoError(t, val.Get(&res))
			require.Equal(t, tt.wantStatus, res.Manifest.Status)
			require.Equal(t, tt.wantError, res.Error)
			require.Equal(t, 6, res.Completed)
			require.Equal(t, 2, res.Failed)

			ctx := context.Background()
			require.NoError(t, lake.WriteManifest(ctx, results.Manifest{SweepID: "s", Date: "2026-11-27", Status: "partial", Points: []results.ManifestPoint{res.Manifest}}))
			m, err := lake.Manifest(ctx, "s")
			require.NoError(t, err)
			rows, err := lake.Points(ctx, m)
			require.NoError(t, err)
			require.Len(t, rows, 1)
			row := rows[0]
			require.Equal(t, tt.wantStatus, row.Status)
			require.Equal(t, tt.wantClass, row.ErrorClass)
			require.Equal(t, tt.wantError, row.Error)
			require.EqualValues(t, 6, row.Completed)
			require.EqualValues(t, 2, row.Failed)
			require.NotNil(t, row.TputPerGPU, "the figures measured are kept")
		})
	}
}

// A worker killed after its attempt wrote the point but before it reported
// leaves files a retry must neither fail on nor duplicate.
func TestARetryMeetsWhatAnEarlierAttemptLeft(t *testing.T) {
	p := onePoint
	requestsKey := results.TableKey(results.TableRequests, "2026-11-27", "h100", "s", "p1")
	pointsKey := results.TableKey(results.TablePoints, "2026-11-27", "h100", "s", "p1")
	earlierRow := func(t *testing.T) []byte {
		tput := 999.0
		data, err := results.Encode([]results.PointRow{{SweepID: "s", PointID: "p1", Status: "succeeded", Attempts: 1, TputPerGPU: &tput}}, nil)
		require.NoError(t, err)
		return data
	}
	tests := []struct {
		name       string
		earlier    map[string]bool // which of the earlier attempt's files exist
		wantStatus string
		wantTput   float64 // the points row the lake keeps
	}{
		{"nothing left: a normal measurement", nil, "succeeded", -1},
		{"requests but no points row: never committed, replaced", map[string]bool{requestsKey: true}, "succeeded", -1},
		{"committed: that measurement stands", map[string]bool{requestsKey: true, pointsKey: true}, "succeeded", 999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lake := testLake(t)
			ctx := context.Background()
			for key := range tt.earlier {
				body := []byte("an earlier attempt's requests")
				if key == pointsKey {
					body = earlierRow(t)
				}
				require.NoError(t, lake.PutOnce(ctx, key, body, parquetType))
			}
			a, _, env := dockerNode(t, lake)
			lease := Lease{Node: "n0", NodeQueue: "hw-h100.n0", LeaseID: LeaseID("s", "p1", 2)}
			val, err := env.ExecuteActivity(a.StartEngine, StartInput{Lease: lease, Acquire: true, Point: p})
			require.NoError(t, err)
			var engine EngineInfo
			require.NoError(t, val.Get(&engine))
			val, err = env.ExecuteActivity(a.RunLoad, LoadInput{Lease: lease, SweepID: "s", Date: "2026-11-27", Point: p, Engine: engine, Attempt: 2, Release: true,
				Workload: sweep.WorkloadSettings{PromptsPerConc: 2, RequestRate: "inf", RandomRangeRatio: 1, RangeMode: "inferencemax"}})
			require.NoError(t, err)
			var res PointResult
			require.NoError(t, val.Get(&res))
			require.Equal(t, tt.wantStatus, res.Manifest.Status)
			require.Equal(t, pointsKey, res.Manifest.Keys[results.TablePoints])
			require.Equal(t, requestsKey, res.Manifest.Keys[results.TableRequests])
			require.True(t, res.Released, "the engine is stopped either way")

			rows, err := lake.Points(ctx, results.Manifest{Points: []results.ManifestPoint{res.Manifest}})
			require.NoError(t, err)
			require.Len(t, rows, 1)
			if tt.wantTput > 0 {
				require.Equal(t, tt.wantTput, *rows[0].TputPerGPU, "the committed row is kept")
			} else {
				require.EqualValues(t, 2, rows[0].Attempts, "this attempt's row")
			}

			// A failure row for the same point finds the committed one.
			mp, err := a.RecordFailure(ctx, FailureInput{SweepID: "s", Date: "2026-11-27", Point: p, Status: "failed", ErrorClass: ErrNodeFault, Error: "gone", Attempts: 3})
			require.NoError(t, err)
			require.Equal(t, "succeeded", mp.Status, "the point landed measured")
			require.Equal(t, res.Manifest.Keys, mp.Keys)
		})
	}
}

// A teardown that comes while the engine still starts (the sweep was
// cancelled) releases the lease; the engine that then becomes ready is
// stopped at once, not left running with nobody to stop it.
func TestAnEngineReadyAfterItsTeardownIsStopped(t *testing.T) {
	a, cli, env := dockerNode(t, testLake(t))
	starting, release := make(chan struct{}), make(chan struct{})
	cli.beforeRun = func() {
		close(starting)
		<-release
	}
	lease := Lease{Node: "n0", NodeQueue: "hw-h100.n0", LeaseID: LeaseID("s", "p1", 1)}
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(a.StartEngine, StartInput{Lease: lease, Acquire: true, Point: onePoint})
		done <- err
	}()
	<-starting
	tail, err := a.Teardown(context.Background(), TeardownInput{Lease: lease, SweepID: "s", Date: "2026-11-27", Hardware: "h100", PointID: "p1", Attempt: 1})
	require.NoError(t, err)
	require.Empty(t, tail, "no engine to stop yet")
	close(release)
	require.ErrorContains(t, <-done, "lease "+lease.LeaseID+" was released while its engine started")
	cli.mu.Lock()
	defer cli.mu.Unlock()
	require.Equal(t, "docker rm -f infersweep-n0-s-p1-1", cli.commands[len(cli.commands)-1], "the late engine is removed")
	require.Empty(t, a.lease, "the node is free")
	require.Nil(t, a.engine)
}

func TestNodeReapsLeftoversAndKeepsTheEngineLog(t *testing.T) {
	lake := testLake(t)
	cli := &fakeDocker{t: t}
	a := &Activities{Lake: lake, Node: "n0", NodeQueue: "hw-h100.n0", Launcher: &launch.Docker{Exec: cli}}
	ctx := context.Background()
	lease, err := a.Provision(ctx, ProvisionInput{SweepID: "s", PointID: "p1", Attempt: 1})
	require.NoError(t, err)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	val, err := env.ExecuteActivity(a.StartEngine, StartInput{Lease: lease, Point: sweep.Point{ID: "p1", Framework: "vllm", Model: "m", Image: "vllm/vllm-openai:v0.11.0", TP: 8, Conc: 4, MaxModelLen: 2304}})
	require.NoError(t, err)
	var info EngineInfo
	require.NoError(t, val.Get(&info))
	require.NotEmpty(t, info.BaseURL)
	require.Equal(t, "docker ps -a -q --filter label=infersweep.node=n0", cli.commands[0], "this node's leftovers are looked for first")
	require.Equal(t, "docker rm -f leftover1", cli.commands[1])
	require.Contains(t, cli.commands[2], "docker run -d --name infersweep-n0-s-p1-1 ")

	tail, err := a.Teardown(ctx, TeardownInput{Lease: lease, SweepID: "s", Date: "2026-11-27", Hardware: "h100", PointID: "p1", Attempt: 1})
	require.NoError(t, err)
	require.Contains(t, tail, "shutting down")
	log, err := lake.Store().Get(ctx, results.LogKey("2026-11-27", "h100", "s", "p1", 1))
	require.NoError(t, err)
	require.Equal(t, "INFO engine ready\nINFO shutting down\n", string(log))
	require.Equal(t, "docker rm -f infersweep-n0-s-p1-1", cli.commands[len(cli.commands)-1])
}

type smiOutput string

func (s smiOutput) Run(context.Context, string, ...string) (string, error) { return string(s), nil }

func TestNvidiaSMIAveragesOverGPUs(t *testing.T) {
	w, err := NvidiaSMI{Exec: smiOutput("350.12\n348.00\n")}.Sample(context.Background())
	require.NoError(t, err)
	require.InDelta(t, 349.06, w, 1e-9)
	_, err = NvidiaSMI{Exec: smiOutput("[N/A]\n")}.Sample(context.Background())
	require.ErrorContains(t, err, `nvidia-smi power.draw "[N/A]"`)
	_, err = NvidiaSMI{Exec: smiOutput("")}.Sample(context.Background())
	require.ErrorContains(t, err, "no GPUs")

	stop := samplePower(context.Background(), NvidiaSMI{Exec: smiOutput("700\n")})
	avg, ok := stop()
	require.True(t, ok)
	require.InDelta(t, 700, avg, 0)
}

func TestAnalyzeSweepStoresFrontiers(t *testing.T) {
	lake := testLake(t)
	ctx := context.Background()
	a := &Activities{Lake: lake}
	var mps []results.ManifestPoint
	for i, p := range []struct{ inter, tput float64 }{{80, 170}, {15, 1700}, {40, 900}} {
		inter, tput := p.inter, p.tput
		id := fmt.Sprintf("p%d", i)
		data, err := results.Encode([]results.PointRow{{SweepID: "s", PointID: id, Model: "m", Precision: "fp8", Runner: "sim-h100", Framework: "sim",
			ISL: 1024, OSL: 1024, Status: "succeeded", Interactivity: &inter, TputPerGPU: &tput}}, nil)
		require.NoError(t, err)
		key := results.TableKey(results.TablePoints, "2026-11-27", "sim-h100", "s", id)
		require.NoError(t, lake.PutOnce(ctx, key, data, "application/vnd.apache.parquet"))
		mps = append(mps, results.ManifestPoint{PointID: id, Hardware: "sim-h100", Status: "succeeded", Keys: map[string]string{results.TablePoints: key}})
	}
	require.NoError(t, lake.WriteManifest(ctx, results.Manifest{SweepID: "s", Date: "2026-11-27", Status: "complete", Points: mps}))

	key, err := a.AnalyzeSweep(ctx, AnalyzeInput{SweepID: "s", Date: "2026-11-27"})
	require.NoError(t, err)
	require.Equal(t, "v1/analysis/dt=2026-11-27/sweep=s/frontiers.parquet", key)
	data, err := lake.Store().Get(ctx, key)
	require.NoError(t, err)
	rows, err := results.Decode[results.FrontierRow](bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	// No point dominates another: all three are on the frontier, which for
	// a single series is also the overall one.
	var series, overall []string
	for _, r := range rows {
		if r.Series == "*" {
			overall = append(overall, r.PointID)
		} else {
			series = append(series, r.PointID)
		}
	}
	require.Equal(t, []string{"p1", "p2", "p0"}, series, "ascending interactivity")
	require.Equal(t, series, overall)
	_, err = a.AnalyzeSweep(ctx, AnalyzeInput{SweepID: "s", Date: "2026-11-27"})
	require.NoError(t, err, "a retried analysis rewrites its derived files")
	regs, err := lake.Regressions(ctx, results.SweepRef{SweepID: "s", Date: "2026-11-27"})
	require.NoError(t, err)
	require.NotEmpty(t, regs)
	for _, r := range regs {
		require.Equal(t, "new", r.Verdict, "no earlier sweep to compare with")
	}
	page, err := lake.Store().Get(ctx, results.ReportKey("2026-11-27", "s"))
	require.NoError(t, err)
	require.Contains(t, string(page), "<h1>Sweep s</h1>")
}

// analysedSweep commits a one-point sweep with a stored regression.
func analysedSweep(t *testing.T, lake *results.Lake) {
	ctx := context.Background()
	require.NoError(t, lake.WriteManifest(ctx, results.Manifest{SweepID: "s", Date: "2026-11-27", Status: "complete", Counts: map[string]int{"succeeded": 3}}))
	change, p := -12.5, 0.0004
	data, err := results.Encode([]results.RegressionRow{
		{SweepID: "s", Model: "llama", Precision: "fp8", ISL: 1024, OSL: 1024, Series: "h100/vllm", TargetInteractivity: 20, Verdict: "regression", ChangePct: &change, ThresholdPct: 5, PValue: &p},
		{SweepID: "s", Model: "llama", Precision: "fp8", ISL: 1024, OSL: 1024, Series: "h100/vllm", TargetInteractivity: 50, Verdict: "steady", ThresholdPct: 5},
	}, nil)
	require.NoError(t, err)
	require.NoError(t, lake.Store().Put(ctx, results.AnalysisKey("2026-11-27", "s", results.TableRegressions), data, parquetType))
}

func TestSendAlertPostsOncePerSweep(t *testing.T) {
	tests := []struct {
		format string
		check  func(t *testing.T, body []byte)
	}{
		{"json", func(t *testing.T, body []byte) {
			var got AlertSummary
			require.NoError(t, json.Unmarshal(body, &got))
			require.Len(t, got.Regressions, 1)
			require.Equal(t, "h100/vllm", got.Regressions[0].Series)
			require.Empty(t, got.Improvements)
			require.Equal(t, "http://reports.example/2026-11-27/s", got.ReportURL)
			require.Equal(t, "v1/reports/dt=2026-11-27/sweep=s/index.html", got.ReportKey)
		}},
		{"slack", func(t *testing.T, body []byte) {
			var got map[string]string
			require.NoError(t, json.Unmarshal(body, &got))
			require.Equal(t, "infersweep sweep s (2026-11-27): complete, 3 succeeded\n1 regressions, 0 targets lost, 0 improvements\n"+
				"• llama fp8 1024/1024 h100/vllm at 20 tok/s/user: -12.5% (threshold 5.0%), TPOT p=0.0004\nreport: http://reports.example/2026-11-27/s",
				got["text"])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			lake := testLake(t)
			analysedSweep(t, lake)
			var posts [][]byte
			var keys []string
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				posts, keys = append(posts, body), append(keys, r.Header.Get("Idempotency-Key"))
			}))
			defer hook.Close()
			a := &Activities{Lake: lake, Alerts: AlertConfig{WebhookURL: hook.URL, Format: tc.format, ReportURL: "http://reports.example/{date}/{sweep}"}}
			in := AlertInput{SweepID: "s", Date: "2026-11-27"}
			got, err := a.SendAlert(context.Background(), in)
			require.NoError(t, err)
			require.Equal(t, AlertSent, got)
			got, err = a.SendAlert(context.Background(), in)
			require.NoError(t, err)
			require.Equal(t, AlertAlreadySent, got, "a retried activity does not post again")
			require.Len(t, posts, 1)
			require.Equal(t, []string{"infersweep-alert-s"}, keys)
			tc.check(t, posts[0])
		})
	}
}

func TestSendAlertClassifiesWebhookFailures(t *testing.T) {
	lake := testLake(t)
	analysedSweep(t, lake)
	status := http.StatusServiceUnavailable
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer hook.Close()
	a := &Activities{Lake: lake, Alerts: AlertConfig{WebhookURL: hook.URL + "/T000/secret-token", Format: "json"}}
	in := AlertInput{SweepID: "s", Date: "2026-11-27"}

	_, err := a.SendAlert(context.Background(), in)
	var appErr *temporal.ApplicationError
	require.False(t, errors.As(err, &appErr) && appErr.NonRetryable(), "a 503 is retried: %v", err)
	require.NotContains(t, err.Error(), "secret-token", "the webhook URL is a secret")

	status = http.StatusNotFound
	_, err = a.SendAlert(context.Background(), in)
	require.ErrorAs(t, err, &appErr)
	require.True(t, appErr.NonRetryable(), "a refused summary is final")

	got, err := (&Activities{Lake: lake}).SendAlert(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, AlertNotConfigured, got)
}

// TestPlanSweepChangedSincePlansOnlyWhatIsNew sweeps the diff: against an
// earlier sweep, an earlier spec by digest, and a schedule's previous sweep.
func TestPlanSweepChangedSincePlansOnlyWhatIsNew(t *testing.T) {
	lake := testLake(t)
	a := &Activities{Lake: lake}
	ctx := context.Background()
	original, err := os.ReadFile("../examples/sweep.yaml")
	require.NoError(t, err)
	// Tonight: H100 got a new image (all 9 of its points change) and the
	// MI355X entry reaches concurrency 128 (one new point).
	edited := strings.Replace(string(original), "image: infersweep/sim:dev\n  model: meta-llama/Llama-3.3-70B-Instruct\n  model-prefix: llama70b\n  runner: sim-h100",
		"image: infersweep/sim:dev2\n  model: meta-llama/Llama-3.3-70B-Instruct\n  model-prefix: llama70b\n  runner: sim-h100", 1)
	i := strings.Index(edited, "llama70b-fp8-mi355x-sim:")
	edited = edited[:i] + strings.Replace(edited[i:], "conc-end: 64", "conc-end: 128", 1)
	require.NotEqual(t, string(original), edited)
	dir := t.TempDir()
	editedFile := filepath.Join(dir, "sweep.yaml")
	require.NoError(t, os.WriteFile(editedFile, []byte(edited), 0o644))

	sum := sha256.Sum256(original)
	digest := hex.EncodeToString(sum[:])
	require.NoError(t, lake.PutOnce(ctx, results.SpecKey(digest), original, "application/yaml"))
	_, err = a.PlanSweep(ctx, PlanInput{SweepID: "nightly-20261126-0100", Date: "2026-11-26", Masters: []string{"../examples/sweep.yaml"}, Runners: "../examples/runners.yaml"})
	require.NoError(t, err)
	require.NoError(t, lake.WriteManifest(ctx, results.Manifest{SweepID: "nightly-20261126-0100", Date: "2026-11-26", Status: "complete"}))

	// Schedules applied before ChangedSinceLastOf still send the schedule
	// as "previous-sweep-of:<id>" in ChangedSince: both forms must plan
	// the same diff.
	tests := []struct {
		name, since, lastOf string
		total               int
		byRunner            map[string]int
	}{
		{"earlier spec digest", digest, "", 10, map[string]int{"sim-h100": 9, "sim-mi355x": 1}},
		{"earlier sweep", "nightly-20261126-0100", "", 10, map[string]int{"sim-h100": 9, "sim-mi355x": 1}},
		{"the schedule's previous sweep", "", "nightly", 10, map[string]int{"sim-h100": 9, "sim-mi355x": 1}},
		{"the schedule's previous sweep, as stored schedules ask", "previous-sweep-of:nightly", "", 10, map[string]int{"sim-h100": 9, "sim-mi355x": 1}},
		{"a schedule's first sweep plans everything", "", "weekly", 23, map[string]int{"sim-h100": 9, "sim-h200": 8, "sim-mi355x": 6}},
		{"a schedule's first sweep, as stored schedules ask", "previous-sweep-of:weekly", "", 23, map[string]int{"sim-h100": 9, "sim-h200": 8, "sim-mi355x": 6}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := a.PlanSweep(ctx, PlanInput{SweepID: fmt.Sprintf("nightly-20261127-%04d", i), Date: "2026-11-27", Masters: []string{editedFile},
				Runners: "../examples/runners.yaml", ChangedSince: tc.since, ChangedSinceLastOf: tc.lastOf})
			require.NoError(t, err)
			require.Equal(t, tc.total, out.Total)
			got := map[string]int{}
			for _, r := range out.Runners {
				got[r.Label] = r.Points
			}
			require.Equal(t, tc.byRunner, got)
		})
	}

	_, err = a.PlanSweep(ctx, PlanInput{SweepID: "x", Date: "2026-11-27", Masters: []string{editedFile}, Runners: "../examples/runners.yaml", ChangedSince: "nope"})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.True(t, appErr.NonRetryable())
	require.Contains(t, err.Error(), "--changed-since nope: neither a sweep nor a spec digest in the lake")
}

func TestPlanSweepRefusesNamesThatLeaveThePrefix(t *testing.T) {
	a := &Activities{Lake: testLake(t)}
	for _, in := range []PlanInput{
		{SweepID: "../other", Date: "2026-11-27"},
		{SweepID: "s1", Date: "2026-11-27/../../x"},
	} {
		in.Masters, in.Runners = []string{"../examples/sweep.yaml"}, "../examples/runners.yaml"
		_, err := a.PlanSweep(context.Background(), in)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.True(t, appErr.NonRetryable(), "%v", err)
	}
}

func TestAMDSMIReadsEveryOutputShape(t *testing.T) {
	tests := []struct {
		name, out string
		watts     float64
		err       string
	}{
		{"value and unit (ROCm 6.1+)", `[{"gpu":0,"power":{"socket_power":{"value":717,"unit":"W"}}},{"gpu":1,"power":{"socket_power":{"value":703,"unit":"W"}}}]`, 710, ""},
		{"plain numbers", `[{"gpu":0,"power":{"socket_power":650}},{"gpu":1,"power":{"socket_power":"N/A"}}]`, 650, ""},
		{"milliwatts", `[{"gpu":0,"power":{"socket_power":{"value":500000,"unit":"mW"}}}]`, 500, ""},
		{"wrapped in gpu_data", `{"gpu_data":[{"gpu":0,"power":{"socket_power":{"value":100,"unit":"W"}}}]}`, 100, ""},
		{"no readings", `[{"gpu":0,"power":{"socket_power":"N/A"}}]`, 0, "amd-smi reported no socket power for 1 GPUs"},
		{"not JSON", `GPU: 0`, 0, "amd-smi metric --power --json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := AMDSMI{Exec: smiOutput(tc.out)}.Sample(context.Background())
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.InDelta(t, tc.watts, w, 1e-9)
		})
	}
}
