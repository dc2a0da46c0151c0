package results

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPointOutcomeReadsThePointsRowByItsDerivedKey(t *testing.T) {
	lake, ctx := NewLake(embeddedStore(t)), context.Background()
	// One points file per point, each with the statuses of its rows.
	for point, statuses := range map[string][]string{"p1": {"succeeded"}, "p2": {"failed"}, "p3": {"succeeded", "failed"}} {
		var rows []PointRow
		for _, s := range statuses {
			rows = append(rows, PointRow{SweepID: "s1", PointID: point, Status: s, LaunchFingerprint: "fp-" + point})
		}
		body, err := Encode(rows, nil)
		require.NoError(t, err)
		require.NoError(t, lake.PutOnce(ctx, TableKey(TablePoints, "2026-11-27", "sim-h100", "s1", point), body, "application/vnd.apache.parquet"))
	}

	for _, tc := range []struct {
		name, hardware, sweep, point string
		status, err                  string
		notFound                     bool
	}{
		{name: "measured", hardware: "sim-h100", sweep: "s1", point: "p1", status: "succeeded"},
		// A failed point has a points row too: the sweep did list it.
		{name: "failed", hardware: "sim-h100", sweep: "s1", point: "p2", status: "failed"},
		{name: "not in the sweep", hardware: "sim-h100", sweep: "s1", point: "p9", notFound: true},
		{name: "other hardware", hardware: "sim-mi355x", sweep: "s1", point: "p1", notFound: true},
		{name: "other sweep", hardware: "sim-h100", sweep: "s2", point: "p1", notFound: true},
		{name: "two rows", hardware: "sim-h100", sweep: "s1", point: "p3",
			err: "s3://lake/v1/points/dt=2026-11-27/hardware=sim-h100/sweep=s1/p3.parquet holds 2 rows, want 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, launch, err := lake.PointOutcome(ctx, "2026-11-27", tc.hardware, tc.sweep, tc.point)
			switch {
			case tc.notFound:
				require.ErrorIs(t, err, ErrNotFound)
			case tc.err != "":
				require.EqualError(t, err, tc.err)
			default:
				require.NoError(t, err)
				require.Equal(t, tc.status, status)
				require.Equal(t, "fp-"+tc.point, launch)
			}
		})
	}
}
