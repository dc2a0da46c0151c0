package analysis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// Lake is what an analysis reads from the results lake.
type Lake interface {
	Sweeps(ctx context.Context, from, to string, includeRunning bool) ([]results.SweepRef, error)
	ManifestOf(ctx context.Context, ref results.SweepRef) (results.Manifest, error)
	Points(ctx context.Context, m results.Manifest) ([]results.PointRow, error)
	Frontiers(ctx context.Context, ref results.SweepRef) ([]results.FrontierRow, error)
	RequestTPOT(ctx context.Context, key string) ([]float64, error)
}

// Options steer an analysis; zero values take the defaults.
type Options struct {
	Costs   map[string]sweep.HardwareCost // prices and power per hardware
	Tier    Tier                          // price tier for "cheapest at"
	Targets []float64                     // interactivities, tok/s/user
	// BaselineNights is k: regressions compare with the median of the
	// last k earlier sweeps that reach a target.
	BaselineNights int
	// TrendNights is how many sweeps trends show, tonight included.
	TrendNights int
}

func (o Options) withDefaults() Options {
	if o.Costs == nil {
		o.Costs = sweep.DefaultSettings().Hardware
	}
	if o.Tier == "" {
		o.Tier = TierHyperscaler
	}
	if len(o.Targets) == 0 {
		o.Targets = DefaultTargets
	}
	if o.BaselineNights <= 0 {
		o.BaselineNights = 7
	}
	if o.TrendNights <= 0 {
		o.TrendNights = 30
	}
	return o
}

// Report is everything known about one committed sweep: its points, their
// frontiers, how they moved against earlier sweeps, and how the run went.
type Report struct {
	Manifest    results.Manifest
	Rows        []results.PointRow
	Groups      []Group
	Regressions []Regression
	Trends      []Trend
	Health      []PoolHealth
	Options     Options
	// History names the earlier sweeps compared with, newest first.
	History []results.SweepRef
}

// Trend is a series' throughput per GPU at one target interactivity over
// the last sweeps, oldest first; sweeps where its frontier did not reach
// the target have no value.
type Trend struct {
	SeriesKey
	Target float64
	Values []TrendValue
}

// TrendValue is one sweep's figure on a trend.
type TrendValue struct {
	SweepID    string  `json:"sweep_id"`
	Date       string  `json:"date"`
	TputPerGPU float64 `json:"tput_per_gpu"`
}

// Build analyses a committed sweep against the sweeps before it. Earlier
// sweeps are read from their stored frontiers (one object each), falling
// back to their points when a sweep was never analysed.
func Build(ctx context.Context, lake Lake, sweepID string, opt Options) (*Report, error) {
	opt = opt.withDefaults()
	refs, err := lake.Sweeps(ctx, "", "", false)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(refs, func(r results.SweepRef) bool { return r.SweepID == sweepID })
	if i < 0 {
		return nil, fmt.Errorf("%w %q", results.ErrNoSweep, sweepID)
	}
	self := refs[i]
	m, err := lake.ManifestOf(ctx, self)
	if err != nil {
		return nil, err
	}
	rows, err := lake.Points(ctx, m)
	if err != nil {
		return nil, err
	}
	rep := &Report{Manifest: m, Rows: rows, Options: opt, Health: Health(m, rows)}
	rep.Groups = Analyze(rows, opt.Costs, opt.Tier, opt.Targets)

	earlier, err := earlierSweeps(ctx, lake, refs, m, opt.TrendNights-1)
	if err != nil {
		return nil, err
	}
	nights := make([]Night, len(earlier))
	for i, e := range earlier {
		if nights[i], err = nightOf(ctx, lake, e, opt); err != nil {
			return nil, err
		}
		rep.History = append(rep.History, e.ref)
	}
	rep.Regressions = Regressions(rep.Groups, nights, opt.Targets, opt.BaselineNights)
	if err := attachPValues(ctx, lake, rep.Regressions, m, earlier); err != nil {
		return nil, err
	}
	rep.Trends = trends(rep.Groups, nights, m, opt.Targets)
	return rep, nil
}

type earlierSweep struct {
	ref      results.SweepRef
	manifest results.Manifest
}

// earlierSweeps are up to n committed sweeps before m, newest first: by
// date, and by commit time within a date (several sweeps a day happen).
func earlierSweeps(ctx context.Context, lake Lake, refs []results.SweepRef, m results.Manifest, n int) ([]earlierSweep, error) {
	if n <= 0 {
		return nil, nil
	}
	candidates := slices.Clone(refs)
	sort.SliceStable(candidates, func(i, j int) bool { return candidates[i].Date > candidates[j].Date })
	var out []earlierSweep
	for _, ref := range candidates {
		if ref.SweepID == m.SweepID || ref.Date > m.Date {
			continue
		}
		// Enough sweeps, and every one sharing the last date has been
		// read to order them by commit time.
		if len(out) >= n && ref.Date < out[len(out)-1].ref.Date {
			break
		}
		em, err := lake.ManifestOf(ctx, ref)
		if err != nil {
			return nil, err
		}
		if ref.Date == m.Date && !em.WrittenAt.Before(m.WrittenAt) {
			continue
		}
		out = append(out, earlierSweep{ref, em})
	}
	slices.SortStableFunc(out, func(a, b earlierSweep) int {
		return cmp.Or(cmp.Compare(b.ref.Date, a.ref.Date), b.manifest.WrittenAt.Compare(a.manifest.WrittenAt))
	})
	return out[:min(n, len(out))], nil
}

func nightOf(ctx context.Context, lake Lake, e earlierSweep, opt Options) (Night, error) {
	n, err := ReadNight(ctx, lake, e.ref, opt)
	for _, p := range e.manifest.Points {
		n.PointIDs[p.PointID] = true
	}
	return n, err
}

// ReadNight is a committed sweep as later nights compare against it: its
// stored frontiers (one small object), or, for a sweep analysed before
// frontiers were stored, frontiers computed from its points. PointIDs is
// left empty: only the manifest, which can be large, knows them.
func ReadNight(ctx context.Context, lake Lake, ref results.SweepRef, opt Options) (Night, error) {
	stored, err := lake.Frontiers(ctx, ref)
	if err == nil {
		return nightFromRows(ref, stored), nil
	}
	if !errors.Is(err, results.ErrNotFound) {
		return Night{}, err
	}
	m, err := lake.ManifestOf(ctx, ref)
	if err != nil {
		return Night{}, err
	}
	rows, err := lake.Points(ctx, m)
	if err != nil {
		return Night{}, err
	}
	opt = opt.withDefaults()
	return NightOf(ref.SweepID, ref.Date, Analyze(rows, opt.Costs, opt.Tier, nil), nil), nil
}

func nightFromRows(ref results.SweepRef, rows []results.FrontierRow) Night {
	n := NightOf(ref.SweepID, ref.Date, nil, nil)
	for _, r := range rows {
		// Files from before the E2E plane have no plane: interactivity.
		if r.Series == "*" || (r.Plane != "" && r.Plane != results.PlaneInteractivity) || r.Interactivity == nil {
			continue
		}
		key := SeriesKey{r.Model, r.Precision, int(r.ISL), int(r.OSL), r.Series}
		n.Frontiers[key] = append(n.Frontiers[key], Point{ID: r.PointID, X: *r.Interactivity, Y: r.TputPerGPU})
	}
	return n
}

// attachPValues tests, for each regression row whose point was also
// measured in an earlier sweep, tonight's per-request TPOT against that
// sweep's. Each pair of files is read once.
func attachPValues(ctx context.Context, lake Lake, regs []Regression, m results.Manifest, earlier []earlierSweep) error {
	requestKeys := func(mf results.Manifest) map[string]string {
		keys := map[string]string{}
		for _, p := range mf.Points {
			if k, ok := p.Keys[results.TableRequests]; ok && p.Status == "succeeded" {
				keys[p.PointID] = k
			}
		}
		return keys
	}
	tonight := requestKeys(m)
	before := map[string]map[string]string{}
	for _, e := range earlier {
		before[e.ref.SweepID] = requestKeys(e.manifest)
	}
	type pair struct{ point, sweep string }
	memo := map[pair]*float64{}
	for i := range regs {
		r := &regs[i]
		if r.BaselineSweep == "" {
			continue
		}
		pr := pair{r.PointID, r.BaselineSweep}
		if p, ok := memo[pr]; ok {
			r.PValue = p
			continue
		}
		a, b := tonight[r.PointID], before[r.BaselineSweep][r.PointID]
		if a == "" || b == "" {
			memo[pr] = nil
			continue
		}
		sa, err := lake.RequestTPOT(ctx, a)
		if err != nil {
			return err
		}
		sb, err := lake.RequestTPOT(ctx, b)
		if err != nil {
			return err
		}
		if _, p, ok := MannWhitney(sa, sb); ok {
			r.PValue = &p
		}
		memo[pr] = r.PValue
	}
	return nil
}

func trends(groups []Group, nights []Night, m results.Manifest, targets []float64) []Trend {
	var out []Trend
	for _, g := range groups {
		for _, s := range g.Series {
			key := SeriesKey{g.Model, g.Precision, g.ISL, g.OSL, s.Key}
			for _, target := range targets {
				t := Trend{SeriesKey: key, Target: target}
				for i := len(nights) - 1; i >= 0; i-- {
					if v, ok := InterpolateAt(nights[i].Frontiers[key], target); ok {
						t.Values = append(t.Values, TrendValue{nights[i].SweepID, nights[i].Date, v})
					}
				}
				if v, ok := InterpolateAt(s.Frontier, target); ok {
					t.Values = append(t.Values, TrendValue{m.SweepID, m.Date, v})
				}
				if len(t.Values) > 0 {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// PoolHealth is how one runner pool's part of the sweep went.
type PoolHealth struct {
	Runner      string   `json:"runner"`
	Points      int      `json:"points"`
	Succeeded   int      `json:"succeeded"`
	Failed      int      `json:"failed"`
	Skipped     int      `json:"skipped"`
	SuccessPct  float64  `json:"success_pct"`
	Retries     int      `json:"retries"` // attempts beyond the first
	Nodes       []string `json:"nodes"`
	Quarantined []string `json:"quarantined"`
	// NodeFaults are the faults charged to each node tonight, one line
	// each: why a node was quarantined (withdrawn and released ones say so).
	NodeFaults map[string][]string `json:"node_faults,omitempty"`
	// MedianPointS is the median wall time of a point, engine start to
	// teardown of its last attempt; MedianStartupS the engine's.
	MedianPointS   *float64 `json:"median_point_s"`
	MedianStartupS *float64 `json:"median_engine_startup_s"`
}

// Health summarises each pool's points.
func Health(m results.Manifest, rows []results.PointRow) []PoolHealth {
	byRunner := map[string]*PoolHealth{}
	walls := map[string][]float64{}
	startups := map[string][]float64{}
	for _, r := range rows {
		h := byRunner[r.Runner]
		if h == nil {
			h = &PoolHealth{Runner: r.Runner, Quarantined: m.Quarantined[r.Runner], NodeFaults: m.NodeFaults[r.Runner]}
			byRunner[r.Runner] = h
		}
		h.Points++
		switch r.Status {
		case "succeeded":
			h.Succeeded++
		case "skipped":
			h.Skipped++
		default:
			h.Failed++
		}
		h.Retries += max(int(r.Attempts)-1, 0)
		if r.Node != "" && !slices.Contains(h.Nodes, r.Node) {
			h.Nodes = append(h.Nodes, r.Node)
		}
		if !r.Start.IsZero() && r.End.After(r.Start) {
			walls[r.Runner] = append(walls[r.Runner], r.End.Sub(r.Start).Seconds())
		}
		if r.EngineStartupS != nil {
			startups[r.Runner] = append(startups[r.Runner], *r.EngineStartupS)
		}
	}
	out := make([]PoolHealth, 0, len(byRunner))
	for runner, h := range byRunner {
		h.SuccessPct = 100 * float64(h.Succeeded) / float64(h.Points)
		sort.Strings(h.Nodes)
		if w := walls[runner]; len(w) > 0 {
			v := median(w)
			h.MedianPointS = &v
		}
		if s := startups[runner]; len(s) > 0 {
			v := median(s)
			h.MedianStartupS = &v
		}
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Runner < out[j].Runner })
	return out
}

// FrontierRows flattens a sweep's frontiers, both planes, for the lake.
func FrontierRows(sweepID string, groups []Group) []results.FrontierRow {
	var out []results.FrontierRow
	for _, g := range groups {
		add := func(series, plane string, points []Point) {
			for _, p := range points {
				row := results.FrontierRow{SweepID: sweepID, Model: g.Model, Precision: g.Precision, ISL: int32(g.ISL), OSL: int32(g.OSL),
					Series: series, Plane: plane, PointID: p.ID, TputPerGPU: p.Y}
				x := p.X
				if plane == results.PlaneE2EL {
					row.MedianE2ELms = &x
				} else {
					row.Interactivity = &x
				}
				out = append(out, row)
			}
		}
		for _, s := range g.Series {
			add(s.Key, results.PlaneInteractivity, s.Frontier)
			add(s.Key, results.PlaneE2EL, s.E2EFrontier)
		}
		add("*", results.PlaneInteractivity, g.Overall)
		add("*", results.PlaneE2EL, g.OverallE2E)
	}
	return out
}

// RegressionRows flattens regressions for the lake.
func RegressionRows(sweepID string, regs []Regression) []results.RegressionRow {
	out := make([]results.RegressionRow, len(regs))
	for i, r := range regs {
		out[i] = results.RegressionRow{SweepID: sweepID, Model: r.Model, Precision: r.Precision, ISL: int32(r.ISL), OSL: int32(r.OSL),
			Series: r.Series, TargetInteractivity: r.Target, Verdict: r.Verdict, TputPerGPU: r.Tonight, BaselineTputPerGPU: r.Baseline,
			BaselineNights: int32(r.Nights), ChangePct: r.ChangePct, NoisePct: r.NoisePct, ThresholdPct: r.ThresholdPct,
			PointID: r.PointID, BaselineSweep: r.BaselineSweep, PValue: r.PValue}
	}
	return out
}
