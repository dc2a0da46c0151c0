package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/sweepctl"
	"github.com/infersweep/infersweep/workers"
	"github.com/infersweep/infersweep/workflows"
)

func newSweepCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Plan and run sweeps from InferenceMAX master configs",
		Example: `  infersweep sweep plan -f examples/sweep.yaml --runners examples/runners.yaml
  infersweep sweep run -f examples/sweep.yaml --runners examples/runners.yaml --settings examples/settings.yaml --wait
  infersweep sweep status SWEEP -o json`,
	}
	cmd.AddCommand(newSweepPlanCommand(g), newSweepRunCommand(g), newSweepStatusCommand(g), newSweepCancelCommand(g), newSweepLsCommand(g),
		newSweepSignalCommand(g, "pause", workflows.PauseSignal, "Stop starting new points; running ones finish"),
		newSweepSignalCommand(g, "resume", workflows.ResumeSignal, "Start points again after a pause"),
		newSweepSignalCommand(g, "retry-failed", workflows.RetryFailedSignal, "Re-run points lost to node faults, quarantine lifted (pools still running or in their failed-window)"))
	return cmd
}

func dialFromEnv(ctx context.Context, g *globalFlags, logOut io.Writer) (client.Client, error) {
	logger, err := g.logger(logOut)
	if err != nil {
		return nil, err
	}
	tcfg, err := workers.LoadTemporalConfig()
	if err != nil {
		return nil, usageError{err}
	}
	return workers.Dial(ctx, tcfg, logger)
}

// dialWithLake dials Temporal and opens the lake: what starting work on
// another machine's control worker needs, since it reads spec files from
// the lake, by content. The caller closes the client.
func dialWithLake(ctx context.Context, g *globalFlags, logOut io.Writer) (client.Client, *results.Lake, error) {
	c, err := dialFromEnv(ctx, g, logOut)
	if err != nil {
		return nil, nil, err
	}
	lake, err := openLake(ctx)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, lake, nil
}

// withTemporal is a command body that talks to Temporal: the output
// format is checked first (a usage error needs no server), then a client
// is dialled from the environment and closed after.
func withTemporal(g *globalFlags, run func(cmd *cobra.Command, args []string, c client.Client, asJSON bool) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		asJSON, err := g.jsonOutput()
		if err != nil {
			return err
		}
		c, err := dialFromEnv(cmd.Context(), g, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		defer c.Close()
		return run(cmd, args, c, asJSON)
	}
}

// sweepWorkflowOf finds a sweep's workflow; a malformed id is the
// caller's to fix.
func sweepWorkflowOf(ctx context.Context, c client.Client, sweepID string) (string, error) {
	id, err := sweepctl.Find(ctx, c, sweepID)
	if errors.Is(err, sweepctl.ErrBadSweepID) {
		return "", usageError{err}
	}
	return id, err
}

func newSweepStatusCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "status SWEEP",
		Short:   "Show a sweep's state and each pool's progress",
		Example: "  infersweep sweep status 2026-11-27-6ad55b -o json",
		Args:    cobra.ExactArgs(1),
		RunE: withTemporal(g, func(cmd *cobra.Command, args []string, c client.Client, asJSON bool) error {
			ctx := cmd.Context()
			id, err := sweepWorkflowOf(ctx, c, args[0])
			if err != nil {
				return err
			}
			st, err := sweepctl.QueryStatus(ctx, c, args[0], id)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, st)
			}
			fmt.Fprintf(out, "sweep %s: %s, %d points planned\n", st.SweepID, st.Status, st.Planned)
			tw := newTable(out)
			for _, pool := range slices.Sorted(maps.Keys(st.Pools)) {
				p := st.Pools[pool]
				fmt.Fprintf(tw, "  %s\t%d/%d done, %d failed, %d skipped, %d running", pool, p.Done, p.Planned, p.Failed, p.Skipped, len(p.Running))
				if len(p.Quarantined) > 0 {
					fmt.Fprintf(tw, ", quarantined: %s", strings.Join(p.Quarantined, ", "))
				}
				fmt.Fprintln(tw)
				for _, node := range p.Quarantined {
					for _, why := range p.Evidence[node] {
						fmt.Fprintf(tw, "\t%s: %s\n", node, why)
					}
				}
			}
			return tw.Flush()
		}),
	}
}

func newSweepCancelCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel SWEEP",
		Short: "Cancel a sweep: running points are torn down, nothing is committed",
		Long: `cancel requests cancellation of the sweep's workflow. Its pools are cancelled
with it (parent-close policy), every running point's engine is torn down on a
disconnected context, and no manifest is written: the sweep stays visible only
to 'results ls --running'.`,
		Example: "  infersweep sweep cancel 2026-11-27-6ad55b",
		Args:    cobra.ExactArgs(1),
		RunE: withTemporal(g, func(cmd *cobra.Command, args []string, c client.Client, _ bool) error {
			ctx := cmd.Context()
			id, err := sweepWorkflowOf(ctx, c, args[0])
			if err != nil {
				return err
			}
			if err := c.CancelWorkflow(ctx, id, ""); err != nil {
				return fmt.Errorf("cancel sweep %s: %w", args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "cancellation requested for sweep %s\n", args[0])
			return err
		}),
	}
}

// newSweepSignalCommand sends a signal to every pool of a sweep.
func newSweepSignalCommand(g *globalFlags, use, signal, short string) *cobra.Command {
	return &cobra.Command{
		Use:     use + " SWEEP",
		Short:   short,
		Example: fmt.Sprintf("  infersweep sweep %s 2026-11-27-6ad55b", use),
		Args:    cobra.ExactArgs(1),
		RunE: withTemporal(g, func(cmd *cobra.Command, args []string, c client.Client, _ bool) error {
			ctx := cmd.Context()
			id, err := sweepWorkflowOf(ctx, c, args[0])
			if err != nil {
				return err
			}
			pools, err := sweepctl.SignalPools(ctx, c, id, signal)
			for _, pool := range pools {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: pool %s\n", use, pool)
			}
			if err != nil {
				return fmt.Errorf("%s sweep %s: %w", use, args[0], err)
			}
			return nil
		}),
	}
}

func newSweepLsCommand(g *globalFlags) *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:     "ls",
		Short:   "List sweeps known to Temporal, newest first",
		Example: "  infersweep sweep ls --date 2026-11-27 -o json",
		Args:    noArgs,
		RunE: withTemporal(g, func(cmd *cobra.Command, _ []string, c client.Client, asJSON bool) error {
			rows, err := sweepctl.ListSweeps(cmd.Context(), c, date)
			if errors.Is(err, sweepctl.ErrBadDate) {
				return usageError{fmt.Errorf("--%w", err)}
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, rows)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "WORKFLOW\tSTATUS\tSTARTED")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.WorkflowID, r.Status, r.Started.Format(time.RFC3339))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&date, "date", "", "only sweeps of this night, YYYY-MM-DD")
	return cmd
}

func newSweepRunCommand(g *globalFlags) *cobra.Command {
	r := &sweepRunFlags{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Start a durable sweep on the Temporal service and its worker pools",
		Long: `run validates the spec here (nothing starts if it is wrong), then starts a
SweepWorkflow at INFERSWEEP_TEMPORAL_*. Workers must be running: 'infersweep dev'
runs a control worker and the example sim pools; a fleet runs 'infersweep worker'.
With --wait it follows progress per pool and prints the results; Ctrl-C only
stops following, the sweep goes on.

--upstream-root DIR renders Dynamo workers from the entries' srt-slurm recipes in
the InferenceX checkout DIR, and keeps the files it read in the lake for the
control worker (which need not have the checkout).

--changed-since SWEEP_OR_DIGEST sweeps the diff: only the points that earlier
sweep did not plan (or that the spec stored in the lake as v1/specs/DIGEST.yaml
does not expand to with these runners and settings): new images, new
search-space points, changed entries.`,
		Example: `  infersweep sweep run -f examples/sweep.yaml --runners examples/runners.yaml \
    --settings examples/settings.yaml --time-scale 10 --wait
  infersweep sweep run -f examples/sweep.yaml --runners examples/runners.yaml --changed-since 2026-11-26-3f2a1c`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return r.run(cmd, g) },
	}
	fl := cmd.Flags()
	fl.StringVar(&r.changedSince, "changed-since", "", "plan only points this sweep id or spec digest did not have")
	r.plan.addFlags(fl)
	fl.StringVar(&r.sweepID, "id", "", "sweep id (default DATE-random)")
	fl.StringVar(&r.date, "date", "", "the night the results belong to, YYYY-MM-DD (default today)")
	fl.Float64Var(&r.timeScale, "time-scale", 1, "simulated engines run this many times faster than real time")
	fl.BoolVar(&r.wait, "wait", false, "follow progress and print the results")
	return cmd
}

// sweepRunFlags are `sweep run`'s: the plan's files and filters, and
// how the sweep is named and followed.
type sweepRunFlags struct {
	plan                        planFlags
	sweepID, date, changedSince string
	timeScale                   float64
	wait                        bool
}

// run validates the spec here, keeps its files (and the upstream
// checkout's recipes it launches from) in the lake, and starts the sweep.
func (r *sweepRunFlags) run(cmd *cobra.Command, g *globalFlags) error {
	ctx := cmd.Context()
	asJSON, err := g.jsonOutput()
	if err != nil {
		return err
	}
	upstream, err := r.plan.recordUpstream()
	if err != nil {
		return err
	}
	if _, err := r.plan.load(); err != nil {
		return err
	}
	if r.date == "" {
		r.date = time.Now().Format("2006-01-02")
	}
	if r.sweepID == "" {
		r.sweepID = r.date + "-" + shortID()
	}
	if err := sweep.CheckName("--id", r.sweepID); err != nil {
		return usageError{err}
	}
	if _, err := time.Parse(time.DateOnly, r.date); err != nil {
		return usageError{fmt.Errorf("--date %q: want YYYY-MM-DD", r.date)}
	}
	c, lake, err := dialWithLake(ctx, g, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer c.Close()
	in := workflows.SweepInput{SweepID: r.sweepID, Date: r.date, Masters: r.plan.src.Masters, Runners: r.plan.src.Runners, Settings: r.plan.src.Settings, Recipes: r.plan.src.Recipes,
		Filters: r.plan.filters, TimeScale: r.timeScale, ChangedSince: r.changedSince}
	if len(upstream) > 0 {
		if in.Upstream, err = lake.PutUpstream(ctx, upstream); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d files kept in the lake (%s)\n", r.plan.src.Upstream, len(upstream), in.Upstream)
	}
	run, err := sweepctl.Start(ctx, c, lake, in, func(path, digest string) { fmt.Fprintf(cmd.ErrOrStderr(), "%s: sha256 %s\n", path, digest) })
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	switch {
	case asJSON && r.wait:
		result, err := followSweep(ctx, c, run, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		return writeJSON(out, result)
	case asJSON:
		return writeJSON(out, map[string]string{"sweep_id": r.sweepID, "workflow_id": run.GetID(), "run_id": run.GetRunID()})
	}
	fmt.Fprintf(out, "started sweep %s (workflow %s)\n", r.sweepID, run.GetID())
	if !r.wait {
		return nil
	}
	return waitAndPrint(ctx, c, lake, run, r.sweepID, out, cmd.ErrOrStderr())
}

// waitAndPrint follows a sweep to its end and prints its points.
func waitAndPrint(ctx context.Context, c client.Client, lake *results.Lake, run client.WorkflowRun, sweepID string, out, progressOut io.Writer) error {
	result, err := followSweep(ctx, c, run, progressOut)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sweep %s: %v\n", sweepID, result.Counts)
	for _, failure := range result.Failures {
		fmt.Fprintf(out, "  %s\n", failure)
	}
	_, rows, err := lake.SweepPoints(ctx, sweepID)
	if err != nil {
		return err
	}
	return printSweepTable(out, rows)
}

// shortID makes sweep ids unique enough for sweeps a person starts and
// short enough to type.
func shortID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
