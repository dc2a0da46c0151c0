package analysis

import (
	"cmp"
	"context"
	"slices"

	"github.com/infersweep/infersweep/results"
)

// EvalLake is a Lake that also reads eval rows; Build adds the report's
// Evals section when its lake is one.
type EvalLake interface {
	Evals(ctx context.Context, m results.Manifest) ([]results.EvalRow, error)
}

// EvalEntry is one configuration's score on one task and filter tonight,
// with the same configuration's scores on earlier nights (a point id is
// its configuration's hash, the same every night), oldest first.
type EvalEntry struct {
	results.EvalRow
	Trend []EvalTrendValue `json:"trend,omitempty"`
}

// EvalTrendValue is one earlier night's score.
type EvalTrendValue struct {
	SweepID string  `json:"sweep_id"`
	Date    string  `json:"date"`
	Value   float64 `json:"value"`
}

// evalTrendNights bounds the earlier sweeps whose evals a report reads:
// each costs a manifest and a file per eval point.
const evalTrendNights = 7

// buildEvals reads tonight's eval rows and those of up to evalTrendNights
// earlier sweeps (newest first in earlier) into entries.
func buildEvals(ctx context.Context, lake Lake, m results.Manifest, earlier []results.SweepRef) ([]EvalEntry, error) {
	el, ok := lake.(EvalLake)
	if !ok {
		return nil, nil
	}
	tonight, err := el.Evals(ctx, m)
	if err != nil || len(tonight) == 0 {
		return nil, err
	}
	type key struct{ point, task, filter string }
	entries := make([]EvalEntry, len(tonight))
	at := map[key]int{}
	for i, r := range tonight {
		entries[i] = EvalEntry{EvalRow: r}
		at[key{r.PointID, r.Task, r.Filter}] = i
	}
	for _, ref := range earlier[:min(len(earlier), evalTrendNights)] {
		em, err := lake.ManifestOf(ctx, ref)
		if err != nil {
			return nil, err
		}
		rows, err := el.Evals(ctx, em)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if i, ok := at[key{r.PointID, r.Task, r.Filter}]; ok && r.Value != nil {
				entries[i].Trend = append([]EvalTrendValue{{SweepID: ref.SweepID, Date: ref.Date, Value: *r.Value}}, entries[i].Trend...)
			}
		}
	}
	slices.SortStableFunc(entries, func(a, b EvalEntry) int {
		return cmp.Or(cmp.Compare(a.Runner, b.Runner), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Framework, b.Framework),
			cmp.Compare(a.Precision, b.Precision), cmp.Compare(a.Conc, b.Conc), cmp.Compare(a.PointID, b.PointID), cmp.Compare(a.Task, b.Task))
	})
	return entries, nil
}
