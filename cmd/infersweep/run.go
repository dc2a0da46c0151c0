package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
	"github.com/infersweep/infersweep/workflows"
)

// fleet is a set of started workers, stopped together.
type fleet []worker.Worker

func (f fleet) stop() {
	for _, w := range f {
		w.Stop()
	}
}

// workerSetup is what every worker of a process shares.
type workerSetup struct {
	lake       *results.Lake
	logger     *slog.Logger
	metrics    *workers.Metrics // nil: none served
	versioning workers.Versioning
}

func newActivities(s workerSetup) (*activities.Activities, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary for the simulated engine: %w", err)
	}
	v := readVersionInfo()
	acts := &activities.Activities{Lake: s.lake, Launcher: &launch.Local{Self: self}, Version: v.Version + " " + v.Commit, Logger: s.logger}
	if s.metrics != nil {
		acts.Metrics = s.metrics
	}
	return acts, nil
}

// startControl runs the control worker.
func startControl(c client.Client, s workerSetup) (fleet, error) {
	acts, err := newActivities(s)
	if err != nil {
		return nil, err
	}
	if acts.Alerts, err = activities.LoadAlertConfig(); err != nil {
		return nil, err
	}
	w := workers.NewControl(c, acts, s.versioning)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start control worker: %w", err)
	}
	return fleet{w}, nil
}

// startNode runs one node of a pool; a nil launcher means the local backend.
func startNode(c client.Client, s workerSetup, label, node string, launcher activities.Launcher) (fleet, error) {
	s.logger = s.logger.With("pool", label, "node", node)
	acts, err := newActivities(s)
	if err != nil {
		return nil, err
	}
	if launcher != nil {
		acts.Launcher = launcher
	}
	// A GPU node samples its own power; elsewhere the engine's metric is used.
	if _, err := exec.LookPath("nvidia-smi"); err == nil {
		acts.Power = activities.NvidiaSMI{Exec: launch.ExecRunner{}}
	} else if _, err := exec.LookPath("amd-smi"); err == nil {
		acts.Power = activities.AMDSMI{Exec: launch.ExecRunner{}}
	}
	acts.Node, acts.NodeQueue = node, sweep.NodeQueue(label, node)
	var started fleet
	for _, w := range workers.NewNode(c, label, acts, s.versioning) {
		if err := w.Start(); err != nil {
			started.stop()
			return nil, fmt.Errorf("start worker for %s/%s: %w", label, node, err)
		}
		started = append(started, w)
	}
	return started, nil
}

// startPools runs every node of every pool in a runners file, in this
// process: the dev stack's simulated fleet.
func startPools(c client.Client, s workerSetup, runnersFile string) (fleet, int, error) {
	data, err := os.ReadFile(runnersFile)
	if err != nil {
		return nil, 0, usageError{err}
	}
	runners, errs := sweep.ParseRunners(runnersFile, data)
	if err := errs.Err(); err != nil {
		return nil, 0, usageError{err}
	}
	labels := make([]string, 0, len(runners.Labels))
	for l := range runners.Labels {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	var all fleet
	nodes := 0
	for _, label := range labels {
		for _, node := range runners.Labels[label] {
			f, err := startNode(c, s, label, node, nil)
			if err != nil {
				all.stop()
				return nil, 0, err
			}
			all = append(all, f...)
			nodes++
		}
	}
	return all, nodes, nil
}

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
			done += hw.PointCount()
			total += hw.PointCount()
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
