package recipes

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

// Every point of the InferenceX snapshot that recipes serve, single-node
// and multinode, gets the simulated engine standing in for its own
// framework, model, GPU and parallelism: what `demo --simulate` runs (690
// single-node and 642 multinode fixed-seq-len points in the snapshot).
func TestAttachSimulatedStandsInForEveryUpstreamPoint(t *testing.T) {
	dir := "../sweep/testdata/upstream"
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml"), filepath.Join(dir, "amd-master.yaml")},
		Runners: filepath.Join(dir, "runners.yaml"), Launches: AttachSimulated}, sweep.Filters{ScenarioType: sweep.ScenarioFixedSeqLen})
	require.NoError(t, err)
	byRecipe := map[string]int{}
	for _, p := range plan.Points {
		require.NotNil(t, p.Launch, "point %s of %s", p.ID, p.Entry)
		byRecipe[p.Launch.Recipe]++
		args := p.Launch.Args
		if p.Multinode {
			require.Equal(t, "sim-multinode", p.Launch.Recipe, p.Entry)
			require.NotEmpty(t, p.Launch.Roles, p.Entry)
			args = p.Launch.Roles[0].Launch.Args
		} else {
			require.Equal(t, "sim", p.Launch.Recipe, p.Entry)
			require.Equal(t, strconv.Itoa(p.TP), argAfter(t, args, "--tp"), p.Entry)
		}
		require.Equal(t, p.Framework, argAfter(t, args, "--framework"), p.Entry)
		require.Equal(t, p.Precision, argAfter(t, args, "--precision"), p.Entry)
	}
	t.Logf("%v", byRecipe)
	require.Equal(t, map[string]int{"sim": 690, "sim-multinode": 642}, byRecipe)
}

func argAfter(t *testing.T, args []string, flag string) string {
	t.Helper()
	i := slices.Index(args, flag)
	require.GreaterOrEqual(t, i, 0, "%s in %v", flag, args)
	require.Less(t, i+1, len(args))
	return args[i+1]
}

// The simulated engine stands in for every agentic point of the snapshot
// too, single-node (sim) and multinode (sim-multinode's workers): at the
// model's native context, and offloading KV to the point's DRAM budget
// where it does.
func TestAttachSimulatedStandsInForEveryAgenticPoint(t *testing.T) {
	plan := planUpstream(t, AttachSimulated, sweep.Filters{ScenarioType: sweep.ScenarioAgentic})
	served, offloading := map[string]int{}, map[string]int{}
	for _, p := range plan.Points {
		require.NotNil(t, p.Launch, "point %s of %s", p.ID, p.Entry)
		args := p.Launch.Args
		if p.Multinode {
			require.Equal(t, "sim-multinode", p.Launch.Recipe, p.Entry)
			args = p.Launch.Roles[0].Launch.Args
		} else {
			require.Equal(t, "sim", p.Launch.Recipe, p.Entry)
		}
		native, err := simMaxModelLen(p.Model)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(native), argAfter(t, args, "--max-model-len"), p.Entry)
		if p.KVOffloading == "dram" {
			require.Equal(t, "dram", argAfter(t, args, "--kv-offloading"), p.Entry)
			require.Equal(t, strconv.Itoa(p.TotalCPUDRAMGB), argAfter(t, args, "--cpu-dram-gb"), p.Entry)
			offloading[p.Launch.Recipe]++
		} else {
			require.NotContains(t, args, "--kv-offloading", p.Entry)
		}
		served[p.Launch.Recipe]++
	}
	require.Equal(t, map[string]int{"sim": 482, "sim-multinode": 264}, served)
	require.Equal(t, map[string]int{"sim": 178, "sim-multinode": 135}, offloading)
}
