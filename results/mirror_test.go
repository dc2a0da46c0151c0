package results

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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
	var seen []PullProgress
	res, err := lake.Pull(ctx, dir, "2026-11-01", "", func(p PullProgress) { seen = append(seen, p) })
	require.NoError(t, err)
	require.Equal(t, PullResult{Sweeps: 1, Files: 3}, res, "the points and requests files of p1, and the manifest")
	require.Equal(t, []PullProgress{
		{SweepsDone: 0, Sweeps: 1, SweepID: "s1", Files: 1, SweepFiles: 2},
		{SweepsDone: 0, Sweeps: 1, SweepID: "s1", Files: 2, SweepFiles: 2},
	}, seen)
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

// A nightly pull fetches only the nights it has not mirrored whole: a
// sweep whose manifest (copied last) is there is skipped, and a file
// left half-written by an interrupted pull is never taken for done.
func TestPullSkipsSweepsMirroredWhole(t *testing.T) {
	ctx := context.Background()
	lake := NewLake(embeddedStore(t))
	for _, id := range []string{"s1", "s2"} {
		p := writePoint(t, lake, "2026-11-27", "sim-h100", id, "p1")
		require.NoError(t, lake.WriteManifest(ctx, Manifest{SweepID: id, Date: "2026-11-27", Status: "complete", Points: []ManifestPoint{p}}))
	}
	dir := t.TempDir()
	_, err := lake.PullSweep(ctx, dir, "s1")
	require.NoError(t, err)
	// s2 was interrupted after its first file: no manifest yet.
	s2, err := lake.Manifest(ctx, "s2")
	require.NoError(t, err)
	require.NoError(t, lake.Download(ctx, s2.Points[0].Keys[TablePoints], filepath.Join(dir, s2.Points[0].Keys[TablePoints])))

	res, err := lake.Pull(ctx, dir, "", "", nil)
	require.NoError(t, err)
	require.Equal(t, PullResult{Sweeps: 2, Skipped: 1, Files: 3}, res, "s2 again, whole: points, requests, manifest")
	entries, err := os.ReadDir(filepath.Dir(filepath.Join(dir, s2.Points[0].Keys[TablePoints])))
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), "."), "no temporary file left: %s", e.Name())
	}
}
