package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/sweepctl"
	"github.com/infersweep/infersweep/workflows"
)

// followSweep follows a sweep until it ends, redrawing one line of
// progress per pool, and returns its result.
func followSweep(ctx context.Context, c client.Client, run client.WorkflowRun, progressOut io.Writer) (workflows.SweepResult, error) {
	started, lastLine := time.Now(), ""
	result, err := sweepctl.Follow(ctx, c, run, time.Second, func(p sweepctl.Progress, err error) {
		line := progressLine(p, err, time.Since(started).Truncate(time.Second))
		if line != lastLine {
			fmt.Fprintf(progressOut, "\r%s", line)
			lastLine = line
		}
	})
	fmt.Fprintln(progressOut)
	return result, err
}

func progressLine(p sweepctl.Progress, err error, elapsed time.Duration) string {
	if err != nil {
		return fmt.Sprintf("planning… %s", elapsed)
	}
	return fmt.Sprintf("%s  %s   ", p.Summary(), elapsed)
}

// printSweepTable shows a committed sweep's points, one line each.
func printSweepTable(out io.Writer, points []results.PointRow) error {
	slices.SortFunc(points, func(a, b results.PointRow) int {
		return cmp.Or(strings.Compare(a.Runner, b.Runner), cmp.Compare(a.ISL, b.ISL), cmp.Compare(a.OSL, b.OSL),
			cmp.Compare(b.TP, a.TP), cmp.Compare(a.Conc, b.Conc), strings.Compare(a.Entry, b.Entry), strings.Compare(a.PointID, b.PointID))
	})
	tw := newTable(out)
	fmt.Fprintln(tw, "RUNNER\tISL/OSL\tLAYOUT\tCONC\ttok/s/GPU\ttok/s/user\tTTFT p50\tJ/token\tSTATUS")
	for _, p := range points {
		status := p.Status
		if p.Error != "" {
			status += ": " + firstLineOf(p.Error)
		}
		fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Runner, sweep.SeqLenName(int(p.ISL)), sweep.SeqLenName(int(p.OSL)), rowLayout(p), p.Conc,
			num(p.TputPerGPU, "%.0f"), num(p.Interactivity, "%.1f"), num(p.TTFT.Median, "%.0f ms"), num(p.JoulesPerToken, "%.2f"), status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(points) > 0 && points[0].TimeBasis != "" {
		fmt.Fprintf(out, "times and rates: %s (time scale %g)\n", points[0].TimeBasis, points[0].TimeScale)
	}
	return nil
}

// rowLayout is a point's parallelism: TP8 (EP8), or a deployment's
// topology as upstream names it.
func rowLayout(p results.PointRow) string {
	if p.Topology != "" {
		return p.Topology
	}
	if p.EP > 1 {
		return fmt.Sprintf("TP%d EP%d", p.TP, p.EP)
	}
	return fmt.Sprintf("TP%d", p.TP)
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
