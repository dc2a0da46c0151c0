package calibrate

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/simengine"
	"github.com/infersweep/infersweep/sweep"
)

// Result is one series, simulated and read at its published points.
type Result struct {
	Series   Series
	Points   []PointResult
	Frontier []analysis.Point
	// Configs is how many configurations ran; Unfit how many of the
	// search space could not start (weights or context do not fit).
	Configs, Unfit int
}

// PointResult compares one published point with the simulated frontier.
type PointResult struct {
	Interactivity float64 `json:"interactivity"`
	Published     float64 `json:"published_tput_per_gpu"`
	Simulated     float64 `json:"simulated_tput_per_gpu"`
	// Err is simulated ÷ published − 1; −1 when no simulated
	// configuration reaches the interactivity.
	Err     float64 `json:"error"`
	Reached bool    `json:"reached"`
}

// Summary is a whole table's calibration error.
type Summary struct {
	Results      []Result
	MedianAbsErr float64
	MaxAbsErr    float64
}

// Evaluator simulates series under a calibration. Spaces are computed
// once per series: the fit re-simulates the same configurations many
// times.
type Evaluator struct {
	Table  Table
	spaces [][]Config
	// Quick runs conc requests per configuration instead of 2·conc: half
	// the work, for the fit's many evaluations; reports use the full run.
	Quick bool
}

// NewEvaluator resolves every series' search space from the plan and
// checks that the catalogue knows its model and hardware.
func NewEvaluator(plan *sweep.Plan, t Table) (*Evaluator, error) {
	e := &Evaluator{Table: t}
	for _, s := range t.Series {
		if _, err := simengine.LookupModel(s.Model); err != nil {
			return nil, fmt.Errorf("series %s: %w", s.Name(), err)
		}
		if _, err := simengine.LookupHardware(s.Hardware); err != nil {
			return nil, fmt.Errorf("series %s: %w", s.Name(), err)
		}
		space := Space(plan, s)
		if len(space) == 0 {
			return nil, fmt.Errorf("series %s: no upstream entry has model-prefix %s, precision %s on %s (framework %q)",
				s.Name(), s.Prefix, s.Precision, s.Hardware, s.Framework)
		}
		e.spaces = append(e.spaces, space)
	}
	return e, nil
}

// Evaluate simulates every series under cal.
func (e *Evaluator) Evaluate(cal simengine.CalibrationFile) (Summary, error) {
	var sum Summary
	for i := range e.Table.Series {
		r, err := e.Series(i, cal)
		if err != nil {
			return sum, err
		}
		sum.Results = append(sum.Results, r)
	}
	sum.MedianAbsErr, sum.MaxAbsErr = summarize(sum.Results)
	return sum, nil
}

func summarize(results []Result) (median, maxAbs float64) {
	var errs []float64
	for _, r := range results {
		for _, p := range r.Points {
			errs = append(errs, math.Abs(p.Err))
		}
	}
	return medianOf(errs), slices.Max(errs)
}

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Series simulates series i's whole search space in parallel and reads
// its frontier at the published interactivities.
func (e *Evaluator) Series(i int, cal simengine.CalibrationFile) (Result, error) {
	s := e.Table.Series[i]
	model, _ := simengine.LookupModel(s.Model)
	hw, _ := simengine.LookupHardware(s.Hardware)
	res := Result{Series: s}
	var (
		mu     sync.Mutex
		points []analysis.Point
	)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, c := range e.spaces[i] {
		g.Go(func() error {
			p, ok, err := simulate(model, hw, s, c, cal, e.Quick)
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				res.Unfit++
				return err
			}
			res.Configs++
			points = append(points, analysis.Point{ID: c.String(), X: p.Interactivity, Y: p.TputPerGPU * c.GPUShare})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return res, fmt.Errorf("series %s: %w", s.Name(), err)
	}
	// Sorted so that ties in the frontier resolve the same way every run.
	slices.SortFunc(points, func(a, b analysis.Point) int {
		return cmpFloat(a.X, b.X)*2 + cmpFloat(a.Y, b.Y)
	})
	res.Frontier = analysis.Frontier(points)
	for _, pt := range s.Points {
		res.Points = append(res.Points, readFrontier(res.Frontier, pt[0], pt[1]))
	}
	return res, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// simulate runs one configuration closed loop with 2·conc requests, as
// PredictCurve does. ok is false for a configuration that cannot start.
func simulate(model simengine.Model, hw simengine.Hardware, s Series, c Config, cal simengine.CalibrationFile, quick bool) (simengine.Prediction, bool, error) {
	p := simengine.Precision(s.Precision)
	cfg := simengine.EngineConfig{Model: model, Hardware: hw, Precision: p, TP: c.TP, EP: c.EP, DPAttention: c.DPAttn,
		Framework: c.Framework, MaxNumSeqs: max(512, c.Conc), MaxNumBatchedTokens: 8192, MaxModelLen: s.ISL + s.OSL,
		GPUMemoryUtilization: 0.9, Calibration: cal.For(hw.Name, c.Framework, p)}
	if cfg.Validate() != nil {
		return simengine.Prediction{}, false, nil
	}
	n := 2 * c.Conc
	if quick {
		n = c.Conc
	}
	pred, err := simengine.Predict(cfg, s.ISL, s.OSL, c.Conc, n)
	return pred, err == nil, err
}

// readFrontier reads the frontier at interactivity x. Below its first
// knot the first knot's throughput holds (that configuration serves x
// too, faster); beyond its last knot nothing in the search space reaches
// x, which counts as −100%.
func readFrontier(front []analysis.Point, x, published float64) PointResult {
	r := PointResult{Interactivity: x, Published: published}
	switch {
	case len(front) == 0 || x > front[len(front)-1].X:
		r.Err = -1
		return r
	case x <= front[0].X:
		r.Simulated = front[0].Y
	default:
		spline, err := analysis.NewSteffen(front)
		if err != nil {
			r.Simulated = front[0].Y
			break
		}
		r.Simulated, _ = spline.At(x)
	}
	r.Reached = true
	r.Err = r.Simulated/published - 1
	return r
}
