package results

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/stretchr/testify/require"
)

func TestManifestPartsRoundTrip(t *testing.T) {
	ctx := context.Background()
	lake := NewLake(embeddedStore(t))
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	measured, _, err := lake.CommitPoint(ctx, MeasuredPoint{Date: "2026-12-07", Row: PointRow{SweepID: "s1", PointID: "p1", Runner: "h100", Status: "succeeded", Start: at, End: at.Add(time.Minute)},
		Records: []loadgen.Record{{Index: 0, RequestedOut: 8, OutputTokens: 8}}})
	require.NoError(t, err)
	failed, _, err := lake.CommitUnmeasured(ctx, "2026-12-07", PointRow{SweepID: "s1", PointID: "p2", Runner: "h100", Status: "failed", Start: at, End: at})
	require.NoError(t, err)
	require.Equal(t, Outcome{PointID: "p1", Status: "succeeded", Tables: []string{TablePoints, TableRequests}}, OutcomeOf(measured))

	parts := [][]Outcome{{OutcomeOf(measured)}, {OutcomeOf(failed)}}
	for i, part := range parts {
		require.NoError(t, lake.PutManifestPart(ctx, "2026-12-07", "s1", "h100", i, part))
	}
	require.NoError(t, lake.PutManifestPart(ctx, "2026-12-07", "s1", "h100", 0, parts[0]), "a retried write of the same part: the same bytes")
	err = lake.PutManifestPart(ctx, "2026-12-07", "s1", "h100", 0, parts[1])
	require.True(t, errors.Is(err, ErrWriteOnce), "a part is write-once: %v", err)

	got, err := lake.ManifestParts(ctx, "2026-12-07", "s1", "h100", 2)
	require.NoError(t, err)
	require.Equal(t, []ManifestPoint{measured, failed}, got, "keys derived from ids equal the ones written")

	// The parts' points rows read as the points' own files do.
	m := Manifest{SweepID: "s1", Date: "2026-12-07", Points: got}
	perPoint, err := lake.Points(ctx, m)
	require.NoError(t, err)
	m.PointParts = []string{PointPartKey("2026-12-07", "s1", "h100", 1), PointPartKey("2026-12-07", "s1", "h100", 0)}
	fromParts, err := lake.Points(ctx, m)
	require.NoError(t, err)
	require.Equal(t, perPoint, fromParts)
	require.Equal(t, []string{"p1", "p2"}, []string{fromParts[0].PointID, fromParts[1].PointID})
	require.NoError(t, lake.WriteManifest(ctx, m), "the parts are there")
	m.SweepID, m.PointParts = "s2", []string{PointPartKey("2026-12-07", "s2", "h100", 0)}
	require.ErrorContains(t, lake.WriteManifest(ctx, m), "lists points part v1/parts/dt=2026-12-07/sweep=s2/hardware=h100/part-00000.parquet")

	_, err = lake.ManifestParts(ctx, "2026-12-07", "s1", "h100", 3)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorContains(t, err, "v1/parts/dt=2026-12-07/sweep=s1/hardware=h100/part-00002.json")
}
