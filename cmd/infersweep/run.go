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
	// Agentic rows add their prefix-cache hit rate, the figure that
	// decides them.
	agentic := slices.ContainsFunc(points, func(p results.PointRow) bool { return p.ScenarioType == sweep.ScenarioAgentic })
	hit := func(results.PointRow) string { return "" }
	header := "RUNNER\tWORKLOAD\tLAYOUT\tCONC\ttok/s/GPU\ttok/s/user\tTTFT p50\tJ/token\t"
	if agentic {
		header += "PREFIX HIT\t"
		hit = func(p results.PointRow) string { return prefixHit(p) + "\t" }
	}
	fmt.Fprintln(tw, header+"STATUS")
	for _, p := range points {
		status := p.Status
		if p.Error != "" {
			status += ": " + firstLineOf(p.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s%s\n", p.Runner, sweep.WorkloadName(int(p.ISL), int(p.OSL)), rowLayout(p), p.Conc,
			num(p.TputPerGPU, "%.0f"), num(p.Interactivity, "%.1f"), num(p.TTFT.Median, "%.0f ms"), num(p.JoulesPerToken, "%.2f"), hit(p), status)
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
// topology as upstream names it, and where an agentic point keeps its KV
// cache when not only in HBM.
func rowLayout(p results.PointRow) string {
	layout := p.Topology
	switch {
	case layout != "":
	case p.EP > 1:
		layout = fmt.Sprintf("TP%d EP%d", p.TP, p.EP)
	default:
		layout = fmt.Sprintf("TP%d", p.TP)
	}
	if tag := p.OffloadTag(); tag != "" {
		layout += " " + tag
	}
	return layout
}

// prefixHit is an agentic row's prefix-cache hit rate: the engine's, or
// the client's estimate from the trace marked ≈; n/a for other rows.
func prefixHit(p results.PointRow) string {
	rate, estimated, ok := p.PrefixHitRate()
	switch {
	case !ok:
		return "n/a"
	case estimated:
		return fmt.Sprintf("≈%.0f%%", 100*rate)
	}
	return fmt.Sprintf("%.0f%%", 100*rate)
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
