package sweepctl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

// PoolRun is one running pool workflow and what its progress query says.
type PoolRun struct {
	Workflow string                     `json:"workflow_id"`
	Progress workflows.HardwareProgress `json:"progress"`
}

// ErrBadLabel is wrapped by RunningPools for a label no pool can have.
var ErrBadLabel = errors.New("pool")

// RunningPools finds the running pool workflows of a runner label (or
// pool name), one per sweep, through the Hardware search attribute.
func RunningPools(ctx context.Context, c client.Client, label string) ([]PoolRun, error) {
	if err := sweep.CheckLabel(sweep.RunnerLabel(sweep.PoolName(label))); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLabel, err)
	}
	query := fmt.Sprintf("WorkflowType = 'HardwareSweepWorkflow' AND Hardware = '%s' AND ExecutionStatus = 'Running'", sweep.PoolName(label))
	execs, err := List(ctx, c, query)
	if err != nil {
		return nil, fmt.Errorf("pool %s: %w", label, err)
	}
	out := make([]PoolRun, 0, len(execs))
	for _, e := range execs {
		run := PoolRun{Workflow: e.GetExecution().GetWorkflowId()}
		q, err := c.QueryWorkflow(ctx, run.Workflow, "", workflows.ProgressQuery)
		if err != nil {
			return nil, fmt.Errorf("pool %s: query %s: %w", label, run.Workflow, err)
		}
		if err := q.Get(&run.Progress); err != nil {
			return nil, err
		}
		out = append(out, run)
	}
	return out, nil
}

// Follow polls a sweep's progress every tick until it ends, calling
// onProgress with each answer or the query's error (a sweep still
// planning cannot answer yet), and returns the sweep's result.
func Follow(ctx context.Context, c client.Client, run client.WorkflowRun, tick time.Duration, onProgress func(Progress, error)) (workflows.SweepResult, error) {
	done := make(chan struct{})
	var result workflows.SweepResult
	var runErr error
	go func() {
		runErr = run.Get(ctx, &result)
		close(done)
	}()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return result, runErr
		case <-ctx.Done():
			return result, ctx.Err()
		case <-ticker.C:
		}
		onProgress(QueryProgress(ctx, c, run.GetID()))
	}
}
