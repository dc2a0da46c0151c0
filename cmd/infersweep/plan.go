package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

// planFlags are the files and filters `sweep plan` and `sweep run`
// share: upstream's generator flags (full-sweep), under the same names.
type planFlags struct {
	src sweep.Sources
	filterFlags
	validate bool
}

func (f *planFlags) addFlags(fl *pflag.FlagSet) {
	fl.StringArrayVarP(&f.src.Masters, "file", "f", nil, "master config (repeatable)")
	fl.StringVar(&f.src.Runners, "runners", "", "runners.yaml")
	fl.StringVar(&f.src.Settings, "settings", "", "infersweep settings (workload, SLOs, prices, retries, pools, node hardware)")
	fl.StringArrayVar(&f.src.Recipes, "recipes", nil, "engine recipe file beside the shipped catalogue (repeatable; a recipe named as a shipped one replaces it)")
	fl.StringVar(&f.src.Upstream, "upstream-root", "", "InferenceX checkout the masters come from: Dynamo workers render from each entry's CONFIG_FILE srt-slurm recipe there")
	f.filterFlags.addFlags(fl)
}

// filterFlags are upstream's generator filters, under its names; `demo
// --simulate` takes them too.
type filterFlags struct {
	filters sweep.Filters
	seqLens string
}

func (f *filterFlags) addFlags(fl *pflag.FlagSet) {
	fl.StringSliceVar(&f.filters.ModelPrefixes, "model-prefix", nil, "keep entries whose name starts with one of these")
	fl.StringSliceVar(&f.filters.Precisions, "precision", nil, "keep these precisions")
	fl.StringSliceVar(&f.filters.Frameworks, "framework", nil, "keep these frameworks")
	fl.StringSliceVar(&f.filters.Runners, "runner-type", nil, "keep these runner labels (each must be in --runners)")
	fl.StringVar(&f.seqLens, "seq-lens", "", "keep these lengths, e.g. 1k1k,8k1k (agentic entries have none and stay)")
	fl.IntVar(&f.filters.StepSize, "step-size", 2, "concurrency multiplier of conc-start..conc-end ranges")
	fl.IntVar(&f.filters.MinConc, "min-conc", 0, "drop concurrencies below")
	fl.IntVar(&f.filters.MaxConc, "max-conc", 0, "drop concurrencies above (a fixed-seq-len layout entirely above runs at max-conc)")
	fl.IntVar(&f.filters.MaxTP, "max-tp", 0, "drop single-node fixed-seq-len layouts with more TP")
	fl.IntVar(&f.filters.MaxEP, "max-ep", 0, "run single-node fixed-seq-len layouts with more EP at this EP")
	fl.BoolVar(&f.filters.SingleNode, "single-node", false, "single-node entries only")
	fl.BoolVar(&f.filters.MultiNode, "multi-node", false, "multinode entries only")
	fl.StringVar(&f.filters.ScenarioType, "scenario-type", "", "fixed-seq-len or agentic-coding (default both)")
	fl.StringSliceVar(&f.filters.ConfigKeys, "config-keys", nil, "entry-name globs, e.g. 'dsr1-*'")
	fl.StringVar(&f.filters.RunnerNodeFilter, "runner-node-filter", "", "one row per node of the entry's label whose name contains this")
	fl.BoolVar(&f.filters.NoEvals, "no-evals", false, "throughput points only: select no accuracy evals")
	fl.BoolVar(&f.filters.EvalsOnly, "evals-only", false, "only the points selected for accuracy evals, eval only")
	fl.BoolVar(&f.filters.AllEvals, "all-evals", false, "select every 8k1k and agentic point for an eval (and run only those)")
	fl.StringVar(&f.filters.Changelog.File, "changelog", "", "plan what entries of upstream's perf-changelog.yaml run (default: its last entry)")
	fl.IntVar(&f.filters.Changelog.Entry, "entry", 0, "with --changelog: this entry (1-based; -1 is the last)")
	fl.IntVar(&f.filters.Changelog.Last, "last", 0, "with --changelog: the last K entries")
}

// resolve checks the filters as upstream's generator does and reads
// --seq-lens into them; a bad one is a usage error (exit 2).
func (f *filterFlags) resolve() error {
	if err := f.filters.Check(); err != nil {
		return usageError{err}
	}
	seqLens, err := sweep.ParseSeqLens(f.seqLens)
	if err != nil {
		return usageError{err}
	}
	f.filters.SeqLens = seqLens
	return nil
}

// load validates and expands; bad input is a usage error (exit 2) that
// lists every problem, and nothing is planned.
func (f *planFlags) load() (*sweep.Plan, error) {
	if len(f.src.Masters) == 0 || f.src.Runners == "" {
		return nil, usageError{errors.New("need at least one -f master config and --runners")}
	}
	if err := f.resolve(); err != nil {
		return nil, err
	}
	f.src.Launches = recipes.Attach
	plan, err := sweep.LoadPlan(f.src, f.filters)
	var errs sweep.Errors
	if errors.As(err, &errs) {
		return nil, usageError{fmt.Errorf("%d problems, nothing planned:\n%w", len(errs), err)}
	}
	if err != nil {
		return nil, usageError{err}
	}
	return plan, nil
}

func newSweepPlanCommand(g *globalFlags) *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Validate master configs and list the points they expand to",
		Long: `plan reads InferenceX's master configs (configs/nvidia-master.yaml,
configs/amd-master.yaml) and runners.yaml unchanged, checks them as upstream's
validation does (every error, each as file:line:col: entry.path: problem), and
expands them as upstream's generator (generate_sweep_configs.py full-sweep)
does, with the same filters: the same rows, concurrencies, eval selection,
max-model-len and exp-name.

--changelog perf-changelog.yaml plans what upstream's process_changelog.py
runs for the selected entries (--entry N, --last K; default the last entry):
their config-keys (names or '*' globs), throughput unless the entry says
evals-only or all-evals, then its evals; scenario-type and
eval-min-prefill-ep honoured. append-only entries need the previous
revision's configs and are refused.

A single-node row is one point. A multinode row runs its concurrency list on
one deployment: one point per concurrency, sharing a deployment id.

Runner labels become pool names: cluster:<name> is cluster.<name> in task
queues (hw-cluster.<name>) and object keys; other labels are unchanged.

It exits 2 and lists every error when any file is wrong; nothing is planned.
-o text (a table and counts), json or yaml (counts and points), or inferencex
(upstream's matrix JSON, byte for byte as its generator prints it).`,
		Example: `  infersweep sweep plan -f examples/sweep.yaml --runners examples/runners.yaml

  # InferenceX's own files: counts per scenario, node type, framework and runner
  infersweep sweep plan -f configs/nvidia-master.yaml -f configs/amd-master.yaml --runners configs/runners.yaml

  # the same matrix as upstream's generator prints it, to diff
  infersweep sweep plan -f configs/nvidia-master.yaml -f configs/amd-master.yaml \
    --runners configs/runners.yaml --single-node --seq-lens 8k1k -o inferencex > ours.json

  # what the newest perf-changelog entry runs (upstream lists amd first: keep
  # that order so '*' patterns resolve in the same order)
  infersweep sweep plan -f configs/amd-master.yaml -f configs/nvidia-master.yaml \
    --runners configs/runners.yaml --changelog perf-changelog.yaml --last 1

  # validate only
  infersweep sweep plan -f configs/nvidia-master.yaml --runners configs/runners.yaml --validate`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.OutOrStdout(), g, f)
		},
	}
	f.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&f.validate, "validate", false, "check only: print nothing but errors")
	return cmd
}

func runPlan(out io.Writer, g *globalFlags, f *planFlags) error {
	format := g.output
	if format != "text" && format != "table" && format != "json" && format != "yaml" && format != "inferencex" {
		return usageError{fmt.Errorf("--output %q: want text, json, yaml or inferencex", format)}
	}
	plan, err := f.load()
	if err != nil {
		return err
	}
	if f.validate {
		_, err := fmt.Fprintf(out, "valid: %d entries, %d rows, %d points\n", len(plan.Entries), len(plan.Rows), plan.Counts.Total)
		return err
	}
	points := make([]plannedPoint, len(plan.Points))
	for i, p := range plan.Points {
		points[i] = plannedPoint{p, workflows.TaskQueue(p.RunnerLabel)}
	}
	switch format {
	case "inferencex":
		return sweep.WriteInferenceX(out, plan.Rows)
	case "json":
		return writeJSON(out, map[string]any{"counts": plan.Counts, "points": points})
	case "yaml":
		// Through JSON, so YAML keys are the same snake_case names.
		b, err := json.Marshal(map[string]any{"counts": plan.Counts, "points": points})
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
	return printPlanTable(out, plan, points)
}

// plannedPoint is a point as plan prints it: with the task queue its pool
// polls, which sweep (knowing nothing of Temporal) leaves out.
type plannedPoint struct {
	sweep.Point
	TaskQueue string `json:"task_queue"`
}

// layout is a parallelism column: the point's own, or a deployment's as
// prefill/decode (one figure when aggregated).
func layout(p sweep.Point, own int, of func(*sweep.Workers) int) string {
	if p.Prefill == nil || p.Decode == nil {
		return strconv.Itoa(own)
	}
	if p.Decode.NumWorker == 0 {
		return strconv.Itoa(of(p.Prefill))
	}
	return fmt.Sprintf("%d/%d", of(p.Prefill), of(p.Decode))
}

func printPlanTable(out io.Writer, plan *sweep.Plan, points []plannedPoint) error {
	tw := newTable(out)
	fmt.Fprintln(tw, "ID\tENTRY\tEXP\tQUEUE\tCONC\tTP\tEP\tGPUS\tNODES\tSPEC\tDEPLOYMENT")
	for _, p := range points {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\t%d\t%s\t%s\n", p.ID, p.Entry, p.ExpName, p.TaskQueue, p.Conc, layout(p.Point, p.TP, func(w *sweep.Workers) int { return w.TP }),
			layout(p.Point, p.EP, func(w *sweep.Workers) int { return w.EP }), p.GPUs, max(p.Nodes, 1), p.SpecDecoding, p.DeploymentID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := plan.Counts
	fmt.Fprintf(out, "\n%d points (%d upstream matrix rows, %d multinode deployments, %d with an accuracy eval)\n", c.Total, len(plan.Rows), c.Deployments, c.Evals)
	pools := map[string]int{}
	for pool, n := range c.ByRunner {
		if label := sweep.RunnerLabel(pool); label != pool {
			pool = pool + " (" + label + ")"
		}
		pools[pool] = n
	}
	for _, group := range []struct {
		name   string
		counts map[string]int
	}{{"by scenario", c.ByScenario}, {"by node type", c.ByNodes}, {"by framework", c.ByFramework}, {"by sequence length", c.BySeqLen},
		{"by runner pool", pools}, {"GPU·points by pool", c.GPUs}} {
		keys := slices.Sorted(maps.Keys(group.counts))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, group.counts[k])
		}
		fmt.Fprintf(tw, "  %s:\t%s\n", group.name, strings.Join(parts, ", "))
	}
	return tw.Flush()
}

// recordUpstream has the plan read its files through sweep.RecordUnder
// --upstream-root, so `sweep run` can keep the checkout files it read in
// the lake for a control worker that has no checkout.
func (f *planFlags) recordUpstream() (map[string][]byte, error) {
	if f.src.Upstream == "" {
		return nil, nil
	}
	read, files, err := sweep.RecordUnder(f.src.Upstream)
	if err != nil {
		return nil, usageError{fmt.Errorf("--upstream-root: %w", err)}
	}
	f.src.ReadFile = read
	return files, nil
}
