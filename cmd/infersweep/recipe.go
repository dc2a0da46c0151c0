package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

func newRecipeCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recipe",
		Short: "Engine recipes: list them, and render the exact launch of a config's points",
		Long: `Every engine is started as a recipe renders it for its point: YAML in the
shipped catalogue (recipes/catalogue/, reproducing InferenceX's single- and
multi-node launch scripts) or in files given with --recipes, which add recipes or replace
shipped ones of the same name. A point's rendered launch and its fingerprint
are in the plan and in every points row (launch_recipe, launch_fingerprint).`,
		Example: "  infersweep recipe ls\n  infersweep recipe render -f configs/nvidia-master.yaml --runners configs/runners.yaml --config-keys dsr1-fp8-h200-sglang --seq-lens 1k1k --conc 64",
	}
	cmd.AddCommand(newRecipeLsCommand(g), newRecipeRenderCommand(g))
	return cmd
}

func newRecipeLsCommand(g *globalFlags) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:     "ls",
		Short:   "List the recipes: what each matches, its family and the upstream script it reproduces",
		Example: "  infersweep recipe ls\n  infersweep recipe ls --recipes ours.yaml -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			c, err := recipes.Load(os.ReadFile, files)
			if err != nil {
				return usageError{err}
			}
			return printRecipes(cmd.OutOrStdout(), c.Recipes(), asJSON)
		},
	}
	cmd.Flags().StringArrayVar(&files, "recipes", nil, "recipe file beside the shipped catalogue (repeatable)")
	return cmd
}

// recipeRow is one recipe as ls prints it.
type recipeRow struct {
	Name         string   `json:"name"`
	Framework    string   `json:"framework"`
	Scenario     []string `json:"scenario"`
	ModelPrefix  []string `json:"model_prefix,omitempty"`
	Precision    []string `json:"precision,omitempty"`
	Hardware     []string `json:"hardware,omitempty"`
	SpecDecoding []string `json:"spec_decoding,omitempty"`
	Family       string   `json:"family"`
	Source       string   `json:"source,omitempty"`
}

func printRecipes(out io.Writer, list []recipes.Recipe, asJSON bool) error {
	rows := make([]recipeRow, 0, len(list))
	for _, rc := range list {
		m := rc.Match
		// A recipe that names no scenario serves fixed-seq-len points only.
		scenario := m.Scenario
		if len(scenario) == 0 {
			scenario = []string{sweep.ScenarioFixedSeqLen}
		}
		rows = append(rows, recipeRow{rc.Name, m.Framework, scenario, m.ModelPrefix, m.Precision, m.Hardware, m.SpecDecoding, rc.Family, rc.Source})
	}
	if asJSON {
		return writeJSON(out, rows)
	}
	any := func(l []string) string {
		if len(l) == 0 {
			return "*"
		}
		return strings.Join(l, ",")
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "NAME\tFRAMEWORK\tSCENARIO\tMODEL\tPRECISION\tHARDWARE\tSPEC\tFAMILY\tSOURCE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Framework, strings.Join(r.Scenario, ","), any(r.ModelPrefix), any(r.Precision), any(r.Hardware), any(r.SpecDecoding), r.Family, r.Source)
	}
	return tw.Flush()
}

func newRecipeRenderCommand(g *globalFlags) *cobra.Command {
	f := &planFlags{}
	var conc int
	var backend backendFlags
	var pyxis string
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print exactly what a backend would run for each point of a config: the docker, sbatch or command line",
		Long: `render plans the master configs as 'sweep plan' does (the same files and
filters: --config-keys NAME keeps one entry, --conc N one concurrency) and prints, for
each point, the recipe, its fingerprint and the line the chosen backend would
run: the engine's command with its environment (local), the docker run line
(docker) or the sbatch line with its srun (slurm). A multinode point prints
each role's command (its first worker, example addresses) and, with --backend
slurm, the sbatch script of its whole deployment. Nothing is started. The port
and, for the simulated engine, seed and time scale are the ones a start picks;
the port shown is 8000.

--pyxis yes|no says whether the Slurm cluster has pyxis when rendering for one
out of reach; by default srun --help is asked.`,
		Example: `  infersweep recipe render -f configs/nvidia-master.yaml --runners configs/runners.yaml \
    --config-keys dsr1-fp8-h200-sglang --seq-lens 1k1k --conc 64 --backend slurm --pyxis yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if conc > 0 {
				f.filters.MinConc, f.filters.MaxConc = conc, conc
			}
			plan, err := f.load()
			if err != nil {
				return err
			}
			describe, err := describer(cmd.Context(), &backend, pyxis)
			if err != nil {
				return err
			}
			return printRendered(cmd.Context(), cmd.OutOrStdout(), g, plan.Points, describe)
		},
	}
	f.addFlags(cmd.Flags())
	backend.register(cmd.Flags())
	cmd.Flags().IntVar(&conc, "conc", 0, "keep this concurrency")
	cmd.Flags().StringVar(&pyxis, "pyxis", "", "slurm: yes or no instead of asking srun --help")
	return cmd
}

// describer says what the chosen backend runs for a spec.
func describer(ctx context.Context, b *backendFlags, pyxis string) (func(context.Context, launch.Spec) (string, error), error) {
	launcher, err := b.launcher(ctx, io.Discard, false)
	if err != nil {
		return nil, err
	}
	switch l := launcher.(type) {
	case nil:
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		local := &launch.Local{Self: self}
		return func(_ context.Context, s launch.Spec) (string, error) { return local.Describe(s) }, nil
	case *launch.Docker:
		return func(_ context.Context, s launch.Spec) (string, error) { return l.Describe(s) }, nil
	case *launch.Slurm:
		switch pyxis {
		case "yes", "no":
			l.SetPyxis(pyxis == "yes")
		case "":
		default:
			return nil, usageError{fmt.Errorf("--pyxis %q: want yes or no", pyxis)}
		}
		return func(ctx context.Context, spec launch.Spec) (string, error) {
			if spec.Point.Multinode {
				// One allocation for the whole deployment.
				return l.DeploymentScript(ctx, spec)
			}
			return l.Describe(ctx, spec)
		}, nil
	}
	return nil, usageError{fmt.Errorf("--backend %s cannot render", b.backend)}
}

// renderedPoint is one point as render prints it.
type renderedPoint struct {
	Point       string `json:"point"`
	Entry       string `json:"entry"`
	ISL         int    `json:"isl"`
	OSL         int    `json:"osl"`
	Conc        int    `json:"conc"`
	TP          int    `json:"tp"`
	Recipe      string `json:"recipe"`
	Fingerprint string `json:"fingerprint"`
	Command     string `json:"command"`
	// Roles are a multinode deployment's commands, role by role, as
	// its first worker (and the frontend) would run them.
	Roles []renderedRole `json:"roles,omitempty"`
}

type renderedRole struct {
	Role    string `json:"role"`
	Command string `json:"command"`
}

// roleCommands renders each role of a multinode point for its first
// worker, with example addresses where the start would put real ones.
func roleCommands(spec launch.Spec) ([]renderedRole, error) {
	var out []renderedRole
	for _, r := range spec.Point.Launch.Roles {
		rs := launch.RoleSpec{Spec: spec, Role: r.Role, Nodes: 1, MasterAddr: "MASTER", ControlAddr: "CONTROL",
			PrefillURLs: []string{"http://PREFILL0:8000"}, DecodeURLs: []string{"http://DECODE0:8000"}, WorkerURLs: []string{"http://WORKER0:8000"}}
		cmd, err := launch.RenderRole(rs, "infersweep", "0.0.0.0")
		if err != nil {
			return nil, err
		}
		line := strings.Join(append(append([]string(nil), cmd.Env...), launch.ShellJoin(cmd.Args)), " ")
		out = append(out, renderedRole{Role: r.Role, Command: line})
	}
	return out, nil
}

func printRendered(ctx context.Context, out io.Writer, g *globalFlags, points []sweep.Point, describe func(context.Context, launch.Spec) (string, error)) error {
	asJSON, err := g.jsonOutput()
	if err != nil {
		return err
	}
	var rows []renderedPoint
	for _, p := range points {
		if p.Launch == nil {
			continue // a plan made without recipes attached
		}
		name := launch.EngineName("NODE/SWEEP/" + p.ID + "/1")
		spec := launch.Spec{Point: p, Name: name, Node: "NODE", Lease: "SWEEP/" + p.ID + "/1", Port: 8000, TimeScale: 1}
		row := renderedPoint{Point: p.ID, Entry: p.Entry, ISL: p.ISL, OSL: p.OSL, Conc: p.Conc, TP: p.TP, Recipe: p.Launch.Recipe, Fingerprint: p.Launch.Fingerprint}
		if p.Multinode {
			if row.Roles, err = roleCommands(spec); err != nil {
				return err
			}
		}
		line, err := describe(ctx, spec)
		if err != nil && !(p.Multinode && errors.Is(err, launch.ErrNoRecipe)) {
			return err
		}
		row.Command = line
		rows = append(rows, row)
	}
	if asJSON {
		return writeJSON(out, rows)
	}
	if len(rows) == 0 {
		return usageError{fmt.Errorf("no point matches these filters")}
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(out, "# %s  %d/%d conc %d tp %d  point %s\n# recipe %s  fingerprint %s\n", r.Entry, r.ISL, r.OSL, r.Conc, r.TP, r.Point, r.Recipe, r.Fingerprint[:16]); err != nil {
			return err
		}
		for _, role := range r.Roles {
			fmt.Fprintf(out, "## %s\n%s\n", role.Role, role.Command)
		}
		if _, err := fmt.Fprintf(out, "%s\n\n", r.Command); err != nil {
			return err
		}
	}
	return nil
}
