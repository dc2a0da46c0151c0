package devfleet

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

// A spec's pools get as many simulated nodes as its widest deployment:
// examples/disagg.yaml's aggregated deployment (2 workers of TP16 on
// 8-GPU nodes) needs 4, its disaggregated one 3; single-node pools get 1.
func TestSizedRunnersFitTheWidestDeployment(t *testing.T) {
	dir := t.TempDir()
	spec, err := os.ReadFile("../examples/disagg.yaml")
	require.NoError(t, err)
	single, err := os.ReadFile("../examples/sweep.yaml")
	require.NoError(t, err)
	path := filepath.Join(dir, "spec.yaml")
	require.NoError(t, os.WriteFile(path, append(append(spec, '\n'), single...), 0o644))

	shape, err := sizedRunners([]string{path}, "", "../examples/settings.yaml", sweep.Filters{}, false, dir)
	require.NoError(t, err)
	require.Nil(t, shape.realRunners)
	runners, err := sweep.ReadRunners(shape.runners)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{
		"sim-h100-multinode": {"sim-h100-multinode-0", "sim-h100-multinode-1", "sim-h100-multinode-2", "sim-h100-multinode-3"},
		"sim-h100":           {"sim-h100-0"},
		"sim-h200":           {"sim-h200-0"},
		"sim-mi355x":         {"sim-mi355x-0"},
	}, runners.Labels)
	require.Equal(t, 8, runners.Hardware["sim-h100-multinode"].GPUsPerNode)
}

const (
	upstreamAMD     = "../sweep/testdata/upstream/amd-master.yaml"
	upstreamNVIDIA  = "../sweep/testdata/upstream/nvidia-master.yaml"
	upstreamRunners = "../sweep/testdata/upstream/runners.yaml"
)

// --simulate plans against upstream's real runners.yaml with upstream's
// filters: only the labels with selected points get a simulated pool, of
// the hardware the file gives the label (or the catalogue's), sized to the
// widest deployment, and the real fleet's runner counts are kept (upstream's multinode runners
// submit to a cluster: GB200's 3 runners are not its 18 trays).
func TestSizedRunnersSimulateARealFleet(t *testing.T) {
	tests := []struct {
		name    string
		specs   []string
		filters sweep.Filters
		label   string
		nodes   int // the simulated pool's
		gpus    int
	}{
		{"single-node MI355X rows", []string{upstreamAMD}, sweep.Filters{ConfigKeys: []string{"dsr1-fp4-mi355x-sglang"}}, "mi355x", 1, 8},
		{"a GB200 disaggregated entry spans 18 trays", []string{upstreamNVIDIA}, sweep.Filters{ConfigKeys: []string{"dsr1-fp8-gb200-dynamo-sglang"}}, "gb200", 18, 4},
	}
	real, err := sweep.ReadRunners(upstreamRunners)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shape, err := sizedRunners(tt.specs, upstreamRunners, "", tt.filters, true, t.TempDir())
			require.NoError(t, err)
			runners, err := sweep.ReadRunners(shape.runners)
			require.NoError(t, err)
			require.Len(t, runners.Labels, 1)
			require.Len(t, runners.Labels[tt.label], tt.nodes)
			require.Equal(t, tt.gpus, runners.Hardware[tt.label].GPUsPerNode)
			require.Equal(t, len(real.Labels[tt.label]), shape.realRunners[tt.label])
			require.Positive(t, shape.realRunners[tt.label])
		})
	}
}
