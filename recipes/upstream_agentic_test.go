package recipes

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

// upstreamAgenticScripts are the launch scripts of the snapshot's
// benchmarks/single_node/agentic/, by file name.
func upstreamAgenticScripts(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("testdata/upstream-agentic-scripts.txt")
	require.NoError(t, err)
	defer f.Close()
	scripts := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			scripts[line] = true
		}
	}
	require.NoError(t, sc.Err())
	return scripts
}

// agenticScript is the script upstream's runner starts for p, as its
// launch_<cluster>.sh picks it: <exp-name prefix>_<precision>_<sku>_<framework>[_mtp].sh,
// else the name without the framework (with _trt or _atom for those);
// "" where neither exists.
func agenticScript(p sweep.Point, scripts map[string]bool) string {
	base := p.ModelPrefix + "_" + p.Precision + "_" + hardware(p)
	spec := ""
	if p.SpecDecoding == "mtp" {
		spec = "_mtp"
	}
	legacy := ""
	if p.Framework == "trt" || p.Framework == "atom" {
		legacy = "_" + p.Framework
	}
	for _, name := range []string{base + "_" + p.Framework + spec + ".sh", base + legacy + spec + ".sh"} {
		if scripts[name] {
			return "benchmarks/single_node/agentic/" + name
		}
	}
	return ""
}

// TestEveryUpstreamAgenticPointHasItsScriptsRecipe: every single-node
// agentic point of the snapshot renders the recipe of the script
// upstream's runner would run, and only a point with no script the
// generic fallback; every multinode agentic point renders its framework's
// multinode recipe (counted per recipe; multinode_agentic_test.go checks
// what they render).
func TestEveryUpstreamAgenticPointHasItsScriptsRecipe(t *testing.T) {
	dir := "../sweep/testdata/upstream"
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml"), filepath.Join(dir, "amd-master.yaml")},
		Runners: filepath.Join(dir, "runners.yaml"), Launches: Attach}, sweep.Filters{ScenarioType: sweep.ScenarioAgentic})
	require.NoError(t, err, "planning every agentic point, multinode ones included, attaches launches")
	scripts := upstreamAgenticScripts(t)
	sources := map[string]string{}
	for _, rc := range Default().Recipes() {
		sources[rc.Name] = rc.Source
	}
	var scripted, fallback int
	multinode := map[string]int{}
	used := map[string]bool{}
	for _, p := range plan.Points {
		if p.Multinode {
			require.NotNil(t, p.Launch, "multinode agentic point %s of %s", p.ID, p.Entry)
			multinode[p.Launch.Recipe]++
			continue
		}
		require.NotNil(t, p.Launch, "point %s of %s", p.ID, p.Entry)
		want := agenticScript(p, scripts)
		if want == "" {
			require.Equal(t, "generic-"+p.Framework+"-agentic", p.Launch.Recipe, "entry %s has no upstream script", p.Entry)
			fallback++
			continue
		}
		require.Equal(t, want, sources[p.Launch.Recipe], "entry %s (conc %d) renders %s", p.Entry, p.Conc, p.Launch.Recipe)
		used[want] = true
		scripted++
	}
	// The counts the README gives.
	require.Equal(t, 467, scripted)
	require.Equal(t, 15, fallback)
	require.Equal(t, map[string]int{"dynamo-vllm-multinode": 130, "dynamo-sglang-multinode": 68, "vllm-multinode": 35, "dynamo-trt-multinode": 19,
		"dsv4-fp4-mi355x-sglang-disagg-agentic": 12}, multinode)
	require.Len(t, used, len(scripts), "every upstream agentic script serves a point of the snapshot")
}

// TestTheWholeSnapshotPlansWithLaunches: both scenarios, single-node and
// multinode, plan with a launch for every point, each by a recipe that
// serves its scenario: no fixed-seq-len point gets an agentic-only recipe
// nor the other way round.
func TestTheWholeSnapshotPlansWithLaunches(t *testing.T) {
	dir := "../sweep/testdata/upstream"
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml"), filepath.Join(dir, "amd-master.yaml")},
		Runners: filepath.Join(dir, "runners.yaml"), Launches: Attach}, sweep.Filters{})
	require.NoError(t, err)
	serves := map[string][]string{}
	for _, rc := range Default().Recipes() {
		serves[rc.Name] = rc.Match.scenarios()
	}
	launched := 0
	for _, p := range plan.Points {
		require.NotNil(t, p.Launch, "point %s of %s has no launch", p.ID, p.Entry)
		require.Contains(t, serves[p.Launch.Recipe], p.Scenario, "point %s of %s renders %s", p.ID, p.Entry, p.Launch.Recipe)
		launched++
	}
	// 690 + 642 fixed-seq-len, 482 + 264 agentic.
	require.Equal(t, 2078, launched)
}
