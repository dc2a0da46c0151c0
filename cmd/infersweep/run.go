package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

// followSweep polls a sweep's progress until it ends, drawing one line per
// pool, and returns its result.
func followSweep(ctx context.Context, c client.Client, run client.WorkflowRun, progressOut io.Writer) (workflows.SweepResult, error) {
	done := make(chan struct{})
	var result workflows.SweepResult
	var runErr error
	go func() {
		runErr = run.Get(ctx, &result)
		close(done)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	started := time.Now()
	lastLine := ""
	for {
		select {
		case <-done:
			fmt.Fprintln(progressOut)
			return result, runErr
		case <-ctx.Done():
			fmt.Fprintln(progressOut)
			return result, ctx.Err()
		case <-tick.C:
		}
		line := sweepProgressLine(ctx, c, run.GetID(), time.Since(started))
		if line != lastLine {
			fmt.Fprintf(progressOut, "\r%s", line)
			lastLine = line
		}
	}
}

func sweepProgressLine(ctx context.Context, c client.Client, workflowID string, elapsed time.Duration) string {
	var parent workflows.SweepProgress
	resp, err := c.QueryWorkflow(ctx, workflowID, "", workflows.ProgressQuery)
	if err != nil || resp.Get(&parent) != nil {
		return fmt.Sprintf("planning… %s", elapsed.Truncate(time.Second))
	}
	var parts []string
	var done, total int
	for _, pool := range parent.Pools {
		var p workflows.HardwareProgress
		if r, err := c.QueryWorkflow(ctx, workflowID+"/hw-"+pool, "", workflows.ProgressQuery); err == nil && r.Get(&p) == nil {
			finished := p.Done + p.Failed + p.Skipped
			done += finished
			total += p.Planned
			part := fmt.Sprintf("%s %d/%d", pool, finished, p.Planned)
			if p.Failed+p.Skipped > 0 {
				part += fmt.Sprintf(" (%d failed)", p.Failed+p.Skipped)
			}
			parts = append(parts, part)
		} else if hw, ok := parent.Finished[pool]; ok {
			done += len(hw.Points)
			total += len(hw.Points)
			parts = append(parts, fmt.Sprintf("%s done", pool))
		}
	}
	return fmt.Sprintf("%d/%d points  %s  %s   ", done, parent.Planned, strings.Join(parts, "  "), elapsed.Truncate(time.Second))
}

// printSweepTable shows a committed sweep's points, one line each.
func printSweepTable(out io.Writer, points []results.PointRow) {
	sort.Slice(points, func(i, j int) bool {
		a, b := points[i], points[j]
		if a.Runner != b.Runner {
			return a.Runner < b.Runner
		}
		if a.ISL != b.ISL || a.OSL != b.OSL {
			return a.ISL < b.ISL
		}
		if a.TP != b.TP {
			return a.TP > b.TP
		}
		return a.Conc < b.Conc
	})
	fmt.Fprintf(out, "%-11s %-9s %4s %5s %11s %11s %10s %10s  %s\n", "RUNNER", "ISL/OSL", "TP", "CONC", "tok/s/GPU", "tok/s/user", "TTFT p50", "J/token", "STATUS")
	for _, p := range points {
		status := p.Status
		if p.Error != "" {
			status += ": " + firstLineOf(p.Error)
		}
		fmt.Fprintf(out, "%-11s %-9s %4d %5d %11s %11s %10s %10s  %s\n", p.Runner, sweep.SeqLenName(int(p.ISL))+"/"+sweep.SeqLenName(int(p.OSL)), p.TP, p.Conc,
			num(p.TputPerGPU, "%.0f"), num(p.Interactivity, "%.1f"), num(p.TTFT.Median, "%.0f ms"), num(p.JoulesPerToken, "%.2f"), status)
	}
	if len(points) > 0 && points[0].TimeBasis != "" {
		fmt.Fprintf(out, "times and rates: %s (time scale %g)\n", points[0].TimeBasis, points[0].TimeScale)
	}
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
