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

	runnersPath, err := sizedRunners(path, "../examples/settings.yaml", dir)
	require.NoError(t, err)
	runners, err := sweep.ReadRunners(runnersPath)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{
		"sim-h100-multinode": {"sim-h100-multinode-0", "sim-h100-multinode-1", "sim-h100-multinode-2", "sim-h100-multinode-3"},
		"sim-h100":           {"sim-h100-0"},
		"sim-h200":           {"sim-h200-0"},
		"sim-mi355x":         {"sim-mi355x-0"},
	}, runners.Labels)
	require.Equal(t, 8, runners.Hardware["sim-h100-multinode"].GPUsPerNode)
}
