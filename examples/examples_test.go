package examples

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMaterializeWritesTheFilesOfThisFolder: the embedded copies are the
// files in the repository, byte for byte.
func TestMaterializeWritesTheFilesOfThisFolder(t *testing.T) {
	dir, err := Materialize(filepath.Join(t.TempDir(), "examples"))
	require.NoError(t, err)
	for _, name := range []string{"sweep.yaml", "runners.yaml", "settings.yaml", "schedules.yaml"} {
		want, err := os.ReadFile(name)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), name)
	}
}
