package activities

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

// A control worker without the InferenceX checkout plans the same
// launches from the lake (the checkout's srt-slurm recipes kept there by
// `sweep run --upstream-root`) as a plan made beside the checkout.
func TestPlanSweepRendersSrtSlurmRecipesFromTheLake(t *testing.T) {
	ctx := context.Background()
	const upstream = "../recipes/testdata/upstream"
	master, runners := "../sweep/testdata/upstream/nvidia-master.yaml", "../sweep/testdata/upstream/runners.yaml"
	filters := sweep.Filters{MultiNode: true, ConfigKeys: []string{"dsv4-fp4-b200-dynamo-sglang-mtp", "dsv4-fp4-gb300-dynamo-trt-agentx"}}
	local, err := sweep.LoadPlan(sweep.Sources{Masters: []string{master}, Runners: runners, Launches: recipes.Attach, Upstream: upstream}, filters)
	require.NoError(t, err)

	files := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(upstream, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(upstream, path)
		if err == nil {
			files[filepath.ToSlash(rel)], err = os.ReadFile(path)
		}
		return err
	}))
	a := &Activities{Lake: testLake(t)}
	ref, err := a.Lake.PutUpstream(ctx, files)
	require.NoError(t, err)
	out, err := a.PlanSweep(ctx, PlanInput{SweepID: "s1", Date: "2026-11-27", Masters: []string{master}, Runners: runners, Filters: filters, Upstream: ref})
	require.NoError(t, err)
	stored, err := readPlan(ctx, a.Lake, out.PlanKey)
	require.NoError(t, err)
	require.Len(t, stored.Points, len(local.Points))
	rendered := 0
	for i, p := range stored.Points {
		require.Equal(t, local.Points[i].ID, p.ID)
		require.Equal(t, local.Points[i].Launch, p.Launch, p.ID)
		for _, r := range p.Launch.Roles {
			if r.Launch.Env["SRT_SLURM_RECIPE_SHA256"] != "" {
				rendered++
			}
		}
	}
	require.Positive(t, rendered, "workers rendered from the srt-slurm recipes, not the generic launch")

	without, err := a.PlanSweep(ctx, PlanInput{SweepID: "s2", Date: "2026-11-27", Masters: []string{master}, Runners: runners, Filters: filters})
	require.NoError(t, err)
	generic, err := readPlan(ctx, a.Lake, without.PlanKey)
	require.NoError(t, err)
	require.NotEqual(t, stored.ConfigDigest, generic.ConfigDigest, "the recipes are part of the config a result names")
}
