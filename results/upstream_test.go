package results

import (
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"
)

// A checkout's files go to the lake by content and come back by path
// under UpstreamRoot; a path the index lacks does not exist; other names
// are read as before.
func TestUpstreamIndexRoundTrip(t *testing.T) {
	ctx := context.Background()
	lake := NewLake(embeddedStore(t))
	files := map[string][]byte{
		"benchmarks/multi_node/srt-slurm-recipes/sglang/a.yaml": []byte("name: a\n"),
		"benchmarks/multi_node/srt-slurm-recipes/sglang/b.yaml": []byte("name: b\n"),
	}
	ref, err := lake.PutUpstream(ctx, files)
	require.NoError(t, err)
	again, err := lake.PutUpstream(ctx, files)
	require.NoError(t, err)
	require.Equal(t, ref, again, "the same files are the same index, night after night")

	lakeRead := func(name string) ([]byte, error) { return lake.Store().Get(ctx, name[len(LakeRefPrefix):]) }
	read, err := UpstreamReader(ref, lakeRead)
	require.NoError(t, err)
	for rel, want := range files {
		got, err := read(UpstreamRoot + "/" + rel)
		require.NoError(t, err, rel)
		require.Equal(t, want, got, rel)
	}
	_, err = read(UpstreamRoot + "/benchmarks/multi_node/srt-slurm-recipes/sglang/c.yaml")
	require.ErrorIs(t, err, fs.ErrNotExist)
	spec, _, err := lake.PutSpec(ctx, []byte("e1: {}\n"))
	require.NoError(t, err)
	got, err := read(spec)
	require.NoError(t, err)
	require.Equal(t, "e1: {}\n", string(got), "names outside the checkout pass through")
}
