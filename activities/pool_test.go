package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// A pool's pages, read one by one, are its points in run order, and no
// page runs past the canaries.
func TestLoadPoolPagePagesThePlanInRunOrder(t *testing.T) {
	a := &Activities{Lake: testLake(t)}
	ctx := context.Background()
	out, err := a.PlanSweep(ctx, examplePlan)
	require.NoError(t, err)
	whole, err := a.LoadRunnerPoints(ctx, out.PlanKey, "sim-h100")
	require.NoError(t, err)
	want, canaries := sweep.RunOrder(whole.Points)

	counts, err := a.LoadPoolPage(ctx, PoolPageInput{PlanKey: out.PlanKey, Runner: "sim-h100"})
	require.NoError(t, err)
	require.Equal(t, PoolPage{ConfigDigest: whole.ConfigDigest, Total: 9, Canaries: canaries}, counts, "limit 0: the counts alone")
	require.Less(t, canaries, 9)

	tests := []struct {
		from, limit int
		want        []sweep.Point
	}{
		{0, 100, want[:canaries]},
		{canaries - 1, 4, want[canaries-1 : canaries]},
		{canaries, 2, want[canaries : canaries+2]},
		{8, 5, want[8:]},
		{9, 5, nil},
	}
	for _, tc := range tests {
		page, err := a.LoadPoolPage(ctx, PoolPageInput{PlanKey: out.PlanKey, Runner: "sim-h100", From: tc.from, Limit: tc.limit})
		require.NoError(t, err)
		require.Equal(t, tc.want, page.Points, "from %d limit %d", tc.from, tc.limit)
	}
	_, err = a.LoadPoolPage(ctx, PoolPageInput{PlanKey: out.PlanKey, Runner: "sim-h100", From: -1, Limit: 1})
	kind, nonRetryable := appErrorType(err)
	require.Equal(t, ErrConfig, kind)
	require.True(t, nonRetryable)
}

// The manifest reads the parts pools wrote, with keys derived from ids.
func TestWriteManifestReadsThePoolsParts(t *testing.T) {
	a := &Activities{Lake: testLake(t)}
	ctx := context.Background()
	const date, sweepID = "2026-11-27", "s1"
	var outcomes []results.Outcome
	for _, id := range []string{"p1", "p2"} {
		row := results.PointRow{SweepID: sweepID, PointID: id, Runner: "h100", Status: "failed"}
		body, err := results.Encode([]results.PointRow{row}, nil)
		require.NoError(t, err)
		key := results.TableKey(results.TablePoints, date, "h100", sweepID, id)
		require.NoError(t, a.Lake.PutOnce(ctx, key, body, "application/vnd.apache.parquet"))
		outcomes = append(outcomes, results.Outcome{PointID: id, Status: "failed", Tables: []string{results.TablePoints}})
	}
	require.NoError(t, a.WriteManifestPart(ctx, ManifestPartInput{SweepID: sweepID, Date: date, Runner: "h100", Part: 0, Outcomes: outcomes[:1]}))
	require.NoError(t, a.WriteManifestPart(ctx, ManifestPartInput{SweepID: sweepID, Date: date, Runner: "h100", Part: 1, Outcomes: outcomes[1:]}))

	key, err := a.WriteManifest(ctx, ManifestInput{SweepID: sweepID, Date: date, Pools: []PoolParts{{Runner: "h100", Parts: 2}}})
	require.NoError(t, err)
	m, err := a.Lake.Manifest(ctx, sweepID)
	require.NoError(t, err)
	require.Equal(t, results.ManifestKey(date, sweepID), key)
	require.Equal(t, map[string]int{"failed": 2}, m.Counts)
	require.Equal(t, "partial", m.Status)
	require.Len(t, m.Points, 2)
	require.Equal(t, results.TableKey(results.TablePoints, date, "h100", sweepID, "p2"), m.Points[1].Keys[results.TablePoints])
}
