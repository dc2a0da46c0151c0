package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/examples"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

type demoFlags struct {
	stack     devstack.Options
	spec      string
	runners   string
	settings  string
	timeScale float64
	keep      bool
}

func newDemoCommand(g *globalFlags) *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the example sweep end to end on simulated engines and show the results",
		Long: `demo starts the dev stack (Temporal, Web UI, S3), a control worker and one
worker per node of examples/runners.yaml (each node's local backend launches
'infersweep engine sim' processes), runs examples/sweep.yaml through the durable
SweepWorkflow, and prints the results from the lake. Engines run --time-scale
times faster than real time; every time and rate is reported in simulated units.

The sweep stays in --state-dir: 'infersweep dev' shows it in the UI afterwards,
and 'infersweep results show' reads it. --keep stays up after the sweep.`,
		Example: "  infersweep demo\n  infersweep demo --keep --time-scale 20",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.stack.StateDir, "state-dir", ".infersweep", "directory for the Temporal database and the S3 store")
	fl.BoolVar(&f.stack.Ephemeral, "ephemeral", false, "keep everything in memory")
	fl.IntVar(&f.stack.TemporalPort, "port", 7233, "Temporal frontend gRPC port")
	fl.IntVar(&f.stack.UIPort, "ui-port", 8233, "Temporal Web UI port")
	fl.IntVar(&f.stack.S3Port, "s3-port", 9000, "S3 store port")
	fl.StringVar(&f.spec, "spec", "", "master config to sweep (default: the example built in, examples/sweep.yaml)")
	fl.StringVar(&f.runners, "runners", "", "runners file: one simulated node per entry (default: examples/runners.yaml, built in)")
	fl.StringVar(&f.settings, "settings", "", "infersweep settings (default: examples/settings.yaml, built in)")
	fl.Float64Var(&f.timeScale, "time-scale", 10, "simulated engines run this many times faster than real time (higher values outrun a small machine and distort latencies)")
	fl.BoolVar(&f.keep, "keep", false, "stay up after the sweep (Ctrl-C to stop)")
	return cmd
}

func runDemo(ctx context.Context, out, errOut io.Writer, g *globalFlags, f *demoFlags) error {
	logger, err := g.logger(errOut)
	if err != nil {
		return err
	}
	dir, cleanup, err := examples.Place(f.stack.StateDir, f.stack.Ephemeral)
	if err != nil {
		return err
	}
	defer cleanup()
	f.spec, f.runners, f.settings = examples.Or(f.spec, dir, "sweep.yaml"), examples.Or(f.runners, dir, "runners.yaml"), examples.Or(f.settings, dir, "settings.yaml")
	// Validate the spec before starting anything.
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{f.spec}, Runners: f.runners, Settings: f.settings}, sweep.Filters{})
	if err != nil {
		return usageError{err}
	}
	f.stack.Logger = logger
	started := time.Now()
	fmt.Fprintln(errOut, "starting Temporal, the Web UI and the S3 store…")
	stack, err := startStack(ctx, f.stack, "is `infersweep dev` running?")
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), devShutdownTimeout)
		defer cancel()
		_ = stack.Stop(stopCtx)
	}()
	fleet, err := startDevFleet(ctx, stack, f.runners, logger)
	if err != nil {
		return err
	}
	defer fleet.Stop()
	c, lake, nodes := fleet.Client, fleet.Lake, fleet.Nodes

	date := time.Now().Format("2006-01-02")
	sweepID := "demo-" + date + "-" + shortID()
	fmt.Fprintf(errOut, "stack up in %.1fs, %d simulated nodes; sweeping %s (time scale %g)\n  UI: %s/%s\n",
		time.Since(started).Seconds(), nodes, f.spec, f.timeScale, stack.UIURL, workflows.SweepWorkflowID(sweepID))
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(sweepID), TaskQueue: workflows.ControlQueue}, workflows.SweepWorkflow,
		workflows.SweepInput{SweepID: sweepID, Date: date, Masters: []string{f.spec}, Runners: f.runners, Settings: f.settings, TimeScale: f.timeScale})
	if err != nil {
		return fmt.Errorf("start sweep: %w", err)
	}
	sweepStarted := time.Now()
	result, err := followSweep(ctx, c, run, errOut)
	if err != nil {
		return fmt.Errorf("sweep %s: %w", sweepID, err)
	}
	fmt.Fprintf(out, "\nsweep %s: %v in %s (wall clock)\n\n", sweepID, result.Counts, time.Since(sweepStarted).Round(time.Second))
	if err := printDemoResults(ctx, out, lake, stack, plan.Settings, result); err != nil {
		return err
	}
	if f.keep {
		printDevStack(out, stack, false, time.Since(started))
		<-ctx.Done()
	}
	return nil
}

// printDemoResults shows the sweep's points and report, and where its
// results, analysis and report page are kept.
func printDemoResults(ctx context.Context, out io.Writer, lake *results.Lake, stack *devstack.Stack, settings sweep.Settings, result workflows.SweepResult) error {
	// The sweep analysed itself; the example settings put its targets
	// where the demo's curves are (150 and 200 tok/s/user).
	a := settings.Analysis
	rep, err := analysis.Build(ctx, lake, result.SweepID, analysis.Options{Costs: settings.Hardware, Tier: analysis.Tier(a.Tier), Targets: a.Targets, BaselineNights: a.BaselineNights})
	if err != nil {
		return err
	}
	if err := printSweepTable(out, rep.Rows); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := printReport(out, rep); err != nil {
		return err
	}
	// Beside the stack's state, or in the temp dir for an in-memory stack.
	dir := os.TempDir()
	if stack.StateDir != "" {
		dir = filepath.Join(stack.StateDir, "reports")
	}
	reportPath, err := lake.DownloadReport(ctx, rep.Manifest, dir)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "\nresults:   s3://%s/%s %s\nanalysis:  s3://%s/%s\nreport:    file://%s\nUI:        %s/%s\n", stack.S3.Bucket, result.ManifestKey,
		whereKept(stack, result.SweepID), stack.S3.Bucket, result.AnalysisKey, reportPath, stack.UIURL, workflows.SweepWorkflowID(result.SweepID))
	return err
}

func whereKept(stack *devstack.Stack, sweepID string) string {
	if stack.StateDir == "" {
		return "(in memory: gone when the demo exits)"
	}
	return fmt.Sprintf("(kept in %s: start `infersweep dev`, export what it prints, then `infersweep report %s`)", stack.StateDir, sweepID)
}
