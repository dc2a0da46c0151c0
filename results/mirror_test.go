package results

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPullMirrorsCommittedSweepsUnderTheirKeys(t *testing.T) {
	ctx := context.Background()
	lake := NewLake(embeddedStore(t))
	committed := writePoint(t, lake, "2026-11-27", "sim-h100", "s1", "p1")
	require.NoError(t, lake.WriteManifest(ctx, Manifest{SweepID: "s1", Date: "2026-11-27", Status: "complete", Points: []ManifestPoint{committed}}))
	writePoint(t, lake, "2026-11-27", "sim-h100", "running", "p2") // no manifest: not pulled

	dir := t.TempDir()
	sweeps, files, err := lake.Pull(ctx, dir, "2026-11-01", "")
	require.NoError(t, err)
	require.Equal(t, 1, sweeps)
	require.Equal(t, 3, files, "the points and requests files of p1, and the manifest")
	for _, key := range []string{committed.Keys[TablePoints], committed.Keys[TableRequests], ManifestKey("2026-11-27", "s1")} {
		want, err := lake.Store().Get(ctx, key)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, key))
		require.NoError(t, err)
		require.Equal(t, want, got, key)
	}
	_, err = os.Stat(filepath.Join(dir, TableKey(TablePoints, "2026-11-27", "sim-h100", "running", "p2")))
	require.ErrorIs(t, err, os.ErrNotExist)
}
