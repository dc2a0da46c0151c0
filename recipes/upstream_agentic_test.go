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
// generic fallback; multinode agentic points stay unserved.
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
	var scripted, fallback, multinode int
	used := map[string]bool{}
	for _, p := range plan.Points {
		if p.Multinode {
			require.Nil(t, p.Launch, "multinode agentic point %s of %s", p.ID, p.Entry)
			multinode++
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
	require.Equal(t, 264, multinode)
	require.Len(t, used, len(scripts), "every upstream agentic script serves a point of the snapshot")
}

// TestTheWholeSnapshotPlansWithLaunches: both scenarios, single-node and
// multinode, plan with recipes attached, and no fixed-seq-len point gets
// an agentic recipe nor the other way round.
func TestTheWholeSnapshotPlansWithLaunches(t *testing.T) {
	dir := "../sweep/testdata/upstream"
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml"), filepath.Join(dir, "amd-master.yaml")},
		Runners: filepath.Join(dir, "runners.yaml"), Launches: Attach}, sweep.Filters{})
	require.NoError(t, err)
	agentic := map[string]bool{}
	for _, rc := range Default().Recipes() {
		agentic[rc.Name] = len(rc.Match.Scenario) == 1 && rc.Match.Scenario[0] == sweep.ScenarioAgentic
	}
	for _, p := range plan.Points {
		if p.Launch == nil {
			require.True(t, p.Multinode && p.Scenario == sweep.ScenarioAgentic, "point %s of %s has no launch", p.ID, p.Entry)
			continue
		}
		require.Equal(t, p.Scenario == sweep.ScenarioAgentic, agentic[p.Launch.Recipe], "point %s of %s renders %s", p.ID, p.Entry, p.Launch.Recipe)
	}
}
