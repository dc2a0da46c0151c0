package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMannWhitneyMatchesReferenceValues(t *testing.T) {
	tests := []struct {
		name  string
		a, b  []float64
		u, p  float64
		valid bool
	}{
		// SciPy's documented example (mannwhitneyu, method="asymptotic"):
		// U = 17, p = 0.11134688653314041.
		{"scipy example", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, 17, 0.11134688653314041, true},
		// Identical samples: U is half of n1·n2, p is 1.
		{"same sample", []float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}, 8, 1, true},
		{"empty", nil, []float64{1}, 0, 0, false},
		{"all tied", []float64{5, 5}, []float64{5, 5, 5}, 3, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, p, ok := MannWhitney(tc.a, tc.b)
			require.Equal(t, tc.valid, ok)
			if !tc.valid {
				return
			}
			require.InDelta(t, tc.u, u, 1e-9)
			require.InDelta(t, tc.p, p, 1e-9)
		})
	}
}

func TestMannWhitneySeparatesShiftedSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	sample := func(mean float64) []float64 {
		s := make([]float64, 400)
		for i := range s {
			s[i] = mean + r.NormFloat64()
		}
		return s
	}
	_, pShift, _ := MannWhitney(sample(20), sample(21))
	require.Less(t, pShift, 1e-6, "a shift of one standard deviation over 400 samples")
	_, pSame, _ := MannWhitney(sample(20), sample(20))
	require.Greater(t, pSame, 0.01)
}

// curve is a frontier whose throughput at every interactivity is scaled by
// factor: a night where the series got uniformly faster or slower.
func curve(factor float64, ids ...string) []Point {
	xs := []float64{5, 15, 30, 60, 120}
	ys := []float64{9000, 7000, 4500, 2500, 900}
	out := make([]Point, len(xs))
	for i := range xs {
		out[i] = Point{ID: ids[i%len(ids)] + fmt.Sprint(i), X: xs[i], Y: ys[i] * factor}
	}
	return out
}

func TestRegressionsOnSyntheticHistories(t *testing.T) {
	key := SeriesKey{"llama", "fp8", 1024, 1024, "h100/vllm"}
	history := func(seed uint64, spreadPct float64) []Night {
		r := rand.New(rand.NewPCG(seed, 1))
		nights := make([]Night, 7)
		for i := range nights {
			factor := 1 + (r.Float64()*2-1)*spreadPct/100
			nights[i] = Night{SweepID: fmt.Sprint("night-", i), Frontiers: map[SeriesKey][]Point{key: curve(factor, "p")}, PointIDs: map[string]bool{"p2": true}}
		}
		return nights
	}
	tonight := func(factor float64) []Group {
		return []Group{{Model: "llama", Precision: "fp8", ISL: 1024, OSL: 1024, Series: []Series{{Key: "h100/vllm", Frontier: curve(factor, "p")}}}}
	}
	tests := []struct {
		name    string
		factor  float64
		spread  float64
		verdict string
	}{
		{"planted 10% drop", 0.90, 1, VerdictRegression},
		{"planted 10% drop over 2% noise", 0.90, 2, VerdictRegression},
		{"noise within 3%", 0.97, 3, VerdictSteady},
		{"a 3% wobble on a quiet series", 1.03, 0.5, VerdictSteady},
		{"planted 12% gain", 1.12, 1, VerdictImprovement},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				regs := Regressions(tonight(tc.factor), history(seed, tc.spread), []float64{10, 20, 50, 100}, 7)
				require.Len(t, regs, 4)
				for _, r := range regs {
					require.Equal(t, tc.verdict, r.Verdict, "seed %d target %g: change %.1f%% threshold %.1f%%", seed, r.Target, *r.ChangePct, r.ThresholdPct)
					require.Equal(t, 7, r.Nights)
					require.GreaterOrEqual(t, r.ThresholdPct, MinRegressionPct)
				}
			}
		})
	}
}

func TestRegressionsNoiseWidensTheThreshold(t *testing.T) {
	key := SeriesKey{"m", "bf16", 1, 1, "s"}
	// Six nights alternate ±8%: MAD noise ≈ 11.9%, threshold ≈ 36%, so a
	// 10% drop on this series is within its own noise.
	var history []Night
	for i := range 6 {
		factor := 1.08
		if i%2 == 1 {
			factor = 0.92
		}
		history = append(history, Night{SweepID: fmt.Sprint(i), Frontiers: map[SeriesKey][]Point{key: curve(factor, "p")}})
	}
	groups := []Group{{Model: "m", Precision: "bf16", ISL: 1, OSL: 1, Series: []Series{{Key: "s", Frontier: curve(0.9, "p")}}}}
	regs := Regressions(groups, history, []float64{20}, 7)
	require.Len(t, regs, 1)
	require.Equal(t, VerdictSteady, regs[0].Verdict)
	require.InDelta(t, 35.6, regs[0].ThresholdPct, 0.5)
}

func TestRegressionsEdgeVerdicts(t *testing.T) {
	key := SeriesKey{"m", "bf16", 1, 1, "s"}
	old := []Night{
		{SweepID: "yesterday", Frontiers: map[SeriesKey][]Point{key: curve(1, "q")}, PointIDs: map[string]bool{"p1": true}},
		{SweepID: "before", Frontiers: map[SeriesKey][]Point{key: curve(1, "q")}, PointIDs: map[string]bool{"p3": true}},
	}
	// Tonight the series only reaches 5–30 tok/s/user.
	short := []Point{{ID: "p0", X: 5, Y: 9000}, {ID: "p1", X: 15, Y: 7000}, {ID: "p2", X: 30, Y: 4500}}
	groups := []Group{{Model: "m", Precision: "bf16", ISL: 1, OSL: 1, Series: []Series{{Key: "s", Frontier: short}}}}
	regs := Regressions(groups, old, []float64{15, 100}, 7)
	require.Len(t, regs, 2)
	require.Equal(t, VerdictSteady, regs[0].Verdict)
	require.Equal(t, "p1", regs[0].PointID)
	require.Equal(t, "yesterday", regs[0].BaselineSweep, "the same point was measured yesterday")
	require.Equal(t, VerdictLost, regs[1].Verdict)
	require.Nil(t, regs[1].Tonight)
	require.Equal(t, "", regs[1].BaselineSweep)

	fresh := Regressions(groups, nil, []float64{15, 100}, 7)
	require.Len(t, fresh, 1, "a target reached by no night is left out")
	require.Equal(t, VerdictNew, fresh[0].Verdict)
	require.Nil(t, fresh[0].Baseline)
}

// A regression of a point whose engine launch changed since its baseline
// sweep says so: the recipe, not the software, may be what moved.
func TestRegressionsSayWhenTheRecipeChanged(t *testing.T) {
	key := SeriesKey{"llama", "fp8", 1024, 1024, "h100/vllm"}
	launched := func(points []Point, fp string) []Point {
		for i := range points {
			points[i].Launch = fp
		}
		return points
	}
	tests := []struct {
		name            string
		before, tonight string
		wantChanged     bool
	}{
		{"same launch", "fp-a", "fp-a", false},
		{"another launch", "fp-a", "fp-b", true},
		{"baseline from before recipes", "", "fp-b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frontier := launched(curve(1, "p"), tc.before)
			night := NightOf("night-0", "2026-12-06", []Group{{Model: "llama", Precision: "fp8", ISL: 1024, OSL: 1024,
				Series: []Series{{Key: "h100/vllm", Frontier: frontier}}}}, nil)
			for _, p := range frontier {
				night.PointIDs[p.ID] = true
				if p.Launch != "" {
					night.Launches[p.ID] = p.Launch
				}
			}
			require.Contains(t, night.Frontiers, key)
			groups := []Group{{Model: "llama", Precision: "fp8", ISL: 1024, OSL: 1024, Series: []Series{{Key: "h100/vllm", Frontier: launched(curve(0.8, "p"), tc.tonight)}}}}
			regs := Regressions(groups, []Night{night}, []float64{20}, 7)
			require.Len(t, regs, 1)
			require.Equal(t, VerdictRegression, regs[0].Verdict)
			require.Equal(t, "night-0", regs[0].BaselineSweep)
			require.Equal(t, tc.wantChanged, regs[0].RecipeChanged)
		})
	}
}
