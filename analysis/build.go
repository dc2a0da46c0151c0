package analysis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

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
	PointOutcome(ctx context.Context, date, hardware, sweepID, pointID string) (status, launch string, err error)
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
	// Evals are tonight's accuracy scores with their recent trend.
	Evals []EvalEntry
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
// back to their points when a sweep was never analysed; of their points,
// only the few tonight's regressions name, and of those only the points
// row and the TPOT column of the requests file. Tonight is read whole.
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
	for i, ref := range earlier {
		if nights[i], err = ReadNight(ctx, lake, ref, opt); err != nil {
			return nil, err
		}
	}
	rep.History = earlier
	hardware := map[string]string{}
	for _, p := range m.Points {
		hardware[p.PointID] = p.Hardware
	}
	statuses, err := measuredEarlier(ctx, lake, rep.Groups, nights, hardware, opt.Targets)
	if err != nil {
		return nil, err
	}
	rep.Regressions = Regressions(rep.Groups, nights, opt.Targets, opt.BaselineNights)
	if err := attachPValues(ctx, lake, rep.Regressions, m, nights, hardware, statuses); err != nil {
		return nil, err
	}
	rep.Trends = trends(rep.Groups, nights, m, opt.Targets)
	if rep.Evals, err = buildEvals(ctx, lake, m, earlier); err != nil {
		return nil, err
	}
	return rep, nil
}

// earlierSweeps are up to n committed sweeps before m, newest first: by
// date, and by commit time within a date (several sweeps a day happen).
// Only the manifests of a date with several sweeps, m's included, are
// read, for their commit times: a manifest lists every point of its
// sweep and runs to megabytes.
func earlierSweeps(ctx context.Context, lake Lake, refs []results.SweepRef, m results.Manifest, n int) ([]results.SweepRef, error) {
	if n <= 0 {
		return nil, nil
	}
	byDate := map[string][]results.SweepRef{}
	var dates []string
	for _, ref := range refs {
		if ref.SweepID == m.SweepID || ref.Date > m.Date {
			continue
		}
		if byDate[ref.Date] == nil {
			dates = append(dates, ref.Date)
		}
		byDate[ref.Date] = append(byDate[ref.Date], ref)
	}
	slices.Sort(dates)
	var out []results.SweepRef
	for i := len(dates) - 1; i >= 0 && len(out) < n; i-- {
		day, err := orderDay(ctx, lake, byDate[dates[i]], m)
		if err != nil {
			return nil, err
		}
		out = append(out, day...)
	}
	return out[:min(n, len(out))], nil
}

// orderDay orders one date's sweeps by commit time, newest first, and
// leaves out those of m's date committed at or after m. A lone sweep of
// another date needs no manifest read.
func orderDay(ctx context.Context, lake Lake, day []results.SweepRef, m results.Manifest) ([]results.SweepRef, error) {
	if len(day) == 1 && day[0].Date != m.Date {
		return day, nil
	}
	type committed struct {
		ref results.SweepRef
		at  time.Time
	}
	var kept []committed
	for _, ref := range day {
		em, err := lake.ManifestOf(ctx, ref)
		if err != nil {
			return nil, err
		}
		if ref.Date != m.Date || em.WrittenAt.Before(m.WrittenAt) {
			kept = append(kept, committed{ref, em.WrittenAt})
		}
	}
	slices.SortStableFunc(kept, func(a, b committed) int { return b.at.Compare(a.at) })
	out := make([]results.SweepRef, len(kept))
	for i, c := range kept {
		out[i] = c.ref
	}
	return out, nil
}

// ReadNight is a committed sweep as later nights compare against it: its
// stored frontiers (one small object), or, for a sweep analysed before
// frontiers were stored, frontiers computed from its points. PointIDs
// holds the points on those frontiers, which it measured and which
// succeeded; only the manifest, which can be large, knows every point.
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
	return nightFromRows(ref, FrontierRows(ref.SweepID, Analyze(rows, opt.Costs, opt.Tier, nil))), nil
}

func nightFromRows(ref results.SweepRef, rows []results.FrontierRow) Night {
	n := NightOf(ref.SweepID, ref.Date, nil, nil)
	for _, r := range rows {
		n.PointIDs[r.PointID] = true
		if r.LaunchFingerprint != "" {
			n.Launches[r.PointID] = r.LaunchFingerprint
		}
		// Files from before the E2E plane have no plane: interactivity.
		if r.Series == "*" || (r.Plane != "" && r.Plane != results.PlaneInteractivity) || r.Interactivity == nil {
			continue
		}
		key := SeriesKey{r.Model, r.Precision, int(r.ISL), int(r.OSL), r.Series}
		n.Frontiers[key] = append(n.Frontiers[key], Point{ID: r.PointID, X: *r.Interactivity, Y: r.TputPerGPU,
			Deployment: r.DeploymentID, Topology: r.Topology})
	}
	return n
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

// FrontierRows flattens a sweep's frontiers, every plane, for the lake.
func FrontierRows(sweepID string, groups []Group) []results.FrontierRow {
	var out []results.FrontierRow
	for _, g := range groups {
		add := func(series, plane string, points []Point) {
			for _, p := range points {
				row := results.FrontierRow{SweepID: sweepID, Model: g.Model, Precision: g.Precision, ISL: int32(g.ISL), OSL: int32(g.OSL),
					Series: series, Plane: plane, PointID: p.ID, TputPerGPU: p.Y, LaunchFingerprint: p.Launch,
					DeploymentID: p.Deployment, Topology: p.Topology}
				x := p.X
				switch plane {
				case results.PlaneE2EL:
					row.MedianE2ELms = &x
				case results.PlaneSession:
					row.MedianSessionLatencyMs = &x
				default:
					row.Interactivity = &x
				}
				out = append(out, row)
			}
		}
		for _, s := range g.Series {
			add(s.Key, results.PlaneInteractivity, s.Frontier)
			add(s.Key, results.PlaneE2EL, s.E2EFrontier)
			add(s.Key, results.PlaneSession, s.SessionFrontier)
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
			PointID: r.PointID, BaselineSweep: r.BaselineSweep, PValue: r.PValue, RecipeChanged: r.RecipeChanged}
	}
	return out
}

// WithDefaults is o with every zero field set to its default, as an
// analysis reads it.
func (o Options) WithDefaults() Options { return o.withDefaults() }
