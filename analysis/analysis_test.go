package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

func TestFrontierProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + r.IntN(40)
		points := make([]Point, n)
		for i := range points {
			// Coarse values make ties likely.
			points[i] = Point{ID: fmt.Sprint(i), X: float64(r.IntN(20)), Y: float64(r.IntN(20))}
		}
		front := Frontier(points)
		require.NotEmpty(t, front, "trial %d", trial)
		for i, f := range front {
			for _, p := range points {
				require.False(t, Dominates(p, f), "trial %d: frontier point %+v is dominated by %+v", trial, f, p)
			}
			if i > 0 {
				require.Greater(t, f.X, front[i-1].X, "ascending interactivity")
				require.Less(t, f.Y, front[i-1].Y, "throughput falls along the frontier")
			}
		}
		for _, p := range points {
			onFront := false
			dominated := false
			for _, f := range front {
				onFront = onFront || (f.X == p.X && f.Y == p.Y)
				dominated = dominated || Dominates(f, p)
			}
			require.True(t, onFront || dominated, "trial %d: %+v is neither on the frontier nor dominated by it", trial, p)
		}
	}
}

func TestFrontierOfAKnownCurve(t *testing.T) {
	points := []Point{{ID: "a", X: 10, Y: 1000}, {ID: "b", X: 20, Y: 800}, {ID: "c", X: 15, Y: 700}, {ID: "d", X: 40, Y: 300}, {ID: "e", X: 40, Y: 200}, {ID: "f", X: 5, Y: 900}}
	require.Equal(t, []Point{{ID: "a", X: 10, Y: 1000}, {ID: "b", X: 20, Y: 800}, {ID: "d", X: 40, Y: 300}}, Frontier(points))
}

func TestSteffenSplineIsMonotoneAndHitsItsKnots(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 100 {
		// A frontier: interactivity up, throughput down.
		n := 2 + r.IntN(8)
		knots := make([]Point, n)
		x, y := 1.0, 5000.0
		for i := range knots {
			knots[i] = Point{X: x, Y: y}
			x += 1 + 50*r.Float64()
			y -= 1 + 600*r.Float64()
		}
		s, err := NewSteffen(knots)
		require.NoError(t, err)
		for _, k := range knots {
			v, ok := s.At(k.X)
			require.True(t, ok)
			require.InDelta(t, k.Y, v, 1e-9)
		}
		for i := 0; i+1 < n; i++ {
			prev := knots[i].Y
			for step := 1; step < 20; step++ {
				x := knots[i].X + (knots[i+1].X-knots[i].X)*float64(step)/20
				v, ok := s.At(x)
				require.True(t, ok)
				require.LessOrEqual(t, v, prev+1e-9, "trial %d: not monotone between knots %d and %d", trial, i, i+1)
				require.GreaterOrEqual(t, v, knots[i+1].Y-1e-9, "overshoot below the next knot")
				prev = v
			}
		}
		_, ok := s.At(knots[n-1].X + 1)
		require.False(t, ok, "no extrapolation beyond the measured frontier")
	}
	_, err := NewSteffen([]Point{{X: 1, Y: 2}, {X: 1, Y: 3}})
	require.ErrorIs(t, err, ErrTooFewKnots)
}

func TestDerivedFigures(t *testing.T) {
	// H100 hyperscaler $1.30/GPU-hour at 1,000 tok/s/GPU: 3.6 M tokens an hour.
	usd, ok := CostPerMillionTokens(1.30, 1000)
	require.True(t, ok)
	require.InDelta(t, 1.30/3.6, usd, 1e-12)
	mw, ok := TokensPerSecondPerMW(1000, 1.73)
	require.True(t, ok)
	require.InDelta(t, 578034.68, mw, 0.01)
	j, ok := JoulesPerToken(1.73, 1000)
	require.True(t, ok)
	require.InDelta(t, 1.73, j, 1e-12)
	_, ok = CostPerMillionTokens(1.30, 0)
	require.False(t, ok, "no throughput, no cost: never a made-up number")
}

func TestHardwareOf(t *testing.T) {
	costs := sweep.DefaultSettings().Hardware
	for runner, want := range map[string]string{"sim-h100": "h100", "H100": "h100", "gb200-nvl72": "gb200", "b200-dgx_1": "b200", "mi355x": "mi355x",
		"cluster.gb200-nv": "gb200", "cluster:b200-dgxc": "b200", "cluster.sim-h100": "h100", "cluster.mi355x-amds": "mi355x"} {
		got, ok := HardwareOf(runner, costs)
		require.True(t, ok, runner)
		require.Equal(t, want, got, runner)
	}
	_, ok := HardwareOf("tpu-v6", costs)
	require.False(t, ok)
}

func TestCheapestHardwareAtATargetInteractivity(t *testing.T) {
	costs := sweep.DefaultSettings().Hardware
	frontiers := map[string][]Point{
		"h100/vllm":   {{X: 20, Y: 1700}, {X: 60, Y: 1000}, {X: 120, Y: 600}},
		"b200/vllm":   {{X: 20, Y: 5800}, {X: 60, Y: 4000}, {X: 200, Y: 1500}},
		"mi355x/vllm": {{X: 100, Y: 2500}, {X: 200, Y: 1200}}, // does not reach 50
	}
	hardware := map[string]string{"h100/vllm": "h100", "b200/vllm": "b200", "mi355x/vllm": "mi355x"}
	offers := CheapestAt(frontiers, hardware, costs, TierHyperscaler, 50)
	require.Len(t, offers, 2)
	require.Equal(t, "b200/vllm", offers[0].Series, "B200 at 1.95 $/h but ~4× the tokens")
	require.Greater(t, offers[0].TputPerGPU, 4000.0)
	require.Less(t, offers[0].TputPerGPU, 5800.0)
	require.True(t, offers[0].Interpolated)
	require.Less(t, offers[0].USDPerMTok, offers[1].USDPerMTok)
	// B200's all-in 2.17 kW per GPU, assumed: tok/s per MW and J/token.
	require.InDelta(t, offers[0].TputPerGPU*1000/2.17, *offers[0].TokPerSecPerMW, 1e-6)
	require.InDelta(t, 2.17*1000/offers[0].TputPerGPU, *offers[0].JoulesPerToken, 1e-9)
}

func f64(v float64) *float64 { return &v }

func TestAnalyzeGroupsSeriesAndLeavesOutWhatWasNotMeasured(t *testing.T) {
	row := func(id, runner string, isl int32, inter, tput float64) results.PointRow {
		return results.PointRow{PointID: id, Model: "llama", Precision: "fp8", Framework: "sim", Runner: runner, ISL: isl, OSL: 1024,
			Status: "succeeded", Interactivity: f64(inter), TputPerGPU: f64(tput)}
	}
	rows := []results.PointRow{
		row("h1", "sim-h100", 1024, 170, 170), row("h2", "sim-h100", 1024, 120, 1700), row("h3", "sim-h100", 1024, 60, 3000),
		row("b1", "sim-b200", 1024, 250, 250), row("b2", "sim-b200", 1024, 190, 2800), row("b3", "sim-b200", 1024, 100, 5800),
		row("x", "sim-h100", 8192, 150, 600),
		{PointID: "failed", Model: "llama", Precision: "fp8", Runner: "sim-h100", ISL: 1024, OSL: 1024, Status: "failed"},
		{PointID: "unmeasured", Model: "llama", Precision: "fp8", Runner: "sim-h100", ISL: 1024, OSL: 1024, Status: "succeeded", TputPerGPU: f64(5)},
	}
	groups := Analyze(rows, sweep.DefaultSettings().Hardware, TierHyperscaler, []float64{150})
	require.Len(t, groups, 2)
	g := groups[0]
	require.Equal(t, 1024, g.ISL)
	require.Len(t, g.Series, 2)
	require.Equal(t, "sim-b200/sim", g.Series[0].Key)
	require.Equal(t, "b200", g.Series[0].Hardware)
	require.Equal(t, 3, g.Series[1].Points, "failed and unmeasured points are left out")
	// B200 dominates H100 everywhere here: the overall frontier is B200's.
	for _, p := range g.Overall {
		require.Equal(t, "b", p.ID[:1])
	}
	require.Len(t, g.Cheapest, 1)
	require.Equal(t, "sim-b200/sim", g.Cheapest[0].Offers[0].Series)
}

func TestLatencyFrontierPrefersLowLatency(t *testing.T) {
	points := []Point{{ID: "a", X: 800, Y: 1000}, {ID: "b", X: 400, Y: 800}, {ID: "c", X: 600, Y: 700}, {ID: "d", X: 200, Y: 300}, {ID: "e", X: 200, Y: 200}, {ID: "f", X: 900, Y: 900}}
	require.Equal(t, []Point{{ID: "d", X: 200, Y: 300}, {ID: "b", X: 400, Y: 800}, {ID: "a", X: 800, Y: 1000}}, LatencyFrontier(points))
}
