package workers

import (
	"context"
	"fmt"
	"os"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/workflows"
)

// NodeIdentity is the Temporal identity of this process's worker on a
// node queue: the activities it starts carry it, so a later process on
// the same node can tell which ones died with this one.
func NodeIdentity(nodeQueue string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%d@%s@%s", os.Getpid(), host, nodeQueue)
}

// FailOrphans fails the activities that an earlier worker process of this
// node had started and took down with it when it died (its engine died
// too, or is reaped by the next start). Without this a pool learns of them
// only when their heartbeat times out, and their points wait that long
// for a retry on another node. Call it once the node's workers poll; it
// returns how many it failed.
func FailOrphans(ctx context.Context, c client.Client, namespace, label, nodeQueue string) (int, error) {
	self := NodeIdentity(nodeQueue)
	query := fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", workflows.TaskQueue(label))
	failed := 0
	var token []byte
	for {
		page, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: query, NextPageToken: token})
		if err != nil {
			return failed, fmt.Errorf("list the running pools of %s: %w", label, err)
		}
		for _, exec := range page.GetExecutions() {
			id, run := exec.GetExecution().GetWorkflowId(), exec.GetExecution().GetRunId()
			desc, err := c.DescribeWorkflowExecution(ctx, id, run)
			if err != nil {
				return failed, fmt.Errorf("describe %s: %w", id, err)
			}
			for _, pa := range desc.GetPendingActivities() {
				who := pa.GetLastWorkerIdentity()
				if pa.GetState() != enumspb.PENDING_ACTIVITY_STATE_STARTED || who == self || !strings.HasSuffix(who, "@"+nodeQueue) {
					continue
				}
				// Retryable: a teardown runs again here (and finds nothing
				// to stop); a start or a load has no attempts left and fails
				// as a restart, so its point is retried and the node, whose
				// worker came back at once, is not charged.
				cause := temporal.NewApplicationError(fmt.Sprintf("the worker of %s that ran this (%s) is gone: it restarted as %s", nodeQueue, who, self), activities.ErrWorkerRestarted)
				if err := c.CompleteActivityByID(ctx, namespace, id, run, pa.GetActivityId(), nil, cause); err != nil {
					return failed, fmt.Errorf("fail %s's activity %s: %w", id, pa.GetActivityId(), err)
				}
				failed++
			}
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			return failed, nil
		}
	}
}
