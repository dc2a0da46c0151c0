package devstack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/workflows"
)

const testQueue = "devstack-test"

// taggedWorkflow tags itself the way a sweep does, so the test can find it
// through the visibility store by search attribute.
func taggedWorkflow(ctx workflow.Context, sweepID string) (string, error) {
	err := workflow.UpsertTypedSearchAttributes(ctx,
		workflows.SweepIDKey.ValueSet(sweepID),
		workflows.SweepDateKey.ValueSet("2026-11-27"),
		workflows.ModelKey.ValueSet([]string{"llama-3.3-70b", "deepseek-r1"}),
	)
	return "swept " + sweepID, err
}

func startStack(t *testing.T, opts Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stack, err := Start(ctx, opts)
	require.NoError(t, err)
	return stack
}

func stopStack(t *testing.T, stack *Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	started := time.Now()
	require.NoError(t, stack.Stop(ctx))
	// `infersweep dev` promises Ctrl-C is done within ten seconds.
	require.Less(t, time.Since(started), 10*time.Second)
}

func devStore(t *testing.T, stack *Stack) *results.Store {
	t.Helper()
	creds := credentials.StaticCredentialsProvider{Value: DevCredentials}
	c, err := results.NewS3Client(context.Background(), stack.S3, awsconfig.WithCredentialsProvider(creds))
	require.NoError(t, err)
	return results.NewStore(c, stack.S3.Bucket)
}

func runTaggedWorkflow(t *testing.T, c client.Client, sweepID string) string {
	t.Helper()
	w := worker.New(c, testQueue, worker.Options{})
	w.RegisterWorkflow(taggedWorkflow)
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-" + sweepID, TaskQueue: testQueue}, taggedWorkflow, sweepID)
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	return out
}

func findBySweepID(t *testing.T, c client.Client, sweepID string) []string {
	t.Helper()
	resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("SweepId = '%s' AND Model = 'deepseek-r1'", sweepID),
	})
	require.NoError(t, err)
	var ids []string
	for _, e := range resp.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}

func TestStackKeepsWorkflowsAndObjectsAcrossRestart(t *testing.T) {
	stateDir := t.TempDir()
	stack := startStack(t, Options{StateDir: stateDir})

	c, err := stack.Dial(context.Background())
	require.NoError(t, err)
	require.Equal(t, "swept s1", runTaggedWorkflow(t, c, "s1"))
	require.Eventually(t, func() bool {
		return len(findBySweepID(t, c, "s1")) == 1
	}, 10*time.Second, 100*time.Millisecond, "search attribute query never found the workflow")
	c.Close()

	store := devStore(t, stack)
	ctx := context.Background()
	const key = "v1/manifests/dt=2026-11-27/sweep=s1.json"
	require.NoError(t, store.Put(ctx, key, []byte(`{"points":3}`), "application/json"))
	require.NoError(t, store.Put(ctx, "v1/plans/dt=2026-11-27/sweep=s1/plan.json", []byte(`{}`), "application/json"))
	listed, err := store.List(ctx, "v1/manifests/")
	require.NoError(t, err)
	require.Len(t, listed, 1)
	require.Equal(t, key, listed[0].Key)
	require.EqualValues(t, len(`{"points":3}`), listed[0].Size)

	resp, err := http.Get(stack.UIURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "web UI at %s", stack.UIURL)

	// Restart on the same state dir and the same ports, as a user does.
	_, temporalPort, err := net.SplitHostPort(stack.Temporal.Address)
	require.NoError(t, err)
	port, err := strconv.Atoi(temporalPort)
	require.NoError(t, err)
	stopStack(t, stack)

	stack = startStack(t, Options{StateDir: stateDir, TemporalPort: port})
	defer stopStack(t, stack)
	c, err = stack.Dial(context.Background())
	require.NoError(t, err)
	defer c.Close()

	desc, err := c.DescribeWorkflowExecution(ctx, "sweep-s1", "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())
	// Work moves at once: the earlier server's hosts are forgotten.
	require.Equal(t, "swept s2", runTaggedWorkflow(t, c, "s2"))
	require.Equal(t, []string{"sweep-s1"}, findBySweepID(t, c, "s1"))

	body, err := devStore(t, stack).Get(ctx, key)
	require.NoError(t, err)
	require.JSONEq(t, `{"points":3}`, string(body))
}

func TestEphemeralStackRunsWorkflows(t *testing.T) {
	stack := startStack(t, Options{Ephemeral: true})
	defer stopStack(t, stack)
	require.Empty(t, stack.StateDir)

	c, err := stack.Dial(context.Background())
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "swept e1", runTaggedWorkflow(t, c, "e1"))

	store := devStore(t, stack)
	require.NoError(t, store.Put(context.Background(), "k", []byte("v"), "text/plain"))
	got, err := store.Get(context.Background(), "k")
	require.NoError(t, err)
	require.Equal(t, "v", string(got))
}

func TestStartRefusesBusyPortsAndLockedState(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	stateDir := t.TempDir()
	tests := []struct {
		name    string
		opts    Options
		service Service
	}{
		{"temporal port", Options{StateDir: stateDir, TemporalPort: busyPort}, ServiceTemporal},
		{"ui port", Options{StateDir: stateDir, UIPort: busyPort}, ServiceUI},
		{"s3 port", Options{StateDir: stateDir, S3Port: busyPort}, ServiceS3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start(context.Background(), tt.opts)
			var portErr *PortInUseError
			require.ErrorAs(t, err, &portErr)
			require.Equal(t, tt.service, portErr.Service)
			require.Equal(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(busyPort)), portErr.Address)
		})
	}

	t.Run("state dir held by another stack", func(t *testing.T) {
		first := startStack(t, Options{StateDir: stateDir})
		defer stopStack(t, first)
		_, err := Start(context.Background(), Options{StateDir: stateDir})
		require.ErrorContains(t, err, "locked by another process")
	})
}
