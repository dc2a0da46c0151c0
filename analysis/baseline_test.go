package analysis

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/analysis/analysistest"
	"github.com/infersweep/infersweep/results"
)

// TestBuildPicksTheNewestSweepThatMeasuredThePoint: a regression row's
// baseline sweep is the newest earlier one whose manifest listed its
// point, whatever the point's status there, and its p-value needs the
// point to have succeeded there. Build finds that without reading
// earlier manifests: from the stored frontiers, else the points rows.
func TestBuildPicksTheNewestSweepThatMeasuredThePoint(t *testing.T) {
	isSeries := func(runner, framework string) bool { return runner == "h100" && framework == "sglang" }
	for _, tc := range []struct {
		name string
		// before changes the night before's rows; offFrontier leaves the
		// series out of its stored frontiers.
		before      func(rows []results.PointRow) []results.PointRow
		offFrontier bool
		baseline    string
		pValue      bool
		statusReads bool
	}{
		{name: "on the frontier the night before", baseline: "n1", pValue: true},
		{name: "measured the night before, off its frontier", offFrontier: true, baseline: "n1", pValue: true, statusReads: true},
		{name: "failed the night before: no test against a failure", before: func(rows []results.PointRow) []results.PointRow {
			for i := range rows {
				if isSeries(rows[i].Runner, rows[i].Framework) {
					rows[i].Status = "failed"
				}
			}
			return rows
		}, baseline: "n1", statusReads: true},
		{name: "not in the night before: the night before that", before: func(rows []results.PointRow) []results.PointRow {
			return slices.DeleteFunc(rows, func(r results.PointRow) bool { return isSeries(r.Runner, r.Framework) })
		}, baseline: "n0", pValue: true, statusReads: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			lake := newMemLake()
			base := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
			for i, id := range []string{"n0", "n1", "tonight"} {
				lake.AddNight(analysistest.Night{ID: id, Date: base.AddDate(0, 0, i).Format(time.DateOnly), At: base.AddDate(0, 0, i), Entry: "e"})
			}
			if tc.before != nil {
				lake.RowsByID["n1"] = tc.before(lake.RowsByID["n1"])
			}
			series := map[string]bool{}
			for _, r := range lake.RowsByID["n1"] {
				series[r.PointID] = isSeries(r.Runner, r.Framework)
			}
			for _, id := range []string{"n0", "n1"} {
				rep, err := Build(ctx, lake, id, Options{})
				require.NoError(t, err)
				// The overall frontiers name the series' points too.
				lake.FrontiersByID[id] = slices.DeleteFunc(FrontierRows(id, rep.Groups), func(r results.FrontierRow) bool {
					return id == "n1" && tc.offFrontier && series[r.PointID]
				})
			}
			lake.ManifestReads, lake.StatusReads = 0, 0

			rep, err := Build(ctx, lake, "tonight", Options{})
			require.NoError(t, err)
			require.Equal(t, 1, lake.ManifestReads, "tonight's manifest only")
			require.Equal(t, tc.statusReads, lake.StatusReads > 0, "points rows read: %d", lake.StatusReads)
			rows := 0
			for _, r := range rep.Regressions {
				if r.Series != "h100/sglang" {
					require.Equal(t, "n1", r.BaselineSweep, "%s %s at %v", r.Model, r.Series, r.Target)
					continue
				}
				rows++
				require.Equal(t, tc.baseline, r.BaselineSweep, "%s at %v", r.Model, r.Target)
				require.Equal(t, tc.pValue, r.PValue != nil, "%s at %v", r.Model, r.Target)
			}
			require.Equal(t, 2*2, rows, "two models, at the two targets (20, 50) its curve reaches")
		})
	}
}
