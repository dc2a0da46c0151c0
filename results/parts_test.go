package results

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestManifestPartsRoundTrip(t *testing.T) {
	ctx := context.Background()
	lake := NewLake(embeddedStore(t))
	measured := ManifestPoint{PointID: "p1", Hardware: "h100", Status: "succeeded", Keys: map[string]string{
		TableRequests: TableKey(TableRequests, "2026-12-07", "h100", "s1", "p1"),
		TablePoints:   TableKey(TablePoints, "2026-12-07", "h100", "s1", "p1"),
	}}
	failed := ManifestPoint{PointID: "p2", Hardware: "h100", Status: "failed", Keys: map[string]string{TablePoints: TableKey(TablePoints, "2026-12-07", "h100", "s1", "p2")}}
	require.Equal(t, Outcome{PointID: "p1", Status: "succeeded", Tables: []string{TablePoints, TableRequests}}, OutcomeOf(measured))

	parts := [][]Outcome{{OutcomeOf(measured)}, {OutcomeOf(failed)}}
	for i, part := range parts {
		require.NoError(t, lake.PutManifestPart(ctx, "2026-12-07", "s1", "h100", i, part))
	}
	require.NoError(t, lake.PutManifestPart(ctx, "2026-12-07", "s1", "h100", 0, parts[0]), "a retried write of the same part")
	err := lake.PutManifestPart(ctx, "2026-12-07", "s1", "h100", 0, parts[1])
	require.True(t, errors.Is(err, ErrWriteOnce), "a part is write-once: %v", err)

	got, err := lake.ManifestParts(ctx, "2026-12-07", "s1", "h100", 2)
	require.NoError(t, err)
	require.Equal(t, []ManifestPoint{measured, failed}, got, "keys derived from ids equal the ones written")

	_, err = lake.ManifestParts(ctx, "2026-12-07", "s1", "h100", 3)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorContains(t, err, "v1/parts/dt=2026-12-07/sweep=s1/hardware=h100/part-00002.json")
}
