package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMaterializeWritesTheFilesOfThisFolder: the embedded copies are the
// files in the repository, byte for byte.
func TestMaterializeWritesTheFilesOfThisFolder(t *testing.T) {
	dir, err := Materialize(filepath.Join(t.TempDir(), "examples"))
	require.NoError(t, err)
	for _, name := range []string{"sweep.yaml", "runners.yaml", "settings.yaml", "schedules.yaml", "disagg.yaml", "disagg-runners.yaml"} {
		want, err := os.ReadFile(name)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), name)
	}
}

// TestPlaceAndOr: a stack with state keeps the examples beside it; an
// in-memory one gets a temporary copy that cleanup removes; a flag given
// wins over the example.
func TestPlaceAndOr(t *testing.T) {
	state := t.TempDir()
	tests := []struct {
		name      string
		ephemeral bool
		wantUnder string
		kept      bool
	}{
		{"with state", false, filepath.Join(state, "examples"), true},
		{"in memory", true, os.TempDir(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, cleanup, err := Place(state, tt.ephemeral)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(dir, tt.wantUnder), dir)
			require.FileExists(t, Or("", dir, "sweep.yaml"))
			cleanup()
			_, err = os.Stat(dir)
			require.Equal(t, tt.kept, err == nil)
		})
	}
	require.Equal(t, "mine.yaml", Or("mine.yaml", "/x", "sweep.yaml"))
	require.Equal(t, "/x/disagg.yaml", Or("examples/disagg.yaml", "/x", "sweep.yaml"), "a built-in example named from elsewhere")
	require.Equal(t, "examples.go", Or("examples.go", "/x", "sweep.yaml"), "a file that exists wins")
}
