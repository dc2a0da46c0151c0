package recipes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

// upstreamPlan plans the single-node fixed-seq-len points of the
// InferenceX snapshot (sweep/testdata/upstream) with recipe files.
func upstreamPlan(t *testing.T, recipeFiles ...string) *sweep.Plan {
	t.Helper()
	dir := "../sweep/testdata/upstream"
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml"), filepath.Join(dir, "amd-master.yaml")},
		Runners: filepath.Join(dir, "runners.yaml"), Recipes: recipeFiles, Launches: Attach},
		sweep.Filters{SingleNode: true, ScenarioType: sweep.ScenarioFixedSeqLen})
	require.NoError(t, err)
	return plan
}

// TestEveryUpstreamPointHasItsScriptsRecipe: every single-node
// fixed-seq-len point of the snapshot renders the recipe of the script
// upstream's runner would run, none the generic fallback.
func TestEveryUpstreamPointHasItsScriptsRecipe(t *testing.T) {
	plan := upstreamPlan(t)
	require.NotEmpty(t, plan.Points)
	byRecipe := map[string]int{}
	for _, p := range plan.Points {
		require.NotNil(t, p.Launch, "point %s of %s", p.ID, p.Entry)
		require.False(t, strings.HasPrefix(p.Launch.Recipe, "generic-"), "entry %s (%s %s on %s) has no tuned recipe", p.Entry, p.Framework, p.Precision, p.RunnerLabel)
		byRecipe[p.Launch.Recipe]++
	}
	t.Logf("%d points, %d recipes", len(plan.Points), len(byRecipe))
}

// TestARecipeEditChangesExactlyItsPoints: overriding one shipped recipe
// changes the fingerprint, and so the run key --changed-since compares,
// of the points it launches and of no other.
func TestARecipeEditChangesExactlyItsPoints(t *testing.T) {
	before := upstreamPlan(t)
	edited := "dsr1-fp8-h200-sglang"
	rc := findRecipe(t, edited)
	override := filepath.Join(t.TempDir(), "ours.yaml")
	require.NoError(t, os.WriteFile(override, []byte(`recipes:
  - name: `+edited+`
    match: {framework: sglang, model-prefix: [dsr1], precision: [fp8], hardware: [h200], spec-decoding: [none]}
    family: sglang
    command: >-
      `+strings.ReplaceAll(rc.Command, "\n", "\n      ")+` --enable-metrics
`), 0o644))
	after := upstreamPlan(t, override)
	require.Len(t, after.Points, len(before.Points))
	changed := 0
	for i, p := range after.Points {
		was := before.Points[i]
		require.Equal(t, was.ID, p.ID, "the config is the same")
		if was.Launch.Recipe == edited {
			require.NotEqual(t, was.RunKey(), p.RunKey(), "point %s runs another launch", p.ID)
			require.Equal(t, "--enable-metrics", p.Launch.Args[len(p.Launch.Args)-1])
			changed++
			continue
		}
		require.Equal(t, was.RunKey(), p.RunKey(), "point %s of %s is untouched", p.ID, was.Launch.Recipe)
	}
	require.Positive(t, changed)
}

func findRecipe(t *testing.T, name string) Recipe {
	t.Helper()
	for _, rc := range Default().Recipes() {
		if rc.Name == name {
			return rc
		}
	}
	t.Fatalf("no recipe %s", name)
	return Recipe{}
}

// The settings' engine overrides are rendered into the launch, so its
// fingerprint says the launch changed: an entry's win over its
// framework's.
func TestSettingsOverridesAreInTheLaunch(t *testing.T) {
	point := func(entry string) sweep.Point {
		return sweep.Point{ID: entry, Entry: entry, Framework: "vllm", Model: "m", Precision: "bf16", RunnerLabel: "h100", Runner: "h100",
			Scenario: sweep.ScenarioFixedSeqLen, TP: 8, Conc: 4, MaxModelLen: 2048, Image: "vllm/vllm-openai:v1"}
	}
	plain := []sweep.Point{point("a")}
	require.NoError(t, Attach(plain, sweep.DefaultSettings(), sweep.LaunchSources{}))
	settings := sweep.DefaultSettings()
	settings.Engines = map[string]sweep.EngineSettings{
		"vllm": {Args: []string{"--enforce-eager"}, Env: map[string]string{"VLLM_LOGGING_LEVEL": "DEBUG"}},
		"b":    {Image: "vllm/vllm-openai:nightly"},
	}
	points := []sweep.Point{point("a"), point("b")}
	require.NoError(t, Attach(points, settings, sweep.LaunchSources{}))
	a, b := points[0].Launch, points[1].Launch
	require.Equal(t, append(append([]string(nil), plain[0].Launch.Args...), "--enforce-eager"), a.Args)
	require.Equal(t, map[string]string{"VLLM_LOGGING_LEVEL": "DEBUG"}, a.Env)
	require.NotEqual(t, plain[0].Launch.Fingerprint, a.Fingerprint)
	require.Equal(t, "vllm/vllm-openai:nightly", b.Image, "the entry's settings, not the framework's")
	require.Equal(t, plain[0].Launch.Args, b.Args)
	require.Equal(t, Fingerprint(b), b.Fingerprint)
}
