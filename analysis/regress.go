package analysis

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// SeriesKey names one series within its comparable group.
type SeriesKey struct {
	Model     string
	Precision string
	ISL, OSL  int
	Series    string // runner/framework
}

// Night is an earlier committed sweep as regression detection sees it:
// each series' frontier and ids of points it measured. Build fills
// PointIDs with the points on its frontiers and, of the others, those
// tonight's regressions name, not with every point of the sweep.
type Night struct {
	SweepID   string
	Date      string
	Frontiers map[SeriesKey][]Point
	PointIDs  map[string]bool
	// Launches are the launch fingerprints of the points it knows of.
	Launches map[string]string
}

// NightOf reduces a sweep's groups to what later nights compare against.
func NightOf(sweepID, date string, groups []Group, pointIDs []string) Night {
	n := Night{SweepID: sweepID, Date: date, Frontiers: map[SeriesKey][]Point{}, PointIDs: map[string]bool{}, Launches: map[string]string{}}
	for _, g := range groups {
		for _, s := range g.Series {
			n.Frontiers[SeriesKey{g.Model, g.Precision, g.ISL, g.OSL, s.Key}] = s.Frontier
		}
	}
	for _, id := range pointIDs {
		n.PointIDs[id] = true
	}
	return n
}

// Verdicts of a series at one target interactivity.
const (
	VerdictRegression  = "regression"  // dropped beyond the threshold
	VerdictImprovement = "improvement" // rose beyond the threshold
	VerdictSteady      = "steady"      // within the threshold
	VerdictNew         = "new"         // no earlier night reaches the target
	VerdictLost        = "lost"        // earlier nights reach the target, tonight's frontier does not
)

// RegressionMethod states how verdicts are reached, for reports.
const RegressionMethod = `For each series and target interactivity, tonight's throughput per GPU is read off the series' Pareto frontier with a monotone (Steffen) spline and compared with the median of the same figure over the last k earlier sweeps that reach the target. The series' noise is 1.4826 × the median absolute deviation of those earlier figures, relative to their median; a change beyond max(5%, 3 × noise) is a regression (drop) or an improvement (rise). Where tonight's frontier point nearest the target was also measured in the latest earlier sweep, the per-request TPOT samples of both are compared with a two-sided Mann–Whitney U test (normal approximation, tie-corrected) and its p-value is reported.`

// Regression is one series at one target: tonight against its history.
// Figures that could not be computed are nil.
type Regression struct {
	SeriesKey
	Target       float64  `json:"target_interactivity"` // tok/s/user
	Verdict      string   `json:"verdict"`
	Tonight      *float64 `json:"tput_per_gpu"`          // tok/s/GPU, interpolated
	Baseline     *float64 `json:"baseline_tput_per_gpu"` // median of the earlier nights
	Nights       int      `json:"baseline_nights"`
	ChangePct    *float64 `json:"change_pct"`
	NoisePct     *float64 `json:"noise_pct"`
	ThresholdPct float64  `json:"threshold_pct"`
	// PointID is tonight's frontier point nearest the target; BaselineSweep
	// the latest earlier sweep that measured the same point, when one did.
	PointID       string   `json:"point_id"`
	BaselineSweep string   `json:"baseline_sweep"`
	PValue        *float64 `json:"p_value"` // Mann–Whitney U on per-request TPOT
	// RecipeChanged: that point ran another engine launch in the
	// baseline sweep (both fingerprints known).
	RecipeChanged bool `json:"recipe_changed"`
}

// MinRegressionPct is the smallest change ever flagged, whatever the noise.
const MinRegressionPct = 5.0

// Regressions compares each series of tonight's groups, at each target,
// with up to k earlier nights (newest first in history). Series that
// reach a target in neither tonight nor any earlier night are left out.
func Regressions(groups []Group, history []Night, targets []float64, k int) []Regression {
	var out []Regression
	for _, g := range groups {
		for _, s := range g.Series {
			key := SeriesKey{g.Model, g.Precision, g.ISL, g.OSL, s.Key}
			for _, target := range targets {
				r := Regression{SeriesKey: key, Target: target, ThresholdPct: MinRegressionPct}
				if v, ok := InterpolateAt(s.Frontier, target); ok {
					r.Tonight = &v
				}
				var earlier []float64
				for _, night := range history {
					if len(earlier) == k {
						break
					}
					if v, ok := InterpolateAt(night.Frontiers[key], target); ok {
						earlier = append(earlier, v)
					}
				}
				r.Nights = len(earlier)
				switch {
				case r.Tonight == nil && len(earlier) == 0:
					continue
				case len(earlier) == 0:
					r.Verdict = VerdictNew
				default:
					base := median(earlier)
					r.Baseline = &base
					noise := 1.4826 * mad(earlier, base) / base * 100
					r.NoisePct = &noise
					r.ThresholdPct = math.Max(MinRegressionPct, 3*noise)
					if r.Tonight == nil {
						r.Verdict = VerdictLost
						break
					}
					change := (*r.Tonight - base) / base * 100
					r.ChangePct = &change
					switch {
					case change < -r.ThresholdPct:
						r.Verdict = VerdictRegression
					case change > r.ThresholdPct:
						r.Verdict = VerdictImprovement
					default:
						r.Verdict = VerdictSteady
					}
				}
				r.PointID = nearest(s.Frontier, target)
				for _, night := range history {
					if r.PointID != "" && night.PointIDs[r.PointID] {
						r.BaselineSweep = night.SweepID
						r.RecipeChanged = launchChanged(s.Frontier, r.PointID, night.Launches[r.PointID])
						break
					}
				}
				out = append(out, r)
			}
		}
	}
	return out
}

// launchChanged: the frontier's point id ran another launch than before,
// when both are known.
func launchChanged(frontier []Point, id, before string) bool {
	for _, p := range frontier {
		if p.ID == id {
			return p.Launch != "" && before != "" && p.Launch != before
		}
	}
	return false
}

// InterpolateAt reads a frontier's throughput at a target interactivity:
// a measured point when one sits there, else the Steffen spline between
// measured ones; never beyond them.
func InterpolateAt(frontier []Point, target float64) (float64, bool) {
	if len(frontier) == 1 {
		return frontier[0].Y, frontier[0].X == target
	}
	spline, err := NewSteffen(frontier)
	if err != nil {
		return 0, false
	}
	return spline.At(target)
}

func nearest(frontier []Point, target float64) string {
	if len(frontier) == 0 {
		return ""
	}
	best := slices.MinFunc(frontier, func(a, b Point) int {
		return cmp.Compare(math.Abs(a.X-target), math.Abs(b.X-target))
	})
	return best.ID
}

func median(values []float64) float64 {
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mad(values []float64, center float64) float64 {
	dev := make([]float64, len(values))
	for i, v := range values {
		dev[i] = math.Abs(v - center)
	}
	return median(dev)
}
