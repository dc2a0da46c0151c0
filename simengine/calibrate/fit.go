package calibrate

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/infersweep/infersweep/simengine"
)

// Param is one tunable number of a calibration file.
type Param struct {
	Name   string
	Lo, Hi float64
	get    func(simengine.CalibrationFile) float64
	set    func(*simengine.CalibrationFile, float64)
	// affects tells which series a change can move, so that the fit
	// re-simulates only those.
	affects func(i int) bool
}

// FitOptions bound the search.
type FitOptions struct {
	Rounds     int // coordinate-descent passes over all parameters
	Iterations int // golden-section steps per parameter per pass
	// Progress, when set, hears each parameter's new value.
	Progress func(p Param, value, objective float64)
}

// unreachedLogError is what a published point no simulated configuration
// reaches costs in log space: e⁻³ ≈ 5% of the published throughput,
// large enough that the fit never trades one for a better median.
const unreachedLogError = 3.0

// withinLogError is the soft bound the objective enforces beyond the
// median: ln 1.4, a margin inside the ±50% target.
var withinLogError = math.Log(1.4)

// Objective is what Fit minimises: the median |ln(simulated/published)|
// plus the mean excess of each point over ln 1.4. The median alone would
// happily leave a few points far off; the excess term pulls them in
// without letting them dominate.
func Objective(results []Result) float64 {
	var logs []float64
	excess := 0.0
	for _, r := range results {
		for _, p := range r.Points {
			l := float64(unreachedLogError)
			if p.Reached && p.Simulated > 0 {
				l = math.Min(unreachedLogError, math.Abs(math.Log(p.Simulated/p.Published)))
			}
			logs = append(logs, l)
			excess += math.Max(0, l-withinLogError)
		}
	}
	return medianOf(logs) + excess/float64(len(logs))
}

// Params are the tunable numbers for a table: MFU for all, bandwidth
// efficiency and per-layer overhead per hardware in the table, an FP4
// efficiency for hardware with FP4 series, and a step overhead per
// framework family the search spaces use.
func (e *Evaluator) Params() []Param {
	all := func(int) bool { return true }
	ps := []Param{{Name: "default.mfu", Lo: 0.15, Hi: 0.8, affects: all,
		get: func(f simengine.CalibrationFile) float64 { return f.Default.MFU },
		set: func(f *simengine.CalibrationFile, v float64) { f.Default.MFU = v }}}
	hardware := map[string]bool{}
	fp4 := map[string]bool{}
	families := map[string]bool{}
	for i, s := range e.Table.Series {
		hardware[s.Hardware] = true
		fp4[s.Hardware] = fp4[s.Hardware] || s.Precision == string(simengine.FP4)
		for _, c := range e.spaces[i] {
			families[simengine.FrameworkFamily(c.Framework)] = true
		}
	}
	for _, hw := range slices.Sorted(maps.Keys(hardware)) {
		on := func(i int) bool { return e.Table.Series[i].Hardware == hw }
		ps = append(ps, hwParam(hw, "mbu", 0.25, 0.95, on, func(c *simengine.CalibrationEntry) *float64 { return &c.MBU }),
			hwParam(hw, "layer_overhead_us", 0, 300, on, func(c *simengine.CalibrationEntry) *float64 { return &c.LayerOverheadUs }))
		if fp4[hw] {
			fp4On := func(i int) bool { return on(i) && e.Table.Series[i].Precision == string(simengine.FP4) }
			ps = append(ps, hwParam(hw, "fp4_efficiency", 0.4, 1.3, fp4On, func(c *simengine.CalibrationEntry) *float64 { return &c.FP4Efficiency }))
		}
	}
	for _, fam := range slices.Sorted(maps.Keys(families)) {
		uses := func(i int) bool {
			return slices.ContainsFunc(e.spaces[i], func(c Config) bool { return simengine.FrameworkFamily(c.Framework) == fam })
		}
		ps = append(ps, fwParam(fam, "step_overhead_us", 100, 8000, uses, func(c *simengine.CalibrationEntry) *float64 { return &c.StepOverheadUs }),
			fwParam(fam, "efficiency", 0.3, 1.3, uses, func(c *simengine.CalibrationEntry) *float64 { return &c.Efficiency }))
	}
	return ps
}

func hwParam(hw, field string, lo, hi float64, on func(int) bool, at func(*simengine.CalibrationEntry) *float64) Param {
	return entryParam("hardware", hw, field, lo, hi, on, func(f *simengine.CalibrationFile) *map[string]simengine.CalibrationEntry { return &f.Hardware }, at)
}

func fwParam(fam, field string, lo, hi float64, on func(int) bool, at func(*simengine.CalibrationEntry) *float64) Param {
	return entryParam("frameworks", fam, field, lo, hi, on, func(f *simengine.CalibrationFile) *map[string]simengine.CalibrationEntry { return &f.Frameworks }, at)
}

// entryParam is one field of one entry of a calibration table (table
// picks hardware or frameworks); set copies the table, so candidate
// files tried by the fit never share one.
func entryParam(section, key, field string, lo, hi float64, on func(int) bool,
	table func(*simengine.CalibrationFile) *map[string]simengine.CalibrationEntry, at func(*simengine.CalibrationEntry) *float64) Param {
	return Param{Name: section + "." + key + "." + field, Lo: lo, Hi: hi, affects: on,
		get: func(f simengine.CalibrationFile) float64 { c := (*table(&f))[key]; return *at(&c) },
		set: func(f *simengine.CalibrationFile, v float64) {
			entries := table(f)
			*entries = maps.Clone(*entries)
			if *entries == nil {
				*entries = map[string]simengine.CalibrationEntry{}
			}
			c := (*entries)[key]
			*at(&c) = v
			(*entries)[key] = c
		}}
}

// Fit tunes start's parameters by coordinate descent, a golden-section
// search per parameter within its bounds, keeping a change only when it
// lowers the objective. It returns the fitted file and its summary.
func (e *Evaluator) Fit(start simengine.CalibrationFile, opt FitOptions) (simengine.CalibrationFile, Summary, error) {
	cur := start
	results := make([]Result, len(e.Table.Series))
	for i := range results {
		r, err := e.Series(i, cur)
		if err != nil {
			return cur, Summary{}, err
		}
		results[i] = r
	}
	best := Objective(results)
	for range max(opt.Rounds, 1) {
		for _, p := range e.Params() {
			var err error
			if cur, results, best, err = e.tune(p, cur, results, best, max(opt.Iterations, 4)); err != nil {
				return cur, Summary{}, err
			}
			if opt.Progress != nil {
				opt.Progress(p, p.get(cur), best)
			}
		}
	}
	sum := Summary{Results: results}
	sum.MedianAbsErr, sum.MaxAbsErr = summarize(results)
	return cur, sum, nil
}

// tune runs one golden-section search over p and keeps the best value
// seen, the current one included.
func (e *Evaluator) tune(p Param, cur simengine.CalibrationFile, results []Result, best float64, iterations int) (simengine.CalibrationFile, []Result, float64, error) {
	try := func(v float64) (float64, []Result, simengine.CalibrationFile, error) {
		f := cur
		p.set(&f, v)
		trial := slices.Clone(results)
		for i := range trial {
			if p.affects(i) {
				r, err := e.Series(i, f)
				if err != nil {
					return 0, nil, f, fmt.Errorf("%s = %g: %w", p.Name, v, err)
				}
				trial[i] = r
			}
		}
		return Objective(trial), trial, f, nil
	}
	phi := (math.Sqrt(5) - 1) / 2
	a, b := p.Lo, p.Hi
	keep := func(obj float64, trial []Result, f simengine.CalibrationFile) {
		if obj < best {
			best, results, cur = obj, trial, f
		}
	}
	c, d := b-phi*(b-a), a+phi*(b-a)
	fc, rc, cfc, err := try(c)
	if err != nil {
		return cur, results, best, err
	}
	fd, rd, cfd, err := try(d)
	if err != nil {
		return cur, results, best, err
	}
	keep(fc, rc, cfc)
	keep(fd, rd, cfd)
	for range iterations {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - phi*(b-a)
			fc, rc, cfc, err = try(c)
			keep(fc, rc, cfc)
		} else {
			a, c, fc = c, d, fd
			d = a + phi*(b-a)
			fd, rd, cfd, err = try(d)
			keep(fd, rd, cfd)
		}
		if err != nil {
			return cur, results, best, err
		}
	}
	return cur, results, best, nil
}
