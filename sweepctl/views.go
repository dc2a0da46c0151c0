package sweepctl

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/workflows"
)

// Summary says in one line how far a sweep got: points finished of
// planned, then each pool's count (or "done" once its workflow ended),
// in the order the sweep started them.
func (p Progress) Summary() string {
	var parts []string
	for _, pool := range p.Pools {
		if hw, ok := p.ByPool[pool]; ok {
			part := fmt.Sprintf("%s %d/%d", pool, hw.Done+hw.Failed+hw.Skipped, hw.Planned)
			if hw.Failed+hw.Skipped > 0 {
				part += fmt.Sprintf(" (%d failed)", hw.Failed+hw.Skipped)
			}
			parts = append(parts, part)
		} else if _, ok := p.Finished[pool]; ok {
			parts = append(parts, pool+" done")
		}
	}
	return fmt.Sprintf("%d/%d points  %s", p.PointsFinished(), p.Planned, strings.Join(parts, "  "))
}

// PointsFinished counts the points that ended, however: what moves while
// a sweep is healthy.
func (p Progress) PointsFinished() int {
	done := 0
	for _, pool := range p.Pools {
		if hw, ok := p.ByPool[pool]; ok {
			done += hw.Done + hw.Failed + hw.Skipped
		} else if hw, ok := p.Finished[pool]; ok {
			done += hw.PointCount()
		}
	}
	return done
}

// NodeState is one node of a pool: free, running a point, or
// quarantined, with the faults charged to it tonight.
type NodeState struct {
	Node     string
	State    string // "free", "quarantined" or "running <point>"
	Evidence []string
}

// NodeStates lists a pool's nodes in its own order, then any node only
// its fault record names (one since dropped from runners.yaml).
func NodeStates(p workflows.HardwareProgress) []NodeState {
	running := map[string]string{}
	for point, node := range p.Running {
		running[node] = point
	}
	nodes := slices.Clone(p.Nodes)
	for _, node := range slices.Sorted(maps.Keys(p.Evidence)) {
		if !slices.Contains(nodes, node) {
			nodes = append(nodes, node)
		}
	}
	out := make([]NodeState, 0, len(nodes))
	for _, node := range nodes {
		state := "free"
		switch {
		case slices.Contains(p.Quarantined, node):
			state = "quarantined"
		case running[node] != "":
			state = "running " + running[node]
		}
		out = append(out, NodeState{Node: node, State: state, Evidence: p.Evidence[node]})
	}
	return out
}

// Status is a sweep's workflow state and each running pool's progress.
type Status struct {
	SweepID  string                                `json:"sweep_id"`
	Workflow string                                `json:"workflow_id"`
	Status   string                                `json:"status"`
	Planned  int                                   `json:"planned"`
	Pools    map[string]workflows.HardwareProgress `json:"pools"`
}

// QueryStatus describes a sweep's workflow (found with Find) and asks it
// for progress; a sweep that cannot answer (still planning, or ended)
// shows no pools.
func QueryStatus(ctx context.Context, c client.Client, sweepID, workflowID string) (Status, error) {
	desc, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return Status{}, fmt.Errorf("sweep %s: %w", sweepID, err)
	}
	st := Status{SweepID: sweepID, Workflow: workflowID, Status: desc.GetWorkflowExecutionInfo().GetStatus().String(), Pools: map[string]workflows.HardwareProgress{}}
	if p, err := QueryProgress(ctx, c, workflowID); err == nil {
		st.Planned, st.Pools = p.Planned, p.ByPool
	}
	return st, nil
}

// SweepRun is one sweep workflow as `sweep ls` lists it.
type SweepRun struct {
	WorkflowID string    `json:"workflow_id"`
	Status     string    `json:"status"`
	Started    time.Time `json:"started"`
}

// ListSweeps lists sweep workflows, newest first as Temporal returns
// them, only those of one night when date (YYYY-MM-DD) is set.
func ListSweeps(ctx context.Context, c client.Client, date string) ([]SweepRun, error) {
	query, err := sweepsQuery(date)
	if err != nil {
		return nil, err
	}
	execs, err := List(ctx, c, query)
	if err != nil {
		return nil, err
	}
	rows := make([]SweepRun, 0, len(execs))
	for _, e := range execs {
		rows = append(rows, SweepRun{e.GetExecution().GetWorkflowId(), e.GetStatus().String(), e.GetStartTime().AsTime()})
	}
	return rows, nil
}

// ErrBadDate is wrapped by ListSweeps for a date that is not YYYY-MM-DD.
var ErrBadDate = errors.New("date")

// sweepsQuery is the visibility query of ListSweeps; the date is checked
// first, since it is spliced into the query.
func sweepsQuery(date string) (string, error) {
	query := "WorkflowType = 'SweepWorkflow'"
	if date == "" {
		return query, nil
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", fmt.Errorf("%w %q: want YYYY-MM-DD", ErrBadDate, date)
	}
	return query + fmt.Sprintf(" AND SweepDate = '%s'", date), nil
}
