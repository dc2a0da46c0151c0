package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/sweep"
)

func TestSweepPlanOfTheExample(t *testing.T) {
	code, stdout, stderr := runCLI(t, "sweep", "plan", "-f", "../../examples/sweep.yaml", "--runners", "../../examples/runners.yaml", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var plan struct {
		Counts struct {
			Total    int            `json:"total"`
			ByRunner map[string]int `json:"by_runner"`
		} `json:"counts"`
		Points []struct {
			ID        string `json:"id"`
			TaskQueue string `json:"task_queue"`
			Conc      int    `json:"conc"`
		} `json:"points"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &plan))
	require.Equal(t, 22, plan.Counts.Total)
	require.Equal(t, map[string]int{"sim-h100": 9, "sim-h200": 8, "sim-mi355x": 5}, plan.Counts.ByRunner)
	require.Equal(t, "hw-sim-h100", plan.Points[0].TaskQueue)
	require.Len(t, plan.Points[0].ID, 16)

	code, stdout, _ = runCLI(t, "sweep", "plan", "-f", "../../examples/sweep.yaml", "--runners", "../../examples/runners.yaml", "--runner-type", "sim-h200", "--max-conc", "8", "-o", "yaml")
	require.Equal(t, exitOK, code)
	var asYAML map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(stdout), &asYAML))
	require.EqualValues(t, 4, asYAML["counts"].(map[string]any)["total"], "tp8 4,8 and tp4 4,8")

	code, stdout, _ = runCLI(t, "sweep", "plan", "-f", "../../examples/sweep.yaml", "--runners", "../../examples/runners.yaml", "--validate")
	require.Equal(t, exitOK, code)
	require.Equal(t, "valid: 3 entries, 22 rows, 22 points\n", stdout)
}

func TestSweepPlanRefusesBadInput(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"every error, nothing planned", []string{"-f", "../../sweep/testdata/invalid/33-every-error-listed.yaml", "--runners", "../../sweep/testdata/runners.yaml"},
			"4 problems, nothing planned:\n../../sweep/testdata/invalid/33-every-error-listed.yaml:13:47: e1.scenarios.fixed-seq-len[0].search-space[0].conc-end: 3 is below conc-start 8"},
		{"no runners file", []string{"-f", "../../examples/sweep.yaml"}, "need at least one -f master config and --runners"},
		{"conflicting filters", []string{"-f", "x", "--runners", "y", "--single-node", "--multi-node"}, "--single-node and --multi-node exclude each other"},
		{"evals and no evals", []string{"-f", "x", "--runners", "y", "--no-evals", "--all-evals"}, "--no-evals cannot be combined with --evals-only or --all-evals"},
		{"step size", []string{"-f", "x", "--runners", "y", "--step-size", "1"}, "--step-size 1: want 2 or more"},
		{"unknown runner type", []string{"-f", "../../examples/sweep.yaml", "--runners", "../../examples/runners.yaml", "--runner-type", "h300"},
			"--runner-type h300: not a label of ../../examples/runners.yaml"},
		{"bad output", []string{"-f", "x", "--runners", "y", "-o", "csv"}, `--output "csv": want text, json, yaml or inferencex`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"sweep", "plan"}, tt.args...)...)
			require.Equal(t, exitUsage, code)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tt.wantErr)
		})
	}
}

// TestSweepPlanOfUpstreamsMatrix: InferenceX's current files plan
// unchanged, and -o inferencex is what upstream's generator prints.
func TestSweepPlanOfUpstreamsMatrix(t *testing.T) {
	files := []string{"-f", "../../sweep/testdata/upstream/nvidia-master.yaml", "-f", "../../sweep/testdata/upstream/amd-master.yaml",
		"--runners", "../../sweep/testdata/upstream/runners.yaml"}
	code, stdout, stderr := runCLI(t, append([]string{"sweep", "plan"}, files...)...)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "2078 points (1820 upstream matrix rows, 640 multinode deployments, 519 with an accuracy eval)")
	require.Contains(t, stdout, "by scenario:         agentic-coding 746, fixed-seq-len 1332")
	require.Contains(t, stdout, "cluster.mi355x-amds (cluster:mi355x-amds) 95")

	code, stdout, stderr = runCLI(t, append([]string{"sweep", "plan", "--multi-node", "--min-conc", "32", "-o", "inferencex"}, files...)...)
	require.Equal(t, exitOK, code, stderr)
	// sweep's tests compare this output with upstream's generator.
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{files[1], files[3]}, Runners: files[5]}, sweep.Filters{MultiNode: true, MinConc: 32})
	require.NoError(t, err)
	var want strings.Builder
	require.NoError(t, sweep.WriteInferenceX(&want, plan.Rows))
	require.Equal(t, want.String(), stdout)
}

// TestPlanAndRunShareTheirFilters: a filter `sweep plan` takes, `sweep
// run` takes too, registered once.
func TestPlanAndRunShareTheirFilters(t *testing.T) {
	g := &globalFlags{}
	plan, run := newSweepPlanCommand(g).Flags(), newSweepRunCommand(g).Flags()
	for _, name := range []string{"model-prefix", "precision", "framework", "min-conc", "step-size", "runner-type", "seq-lens", "max-conc", "config-keys", "changelog"} {
		require.NotNil(t, plan.Lookup(name), "plan --%s", name)
		require.NotNil(t, run.Lookup(name), "run --%s", name)
	}
}

// `sweep run --upstream-root` keeps, for a control worker without the
// checkout, exactly the checkout files the plan read there: the entries'
// srt-slurm recipes (and the masters when they live in it).
func TestRecordUpstreamKeepsTheRecipesThePlanRead(t *testing.T) {
	f := &planFlags{}
	f.src = sweep.Sources{Masters: []string{"../../sweep/testdata/upstream/nvidia-master.yaml"}, Runners: "../../sweep/testdata/upstream/runners.yaml",
		Upstream: "../../recipes/testdata/upstream"}
	f.filters = sweep.Filters{MultiNode: true, ConfigKeys: []string{"dsv4-fp4-b200-dynamo-sglang-mtp"}}
	files, err := f.recordUpstream()
	require.NoError(t, err)
	plan, err := f.load()
	require.NoError(t, err)
	want := map[string]bool{}
	for _, p := range plan.Points {
		for _, s := range p.Prefill.AdditionalSettings {
			if config, ok := strings.CutPrefix(s, "CONFIG_FILE="); ok {
				// srt-slurm's recipes/ is upstream's copy of them.
				if rest, ok := strings.CutPrefix(config, "recipes/"); ok {
					config = "benchmarks/multi_node/srt-slurm-recipes/" + rest
				}
				want[config] = true
			}
		}
	}
	require.NotEmpty(t, want)
	got := map[string]bool{}
	for rel, data := range files {
		require.NotEmpty(t, data, rel)
		got[rel] = true
	}
	require.Equal(t, want, got)
}
