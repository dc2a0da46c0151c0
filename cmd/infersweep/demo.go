package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/devfleet"
	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/workflows"
)

type demoFlags struct {
	stack     devstack.Options
	spec      string
	runners   string
	settings  string
	timeScale float64
	keep      bool
	export    string
	backend   backendFlags
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

--backend docker runs every engine as a container of the simulated engine's
image (built from this binary when the Docker engine lacks it); --backend slurm
submits every engine as a Slurm job (deploy/slurm/local-cluster.sh up makes a
cluster on this machine).

--spec runs any master config instead: without --runners, each runner label it
names becomes a pool of simulated nodes sized to its widest deployment
(examples/disagg.yaml is a disaggregated and an aggregated multinode sweep).
--export DIR mirrors the sweep's lake files into DIR, laid out as
'infersweep results pull' lays them out, for DuckDB or pandas.

The sweep stays in --state-dir: 'infersweep dev' shows it in the UI afterwards,
and 'infersweep results show' reads it. --keep stays up after the sweep.`,
		Example: "  infersweep demo\n  infersweep demo --keep --time-scale 20\n  infersweep demo --backend docker\n" +
			"  infersweep demo --spec examples/disagg.yaml --export ./lake",
		Args: noArgs,
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
	fl.StringVar(&f.export, "export", "", "mirror the sweep's lake files into this directory")
	f.backend.register(fl)
	return cmd
}

func runDemo(ctx context.Context, out, errOut io.Writer, g *globalFlags, f *demoFlags) error {
	logger, err := g.logger(errOut)
	if err != nil {
		return err
	}
	setup := workerSetup(nil, logger)
	if setup.Launcher, err = f.backend.launcher(ctx, errOut, true); err != nil {
		return err
	}
	fmt.Fprintln(errOut, "starting Temporal, the Web UI and the S3 store…")
	fleet, err := startFleet(ctx, devfleet.Options{Stack: f.stack, Setup: setup, Runners: f.runners, Demo: true, Spec: f.spec, Settings: f.settings},
		"is `infersweep dev` running?")
	if err != nil {
		return err
	}
	defer func() { _ = fleet.Stop(ctx) }()
	date := time.Now().Format("2006-01-02")
	sweepID := "demo-" + date + "-" + shortID()
	fmt.Fprintf(errOut, "stack up in %.1fs, %d simulated nodes (--backend %s); sweeping %s (time scale %g)\n  UI: %s/%s\n",
		fleet.StackStartup.Seconds(), fleet.Workers.Nodes, f.backend.backend, fleet.Spec, f.timeScale, fleet.Stack.UIURL, workflows.SweepWorkflowID(sweepID))
	run, err := fleet.StartDemoSweep(ctx, sweepID, date, f.timeScale)
	if err != nil {
		return err
	}
	sweepStarted := time.Now()
	result, err := followSweep(ctx, fleet.Workers.Client, run, errOut)
	if err != nil {
		return fmt.Errorf("sweep %s: %w", sweepID, err)
	}
	fmt.Fprintf(out, "\nsweep %s: %v in %s (wall clock)\n\n", sweepID, result.Counts, time.Since(sweepStarted).Round(time.Second))
	if err := printDemoResults(ctx, out, fleet, result); err != nil {
		return err
	}
	if f.export != "" {
		n, err := fleet.Workers.Lake.PullSweep(ctx, f.export, sweepID)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fmt.Fprintf(out, "exported:  %d files into %s\n", n, f.export)
	}
	if f.keep {
		printDevStack(out, fleet.Stack, false, fleet.StackStartup)
		<-ctx.Done()
	}
	return nil
}

// printDemoResults shows the sweep's points and report, and where its
// results, analysis and report page are kept.
func printDemoResults(ctx context.Context, out io.Writer, fleet *devfleet.Fleet, result workflows.SweepResult) error {
	rep, page, err := fleet.DemoReport(ctx, result.SweepID)
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
	stack := fleet.Stack
	_, err = fmt.Fprintf(out, "\nresults:   s3://%s/%s %s\nanalysis:  s3://%s/%s\nreport:    file://%s\nUI:        %s/%s\n", stack.S3.Bucket, result.ManifestKey,
		whereKept(stack, result.SweepID), stack.S3.Bucket, result.AnalysisKey, page, stack.UIURL, workflows.SweepWorkflowID(result.SweepID))
	return err
}

func whereKept(stack *devstack.Stack, sweepID string) string {
	if stack.StateDir == "" {
		return "(in memory: gone when the demo exits)"
	}
	return fmt.Sprintf("(kept in %s: start `infersweep dev`, export what it prints, then `infersweep report %s`)", stack.StateDir, sweepID)
}
