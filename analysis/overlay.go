package analysis

import (
	"cmp"
	"slices"
)

// GroupKey names a comparable group: model, precision, sequence lengths.
type GroupKey struct {
	Model     string `json:"model"`
	Precision string `json:"precision"`
	ISL       int    `json:"isl"`
	OSL       int    `json:"osl"`
}

func (k SeriesKey) group() GroupKey { return GroupKey{k.Model, k.Precision, k.ISL, k.OSL} }

// TrendMark is one night's figure on a series' trend and its verdict
// against the nights before it, as Regressions reaches it.
type TrendMark struct {
	TrendValue
	Verdict   string   `json:"verdict"`
	ChangePct *float64 `json:"change_pct"`
}

// SeriesTrend is a series' throughput per GPU at a target interactivity,
// night by night, oldest first; nights whose frontier misses the target
// have no mark.
type SeriesTrend struct {
	Series string      `json:"series"`
	Marks  []TrendMark `json:"marks"`
}

// GroupTrend follows each series of group g over nights (oldest first)
// at target: every night's frontier read at the target and judged
// against up to k nights before it, so a regression shows on the night
// it happened.
func GroupTrend(nights []Night, g GroupKey, target float64, k int) []SeriesTrend {
	var series []string
	for _, n := range nights {
		for key := range n.Frontiers {
			if key.group() == g && !slices.Contains(series, key.Series) {
				series = append(series, key.Series)
			}
		}
	}
	slices.Sort(series)
	out := make([]SeriesTrend, 0, len(series))
	for _, name := range series {
		key := SeriesKey{g.Model, g.Precision, g.ISL, g.OSL, name}
		t := SeriesTrend{Series: name, Marks: []TrendMark{}}
		for i, n := range nights {
			history := slices.Clone(nights[max(0, i-k):i])
			slices.Reverse(history)
			tonight := Group{Model: g.Model, Precision: g.Precision, ISL: g.ISL, OSL: g.OSL,
				Series: []Series{{Key: name, Frontier: n.Frontiers[key]}}}
			regs := Regressions([]Group{tonight}, history, []float64{target}, k)
			if len(regs) == 0 || regs[0].Tonight == nil {
				continue
			}
			t.Marks = append(t.Marks, TrendMark{TrendValue: TrendValue{n.SweepID, n.Date, *regs[0].Tonight},
				Verdict: regs[0].Verdict, ChangePct: regs[0].ChangePct})
		}
		out = append(out, t)
	}
	return out
}

// SeriesDiff is one series of two sweeps read at the same interactivity:
// nil where a frontier does not reach it.
type SeriesDiff struct {
	GroupKey
	Series        string   `json:"series"`
	Interactivity float64  `json:"interactivity"` // tok/s/user
	A             *float64 `json:"a_tput_per_gpu"`
	B             *float64 `json:"b_tput_per_gpu"`
	// ChangePct is A against B (the reference, such as the official
	// nightly), in percent.
	ChangePct *float64 `json:"change_pct"`
}

// CompareNights reads every series of a and b at each target
// interactivity, in series order; a series only one sweep has is listed
// with the other's figures nil.
func CompareNights(a, b Night, targets []float64) []SeriesDiff {
	keys := make([]SeriesKey, 0, len(a.Frontiers)+len(b.Frontiers))
	for _, n := range []Night{a, b} {
		for key := range n.Frontiers {
			if !slices.Contains(keys, key) {
				keys = append(keys, key)
			}
		}
	}
	slices.SortFunc(keys, func(x, y SeriesKey) int {
		return cmp.Or(cmp.Compare(x.Model, y.Model), cmp.Compare(x.Precision, y.Precision), cmp.Compare(x.ISL, y.ISL),
			cmp.Compare(x.OSL, y.OSL), cmp.Compare(x.Series, y.Series))
	})
	var out []SeriesDiff
	for _, key := range keys {
		for _, target := range targets {
			d := SeriesDiff{GroupKey: key.group(), Series: key.Series, Interactivity: target}
			if v, ok := InterpolateAt(a.Frontiers[key], target); ok {
				d.A = &v
			}
			if v, ok := InterpolateAt(b.Frontiers[key], target); ok {
				d.B = &v
			}
			if d.A == nil && d.B == nil {
				continue
			}
			if d.A != nil && d.B != nil {
				change := (*d.A - *d.B) / *d.B * 100
				d.ChangePct = &change
			}
			out = append(out, d)
		}
	}
	return out
}
