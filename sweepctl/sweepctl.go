// Package sweepctl is the client side of durable sweeps: it starts them
// with their spec files kept in the lake, finds a sweep's workflow by its
// id, queries and follows its progress (summed up per pool and per node),
// signals its pools, and lists sweeps and the pool workflows of a runner
// label, following every page. It is what `infersweep sweep`, `pool` and
// the demo ask of Temporal.
package sweepctl

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

// List returns every workflow execution a visibility query matches,
// following the next page token to the end.
func List(ctx context.Context, c client.Client, query string) ([]*workflowpb.WorkflowExecutionInfo, error) {
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetExecutions()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// ErrBadSweepID is wrapped by Find for an id a sweep cannot have.
var ErrBadSweepID = errors.New("bad sweep id")

// Find returns a sweep's workflow id: sweep-<id> when `sweep run` started
// it, else the one a schedule started (Temporal names those after the
// schedule and time), found by its SweepId search attribute.
func Find(ctx context.Context, c client.Client, sweepID string) (string, error) {
	if err := sweep.CheckName("sweep id", sweepID); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadSweepID, err)
	}
	id := workflows.SweepWorkflowID(sweepID)
	_, err := c.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		return id, nil // found, or an error the caller reports with its id
	}
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("SweepId = '%s' AND WorkflowType = 'SweepWorkflow'", sweepID), PageSize: 1,
	})
	if err != nil {
		return "", fmt.Errorf("sweep %s: %w", sweepID, err)
	}
	if len(resp.GetExecutions()) == 0 {
		return "", fmt.Errorf("sweep %s: no workflow %s, and none with SweepId %q", sweepID, id, sweepID)
	}
	return resp.GetExecutions()[0].GetExecution().GetWorkflowId(), nil
}

// Progress is what a sweep's workflow and its running pools say.
type Progress struct {
	workflows.SweepProgress
	// ByPool is each pool's own answer; a pool whose workflow no longer
	// answers is left out (Finished may still have it).
	ByPool map[string]workflows.HardwareProgress
}

// QueryProgress asks a sweep's workflow and each of its pools for their
// progress.
func QueryProgress(ctx context.Context, c client.Client, workflowID string) (Progress, error) {
	p := Progress{ByPool: map[string]workflows.HardwareProgress{}}
	resp, err := c.QueryWorkflow(ctx, workflowID, "", workflows.ProgressQuery)
	if err != nil {
		return p, err
	}
	if err := resp.Get(&p.SweepProgress); err != nil {
		return p, err
	}
	for _, pool := range p.Pools {
		var hw workflows.HardwareProgress
		if r, err := c.QueryWorkflow(ctx, workflows.PoolWorkflowID(workflowID, pool), "", workflows.ProgressQuery); err == nil && r.Get(&hw) == nil {
			p.ByPool[pool] = hw
		}
	}
	return p, nil
}

// SignalPools sends a signal to every pool of a sweep still running and
// returns the pools signalled.
func SignalPools(ctx context.Context, c client.Client, workflowID, signal string) ([]string, error) {
	resp, err := c.QueryWorkflow(ctx, workflowID, "", workflows.ProgressQuery)
	if err != nil {
		return nil, err
	}
	var progress workflows.SweepProgress
	if err := resp.Get(&progress); err != nil {
		return nil, err
	}
	var signalled []string
	for _, pool := range progress.Pools {
		if _, done := progress.Finished[pool]; done {
			continue
		}
		if err := c.SignalWorkflow(ctx, workflows.PoolWorkflowID(workflowID, pool), "", signal, nil); err != nil {
			return signalled, fmt.Errorf("pool %s: %w", pool, err)
		}
		signalled = append(signalled, pool)
	}
	return signalled, nil
}

// Start keeps the spec files in the lake by content (the control worker
// may run on another machine) and starts the sweep's workflow. in names
// local files; uploaded is called with each file's path and digest.
func Start(ctx context.Context, c client.Client, lake *results.Lake, in workflows.SweepInput, uploaded func(path, digest string)) (client.WorkflowRun, error) {
	upload := func(path *string) error {
		if *path == "" {
			return nil
		}
		data, err := os.ReadFile(*path)
		if err != nil {
			return err
		}
		ref, digest, err := lake.PutSpec(ctx, data)
		if err != nil {
			return err
		}
		in.SpecDigests = append(in.SpecDigests, digest)
		uploaded(*path, digest)
		*path = ref
		return nil
	}
	in.Masters = append([]string(nil), in.Masters...)
	for i := range in.Masters {
		if err := upload(&in.Masters[i]); err != nil {
			return nil, err
		}
	}
	in.Recipes = append([]string(nil), in.Recipes...)
	for i := range in.Recipes {
		if err := upload(&in.Recipes[i]); err != nil {
			return nil, err
		}
	}
	for _, path := range []*string{&in.Runners, &in.Settings, &in.Filters.Changelog.File} {
		if err := upload(path); err != nil {
			return nil, err
		}
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(in.SweepID), TaskQueue: workflows.ControlQueue}, workflows.SweepWorkflow, in)
	if err != nil {
		return nil, fmt.Errorf("start sweep: %w", err)
	}
	return run, nil
}
