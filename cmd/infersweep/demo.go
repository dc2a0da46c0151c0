package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/devfleet"
	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/workflows"
)

type demoFlags struct {
	stack    devstack.Options
	specs    []string
	runners  string
	simulate bool
	filterFlags
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
--simulate previews a real night before it touches a GPU: --runners is then
the real fleet (upstream's runners.yaml), the spec and filters (upstream's
generator filters, as 'sweep plan' takes them) select the points exactly as
they would there, each runner label becomes a pool of simulated nodes of its
hardware sized to its widest deployment, and the demo ends with what the night
would take on that fleet: GPU-hours and node-hours of load per pool, engine
starts, and the shortest night the fleet's runners could run it in.

--export DIR mirrors the sweep's lake files into DIR, laid out as
'infersweep results pull' lays them out, for DuckDB or pandas.

The sweep stays in --state-dir: 'infersweep dev' shows it in the UI afterwards,
and 'infersweep results show' reads it. --keep stays up after the sweep.`,
		Example: "  infersweep demo\n  infersweep demo --keep --time-scale 20\n  infersweep demo --backend docker\n" +
			"  infersweep demo --spec examples/disagg.yaml --export ./lake\n\n" +
			"  # preview what InferenceX's gpt-oss MI355X rows would cost tonight\n" +
			"  infersweep demo --simulate --spec configs/amd-master.yaml --runners configs/runners.yaml \\\n" +
			"    --config-keys 'gptoss-fp4-mi355x-*' --seq-lens 1k1k --max-conc 16 --no-evals",
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
	fl.StringArrayVar(&f.specs, "spec", nil, "master config to sweep, repeatable (default: the example built in, examples/sweep.yaml)")
	fl.StringVar(&f.runners, "runners", "", "runners file: one simulated node per entry (default: examples/runners.yaml, built in)")
	fl.StringVar(&f.settings, "settings", "", "infersweep settings (default: examples/settings.yaml, built in)")
	fl.Float64Var(&f.timeScale, "time-scale", 10, "simulated engines run this many times faster than real time (higher values outrun a small machine and distort latencies)")
	fl.BoolVar(&f.keep, "keep", false, "stay up after the sweep (Ctrl-C to stop)")
	fl.StringVar(&f.export, "export", "", "mirror the sweep's lake files into this directory")
	fl.BoolVar(&f.simulate, "simulate", false, "take --runners as the real fleet: simulate its pools and print what the night would cost there")
	f.filterFlags.addFlags(fl)
	f.backend.register(fl)
	return cmd
}

func runDemo(ctx context.Context, out, errOut io.Writer, g *globalFlags, f *demoFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	logger, err := g.logger(errOut)
	if err != nil {
		return err
	}
	setup := workerSetup(nil, logger)
	if setup.Launcher, err = f.backend.launcher(ctx, errOut, true); err != nil {
		return err
	}
	fmt.Fprintln(errOut, "starting Temporal, the Web UI and the S3 store…")
	fleet, err := startFleet(ctx, devfleet.Options{Stack: f.stack, Setup: setup, Runners: f.runners, Demo: true, Specs: f.specs, Settings: f.settings,
		Filters: f.filters, Simulate: f.simulate},
		"is `infersweep dev` running?")
	if err != nil {
		return err
	}
	defer func() { _ = fleet.Stop(ctx) }()
	date := time.Now().Format("2006-01-02")
	sweepID := "demo-" + date + "-" + shortID()
	fmt.Fprintf(errOut, "stack up in %.1fs, %d simulated nodes (--backend %s); sweeping %s (time scale %g)\n  UI: %s/%s\n",
		fleet.StackStartup.Seconds(), fleet.Workers.Nodes, f.backend.backend, strings.Join(fleet.Specs, ", "), f.timeScale, fleet.Stack.UIURL, workflows.SweepWorkflowID(sweepID))
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
	rows, err := printDemoResults(ctx, out, fleet, result)
	if err != nil {
		return err
	}
	if f.simulate {
		if err := printNightCost(out, analysis.NightCost(rows, fleet.RealRunners)); err != nil {
			return err
		}
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
// results, analysis and report page are kept; it returns the sweep's rows.
func printDemoResults(ctx context.Context, out io.Writer, fleet *devfleet.Fleet, result workflows.SweepResult) ([]results.PointRow, error) {
	rep, page, err := fleet.DemoReport(ctx, result.SweepID)
	if err != nil {
		return nil, err
	}
	if err := printSweepTable(out, rep.Rows); err != nil {
		return nil, err
	}
	fmt.Fprintln(out)
	if err := printReport(out, rep); err != nil {
		return nil, err
	}
	stack := fleet.Stack
	_, err = fmt.Fprintf(out, "\nresults:   s3://%s/%s %s\nanalysis:  s3://%s/%s\nreport:    file://%s\nUI:        %s/%s\n", stack.S3.Bucket, result.ManifestKey,
		whereKept(stack, result.SweepID), stack.S3.Bucket, result.AnalysisKey, page, stack.UIURL, workflows.SweepWorkflowID(result.SweepID))
	return rep.Rows, err
}

func whereKept(stack *devstack.Stack, sweepID string) string {
	if stack.StateDir == "" {
		return "(in memory: gone when the demo exits)"
	}
	return fmt.Sprintf("(kept in %s: start `infersweep dev`, export what it prints, then `infersweep report %s`)", stack.StateDir, sweepID)
}
