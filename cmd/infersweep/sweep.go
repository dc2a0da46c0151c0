package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/sweep"
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

// sweepWorkflowOf finds a sweep's workflow: sweep-<id> when `sweep run`
// started it, else the one a schedule started (Temporal names those after
// the schedule and time), found by its SweepId search attribute.
func sweepWorkflowOf(ctx context.Context, c client.Client, sweepID string) (string, error) {
	if err := sweep.CheckName("sweep id", sweepID); err != nil {
		return "", usageError{err}
	}
	id := workflows.SweepWorkflowID(sweepID)
	_, err := c.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		return id, nil // found, or an error the caller reports with its id
	}
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("SweepId = '%s' AND WorkflowType = 'SweepWorkflow'", sweepID),
	})
	if err != nil {
		return "", fmt.Errorf("sweep %s: %w", sweepID, err)
	}
	if len(resp.GetExecutions()) == 0 {
		return "", fmt.Errorf("sweep %s: no workflow %s, and none with SweepId %q", sweepID, id, sweepID)
	}
	return resp.GetExecutions()[0].GetExecution().GetWorkflowId(), nil
}

// sweepStatus is what `sweep status` reports.
type sweepStatus struct {
	SweepID  string                                `json:"sweep_id"`
	Workflow string                                `json:"workflow_id"`
	Status   string                                `json:"status"`
	Planned  int                                   `json:"planned"`
	Pools    map[string]workflows.HardwareProgress `json:"pools"`
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
			desc, err := c.DescribeWorkflowExecution(ctx, id, "")
			if err != nil {
				return fmt.Errorf("sweep %s: %w", args[0], err)
			}
			st := sweepStatus{SweepID: args[0], Workflow: id, Status: desc.GetWorkflowExecutionInfo().GetStatus().String(), Pools: map[string]workflows.HardwareProgress{}}
			var parent workflows.SweepProgress
			if resp, err := c.QueryWorkflow(ctx, id, "", workflows.ProgressQuery); err == nil && resp.Get(&parent) == nil {
				st.Planned = parent.Planned
				for _, pool := range parent.Pools {
					var p workflows.HardwareProgress
					if r, err := c.QueryWorkflow(ctx, id+"/hw-"+pool, "", workflows.ProgressQuery); err == nil && r.Get(&p) == nil {
						st.Pools[pool] = p
					}
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, st)
			}
			fmt.Fprintf(out, "sweep %s: %s, %d points planned\n", st.SweepID, st.Status, st.Planned)
			pools := make([]string, 0, len(st.Pools))
			for pool := range st.Pools {
				pools = append(pools, pool)
			}
			sort.Strings(pools)
			for _, pool := range pools {
				p := st.Pools[pool]
				fmt.Fprintf(out, "  %-12s %d/%d done, %d failed, %d skipped, %d running", pool, p.Done, p.Planned, p.Failed, p.Skipped, len(p.Running))
				if len(p.Quarantined) > 0 {
					fmt.Fprintf(out, ", quarantined: %s", strings.Join(p.Quarantined, ", "))
				}
				fmt.Fprintln(out)
			}
			return nil
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
			resp, err := c.QueryWorkflow(ctx, id, "", workflows.ProgressQuery)
			if err != nil {
				return fmt.Errorf("sweep %s: %w", args[0], err)
			}
			var progress workflows.SweepProgress
			if err := resp.Get(&progress); err != nil {
				return err
			}
			for _, pool := range progress.Pools {
				if _, done := progress.Finished[pool]; done {
					continue
				}
				if err := c.SignalWorkflow(ctx, id+"/hw-"+pool, "", signal, nil); err != nil {
					return fmt.Errorf("%s pool %s: %w", use, pool, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: pool %s\n", use, pool)
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
			ctx := cmd.Context()
			query := "WorkflowType = 'SweepWorkflow'"
			if date != "" {
				query += fmt.Sprintf(" AND SweepDate = '%s'", date)
			}
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
			if err != nil {
				return err
			}
			type row struct {
				WorkflowID string    `json:"workflow_id"`
				Status     string    `json:"status"`
				Started    time.Time `json:"started"`
			}
			var rows []row
			for _, e := range resp.GetExecutions() {
				rows = append(rows, row{e.GetExecution().GetWorkflowId(), e.GetStatus().String(), e.GetStartTime().AsTime()})
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, rows)
			}
			for _, r := range rows {
				fmt.Fprintf(out, "%-44s %-12s %s\n", r.WorkflowID, r.Status, r.Started.Format(time.RFC3339))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&date, "date", "", "only sweeps of this night, YYYY-MM-DD")
	return cmd
}

func newSweepRunCommand(g *globalFlags) *cobra.Command {
	f := &planFlags{}
	var sweepID, date, changedSince string
	var timeScale float64
	var wait bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Start a durable sweep on the Temporal service and its worker pools",
		Long: `run validates the spec here (nothing starts if it is wrong), then starts a
SweepWorkflow at INFERSWEEP_TEMPORAL_*. Workers must be running: 'infersweep dev'
runs a control worker and the example sim pools; a fleet runs 'infersweep worker'.
With --wait it follows progress per pool and prints the results; Ctrl-C only
stops following, the sweep goes on.

--changed-since SWEEP_OR_DIGEST sweeps the diff: only the points that earlier
sweep did not plan (or that the spec stored in the lake as v1/specs/DIGEST.yaml
does not expand to with these runners and settings): new images, new
search-space points, changed entries.`,
		Example: `  infersweep sweep run -f examples/sweep.yaml --runners examples/runners.yaml \
    --settings examples/settings.yaml --time-scale 10 --wait
  infersweep sweep run -f examples/sweep.yaml --runners examples/runners.yaml --changed-since 2026-11-26-3f2a1c`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if _, err := sweep.LoadPlan(f.src, f.filters); err != nil {
				return usageError{err}
			}
			if date == "" {
				date = time.Now().Format("2006-01-02")
			}
			if sweepID == "" {
				sweepID = date + "-" + shortID()
			}
			if err := sweep.CheckName("--id", sweepID); err != nil {
				return usageError{err}
			}
			if _, err := time.Parse(time.DateOnly, date); err != nil {
				return usageError{fmt.Errorf("--date %q: want YYYY-MM-DD", date)}
			}
			c, err := dialFromEnv(ctx, g, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer c.Close()
			seqLens, err := sweep.ParseSeqLens(f.seqLens)
			if err != nil {
				return usageError{err}
			}
			f.filters.SeqLens = seqLens
			// The control worker may run on another machine: it reads the
			// spec files from the lake, by content.
			lake, err := openLake(ctx)
			if err != nil {
				return err
			}
			in := workflows.SweepInput{SweepID: sweepID, Date: date, Filters: f.filters, TimeScale: timeScale, ChangedSince: changedSince}
			upload := func(path string) (string, error) {
				if path == "" {
					return "", nil
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return "", usageError{err}
				}
				ref, digest, err := lake.PutSpec(ctx, data)
				if err == nil {
					in.SpecDigests = append(in.SpecDigests, digest)
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: sha256 %s\n", path, digest)
				}
				return ref, err
			}
			for _, m := range f.src.Masters {
				ref, err := upload(m)
				if err != nil {
					return err
				}
				in.Masters = append(in.Masters, ref)
			}
			if in.Runners, err = upload(f.src.Runners); err != nil {
				return err
			}
			if in.Settings, err = upload(f.src.Settings); err != nil {
				return err
			}
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(sweepID), TaskQueue: workflows.ControlQueue},
				workflows.SweepWorkflow, in)
			if err != nil {
				return fmt.Errorf("start sweep: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "started sweep %s (workflow %s)\n", sweepID, run.GetID())
			if !wait {
				return nil
			}
			result, err := followSweep(ctx, c, run, cmd.ErrOrStderr())
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
			printSweepTable(out, rows)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&changedSince, "changed-since", "", "plan only points this sweep id or spec digest did not have")
	fl.StringArrayVarP(&f.src.Masters, "file", "f", nil, "master config (repeatable)")
	fl.StringVar(&f.src.Runners, "runners", "", "runners.yaml")
	fl.StringVar(&f.src.Settings, "settings", "", "infersweep settings")
	fl.StringVar(&f.seqLens, "seq-lens", "", "keep these lengths, e.g. 1k1k,8k1k")
	fl.StringSliceVar(&f.filters.Runners, "runner-type", nil, "keep these runner labels")
	fl.StringSliceVar(&f.filters.ConfigKeys, "config-keys", nil, "entry-name globs")
	fl.IntVar(&f.filters.MaxConc, "max-conc", 0, "drop concurrencies above")
	fl.StringVar(&sweepID, "id", "", "sweep id (default DATE-random)")
	fl.StringVar(&date, "date", "", "the night the results belong to, YYYY-MM-DD (default today)")
	fl.Float64Var(&timeScale, "time-scale", 1, "simulated engines run this many times faster than real time")
	fl.BoolVar(&wait, "wait", false, "follow progress and print the results")
	return cmd
}

type planFlags struct {
	src      sweep.Sources
	filters  sweep.Filters
	seqLens  string
	validate bool
}

func newSweepPlanCommand(g *globalFlags) *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Validate master configs and list the points they expand to",
		Long: `plan reads InferenceMAX master configs (configs/nvidia-master.yaml,
configs/amd-master.yaml) and runners.yaml unchanged, checks them — every error,
each as file:line:col: entry.path: problem — and expands them to points the way
InferenceMAX's generator does: concurrency from conc-start, doubling (or
--step-size), always ending at conc-end; max-model-len = isl + osl + 256; a
stable id per point from its normalized config.

It exits 2 and lists every error when any file is wrong; nothing is planned.
-o text (a table and counts), -o json or -o yaml (the points).`,
		Example: `  infersweep sweep plan -f examples/sweep.yaml --runners examples/runners.yaml

  # InferenceMAX's own files, H200 only, 1k1k and 8k1k up to concurrency 64
  infersweep sweep plan -f configs/nvidia-master.yaml -f configs/amd-master.yaml \
    --runners configs/runners.yaml --runner-type h200 --seq-lens 1k1k,8k1k --max-conc 64 -o json

  # validate only
  infersweep sweep plan -f configs/nvidia-master.yaml --runners configs/runners.yaml --validate`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.OutOrStdout(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.src.Masters, "file", "f", nil, "master config (repeatable)")
	fl.StringVar(&f.src.Runners, "runners", "", "runners.yaml")
	fl.StringVar(&f.src.Settings, "settings", "", "infersweep settings (workload, SLOs, prices, retries, pools)")
	fl.BoolVar(&f.validate, "validate", false, "check only: print nothing but errors")
	fl.StringSliceVar(&f.filters.ModelPrefixes, "model-prefix", nil, "keep these model prefixes")
	fl.StringSliceVar(&f.filters.Precisions, "precision", nil, "keep these precisions")
	fl.StringSliceVar(&f.filters.Frameworks, "framework", nil, "keep these frameworks")
	fl.StringSliceVar(&f.filters.Runners, "runner-type", nil, "keep these runner labels")
	fl.StringVar(&f.seqLens, "seq-lens", "", "keep these lengths, e.g. 1k1k,8k1k")
	fl.IntVar(&f.filters.StepSize, "step-size", 2, "concurrency multiplier")
	fl.IntVar(&f.filters.MinConc, "min-conc", 0, "drop concurrencies below")
	fl.IntVar(&f.filters.MaxConc, "max-conc", 0, "drop concurrencies above (an entry entirely above runs at max-conc)")
	fl.IntVar(&f.filters.MaxTP, "max-tp", 0, "drop layouts with more TP")
	fl.IntVar(&f.filters.MaxEP, "max-ep", 0, "drop layouts with more EP")
	fl.BoolVar(&f.filters.SingleNode, "single-node", false, "single-node entries only")
	fl.BoolVar(&f.filters.MultiNode, "multi-node", false, "multinode entries only")
	fl.StringVar(&f.filters.ScenarioType, "scenario-type", "", "fixed-seq-len or agentic-coding")
	fl.StringSliceVar(&f.filters.ConfigKeys, "config-keys", nil, "entry-name globs, e.g. 'dsr1-*'")
	return cmd
}

func runPlan(out io.Writer, g *globalFlags, f *planFlags) error {
	format := g.output
	if format != "text" && format != "table" && format != "json" && format != "yaml" {
		return usageError{fmt.Errorf("--output %q: want text, json or yaml", format)}
	}
	if len(f.src.Masters) == 0 || f.src.Runners == "" {
		return usageError{errors.New("need at least one -f master config and --runners")}
	}
	if f.filters.SingleNode && f.filters.MultiNode {
		return usageError{errors.New("--single-node and --multi-node exclude each other")}
	}
	if f.filters.ScenarioType != "" && f.filters.ScenarioType != sweep.ScenarioFixedSeqLen && f.filters.ScenarioType != sweep.ScenarioAgentic {
		return usageError{fmt.Errorf("--scenario-type %q: want fixed-seq-len or agentic-coding", f.filters.ScenarioType)}
	}
	seqLens, err := sweep.ParseSeqLens(f.seqLens)
	if err != nil {
		return usageError{err}
	}
	f.filters.SeqLens = seqLens
	plan, err := sweep.LoadPlan(f.src, f.filters)
	var errs sweep.Errors
	if errors.As(err, &errs) {
		return usageError{fmt.Errorf("%d problems, nothing planned:\n%w", len(errs), err)}
	}
	if err != nil {
		return err
	}
	if f.validate {
		_, err := fmt.Fprintf(out, "valid: %d entries, %d points\n", len(plan.Entries), plan.Counts.Total)
		return err
	}
	switch format {
	case "json":
		return writeJSON(out, map[string]any{"counts": plan.Counts, "points": plan.Points})
	case "yaml":
		// Through JSON, so YAML keys are the same snake_case names.
		b, err := json.Marshal(map[string]any{"counts": plan.Counts, "points": plan.Points})
		if err != nil {
			return err
		}
		var generic any
		if err := json.Unmarshal(b, &generic); err != nil {
			return err
		}
		enc := yaml.NewEncoder(out)
		enc.SetIndent(2)
		return enc.Encode(generic)
	}
	return printPlanTable(out, plan)
}

func printPlanTable(out io.Writer, plan *sweep.Plan) error {
	fmt.Fprintf(out, "%-16s %-30s %-15s %-8s %5s %4s %3s %5s %-6s\n", "ID", "ENTRY", "EXP", "QUEUE", "CONC", "TP", "EP", "GPUS", "SPEC")
	for _, p := range plan.Points {
		fmt.Fprintf(out, "%-16s %-30s %-15s %-8s %5d %4d %3d %5d %-6s\n", p.ID, p.Entry, p.ExpName, p.TaskQueue, p.Conc, p.TP, p.EP, p.GPUs, p.SpecDecoding)
	}
	c := plan.Counts
	fmt.Fprintf(out, "\n%d points\n", c.Total)
	for _, group := range []struct {
		name   string
		counts map[string]int
	}{{"by runner", c.ByRunner}, {"by framework", c.ByFramework}, {"by sequence length", c.BySeqLen}, {"GPU·points by runner", c.GPUs}} {
		keys := make([]string, 0, len(group.counts))
		for k := range group.counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, group.counts[k])
		}
		fmt.Fprintf(out, "  %-22s %s\n", group.name+":", strings.Join(parts, ", "))
	}
	return nil
}
