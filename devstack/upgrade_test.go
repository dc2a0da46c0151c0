package devstack

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// earlierState is a state dir (temporal.db, s3.bolt) written by the
// embedded stack of an earlier infersweep: Temporal server v1.32.1 on
// go1.26.8. Upgrading the server must keep opening it, since a user's
// `infersweep dev` state dir outlives the binary. Regenerate it with the
// infersweep BEFORE an upgrade (so it holds what the old server wrote):
//
//	INFERSWEEP_WRITE_STATE_DIR=$PWD/devstack/testdata/state-temporal-v1.32.1 \
//	  go test -count=1 -run TestWriteStateForUpgradeTest ./devstack
//	sqlite3 devstack/testdata/state-temporal-v1.32.1/temporal.db 'PRAGMA wal_checkpoint(TRUNCATE)'
//
// The last step folds SQLite's write-ahead log into temporal.db and
// removes it (a stopping server may leave it behind), so two files hold
// the whole state.
const earlierState = "testdata/state-temporal-v1.32.1"

// What the earlier stack left in its state dir.
const (
	doneSweepID    = "before-upgrade"
	waitingID      = "waiting-across-upgrade"
	upgradeSignal  = "resume"
	upgradeObject  = "v1/manifests/dt=2026-11-27/sweep=before-upgrade.json"
	upgradeContent = `{"points":3}`
)

// waitingWorkflow blocks on a signal, so the earlier server leaves it open
// in its state and the upgraded one must deliver the signal and finish it.
func waitingWorkflow(ctx workflow.Context) (string, error) {
	var msg string
	workflow.GetSignalChannel(ctx, upgradeSignal).Receive(ctx, &msg)
	return "resumed " + msg, nil
}

// TestWriteStateForUpgradeTest writes earlierState; it runs only when asked.
func TestWriteStateForUpgradeTest(t *testing.T) {
	dir := os.Getenv("INFERSWEEP_WRITE_STATE_DIR")
	if dir == "" {
		t.Skip("set INFERSWEEP_WRITE_STATE_DIR to write a state dir for TestOpensStateOfEarlierServer")
	}
	require.NoError(t, os.RemoveAll(dir))
	stack := startStack(t, Options{StateDir: dir})
	c, err := stack.Dial(context.Background())
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "swept "+doneSweepID, runTaggedWorkflow(t, c, doneSweepID))

	w := worker.New(c, testQueue, worker.Options{})
	w.RegisterWorkflow(waitingWorkflow)
	require.NoError(t, w.Start())
	ctx := context.Background()
	_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: waitingID, TaskQueue: testQueue}, waitingWorkflow)
	require.NoError(t, err)
	// Its first workflow task completes: the history holds a worker's
	// commands, not only the start.
	require.Eventually(t, func() bool {
		desc, err := c.DescribeWorkflowExecution(ctx, waitingID, "")
		return err == nil && desc.GetWorkflowExecutionInfo().GetHistoryLength() >= 4
	}, 10*time.Second, 100*time.Millisecond)
	w.Stop()
	require.NoError(t, devStore(t, stack).Put(ctx, upgradeObject, []byte(upgradeContent), "application/json"))
	stopStack(t, stack)
}

// TestOpensStateOfEarlierServer starts the current stack on a copy of
// earlierState: the finished workflow and its search attributes are there,
// the one left waiting finishes, new ones run, and the stored object reads
// back.
func TestOpensStateOfEarlierServer(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, earlierState, dir)
	stack := startStack(t, Options{StateDir: dir})
	defer stopStack(t, stack)
	c, err := stack.Dial(context.Background())
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	checkFinishedWorkflow(ctx, t, c, time.Now())

	w := worker.New(c, testQueue, worker.Options{})
	w.RegisterWorkflow(waitingWorkflow)
	require.NoError(t, w.Start())
	defer w.Stop()
	require.NoError(t, c.SignalWorkflow(ctx, waitingID, "", upgradeSignal, "after upgrade"))
	var out string
	require.NoError(t, c.GetWorkflow(ctx, waitingID, "").Get(ctx, &out))
	require.Equal(t, "resumed after upgrade", out)

	require.Equal(t, "swept after-upgrade", runTaggedWorkflow(t, c, "after-upgrade"))
	body, err := devStore(t, stack).Get(ctx, upgradeObject)
	require.NoError(t, err)
	require.JSONEq(t, upgradeContent, string(body))
}

// earlierStateClosed is about when the earlier server closed the finished
// workflow (the state was committed at 16:54 UTC that day).
var earlierStateClosed = time.Date(2026, 11, 30, 16, 50, 0, 0, time.UTC)

// checkFinishedWorkflow: within the namespace's retention of its close the
// finished workflow is there, with its search attributes; past it, the
// upgraded server has deleted it, as retention says it must. Within an
// hour of the boundary either is right.
func checkFinishedWorkflow(ctx context.Context, t *testing.T, c client.Client, now time.Time) {
	t.Helper()
	deletedAt := earlierStateClosed.Add(namespaceRetention)
	desc, err := c.DescribeWorkflowExecution(ctx, "sweep-"+doneSweepID, "")
	switch {
	case now.Before(deletedAt.Add(-time.Hour)):
		require.NoError(t, err)
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())
		require.Equal(t, []string{"sweep-" + doneSweepID}, findBySweepID(t, c, doneSweepID))
	case now.After(deletedAt.Add(time.Hour)):
		var notFound *serviceerror.NotFound
		require.ErrorAs(t, err, &notFound, "closed %s ago, past the %s retention", now.Sub(earlierStateClosed).Round(time.Hour), namespaceRetention)
	}
}

// copyDir copies the regular files of src into dst: the server writes to
// its state, and the committed one must stay as the earlier server left it.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	require.NotEmpty(t, entries, "no state in %s", src)
	for _, e := range entries {
		in, err := os.Open(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		out, err := os.Create(filepath.Join(dst, e.Name()))
		require.NoError(t, err)
		_, err = io.Copy(out, in)
		in.Close()
		require.NoError(t, err)
		require.NoError(t, out.Close())
	}
}
