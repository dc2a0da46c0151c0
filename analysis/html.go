package analysis

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"f0": func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"f1": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"f3": func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"opt": func(format string, v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf(format, *v)
	},
	"workload": sweep.WorkloadName,
	"trend": func(vs []EvalTrendValue) string {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = fmt.Sprintf("%.3f", v.Value)
		}
		return strings.Join(parts, " → ")
	},
	"join": strings.Join,
	"add":  func(a, b float64) float64 { return a + b },
	"half": func(v float64) float64 { return v / 2 },
	// A legend swatch: the series' marker centred in a 14 px box.
	"marker": func(kind string) string { return markerPath(kind, 7, 7, 4.5) },
}).Parse(reportTemplate))

// RenderHTML writes the report as one self-contained page: inline CSS and
// SVG, no script, nothing fetched, so it opens from file:// and prints.
// Every string from a spec or an engine goes through html/template's
// contextual escaping.
func RenderHTML(w io.Writer, rep *Report) error {
	var buf bytes.Buffer
	if err := reportPage.Execute(&buf, newReportView(rep)); err != nil {
		return fmt.Errorf("render report of sweep %s: %w", rep.Manifest.SweepID, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type reportView struct {
	*Report
	TimeBasis   string
	Versions    []string
	Counts      []string
	Verdicts    map[string]int
	Groups      []groupView
	Regressions []Regression
	Failures    []results.PointRow
	Method      string
}

type groupView struct {
	Title         string
	Interactivity Chart
	E2E           Chart
	// Session is drawn for groups of agentic points only.
	Session  *Chart
	Legend   []ChartSeries
	Cheapest []TargetOffers
	Trends   []Chart
}

func newReportView(rep *Report) reportView {
	v := reportView{Report: rep, Method: RegressionMethod, Verdicts: map[string]int{}}
	versions := map[string]bool{}
	for _, r := range rep.Rows {
		if v.TimeBasis == "" {
			v.TimeBasis = r.TimeBasis
		}
		for _, s := range []string{"infersweep " + r.InfersweepVersion, r.Framework + " " + r.EngineVersion} {
			if strings.TrimSpace(s) != "" && !strings.HasSuffix(s, " ") {
				versions[s] = true
			}
		}
		if r.Status != "succeeded" {
			v.Failures = append(v.Failures, r)
		}
	}
	for s := range versions {
		v.Versions = append(v.Versions, s)
	}
	sort.Strings(v.Versions)
	for _, status := range []string{"succeeded", "failed", results.StatusAccuracyFailed, "skipped"} {
		if n := rep.Manifest.Counts[status]; n > 0 {
			v.Counts = append(v.Counts, fmt.Sprintf("%d %s", n, status))
		}
	}
	sort.Slice(v.Failures, func(i, j int) bool {
		return v.Failures[i].Runner+v.Failures[i].PointID < v.Failures[j].Runner+v.Failures[j].PointID
	})

	// A series keeps its colour and marker in every chart of the report.
	var keys []string
	for _, g := range rep.Groups {
		for _, s := range g.Series {
			if !slices.Contains(keys, s.Key) {
				keys = append(keys, s.Key)
			}
		}
	}
	sort.Strings(keys)
	index := func(key string) int { return slices.Index(keys, key) }
	for _, g := range rep.Groups {
		v.Groups = append(v.Groups, groupViewOf(rep, g, index))
	}
	order := map[string]int{VerdictRegression: 0, VerdictLost: 1, VerdictImprovement: 2, VerdictNew: 3, VerdictSteady: 4}
	v.Regressions = slices.Clone(rep.Regressions)
	sort.SliceStable(v.Regressions, func(i, j int) bool { return order[v.Regressions[i].Verdict] < order[v.Regressions[j].Verdict] })
	for _, r := range rep.Regressions {
		v.Verdicts[r.Verdict]++
	}
	return v
}

func groupViewOf(rep *Report, g Group, index func(string) int) groupView {
	title := fmt.Sprintf("%s %s, %s", g.Model, g.Precision, sweep.WorkloadName(g.ISL, g.OSL))
	gv := groupView{Title: title, Cheapest: g.Cheapest}
	var inter, e2e, session []seriesData
	for _, s := range g.Series {
		si, se, ss := seriesPlots(rep.Rows, g, s, index(s.Key))
		inter, e2e = append(inter, si), append(e2e, se)
		if len(ss.data) > 0 {
			session = append(session, ss)
		}
	}
	gv.Interactivity = layoutChart("Throughput per GPU vs interactivity", "interactivity (tok/s/user, 1000 / median TPOT)", "tok/s/GPU", inter, nil)
	gv.E2E = layoutChart("Throughput per GPU vs end-to-end latency", "median end-to-end latency (s)", "tok/s/GPU", e2e, nil)
	if len(session) > 0 {
		chart := layoutChart("Throughput per GPU vs session latency", "median session latency (s, whole sessions)", "tok/s/GPU", session, nil)
		gv.Session = &chart
	}
	gv.Legend = gv.Interactivity.Series

	// Trends: one chart per target, a line per series across sweeps.
	sweeps := []results.SweepRef{}
	for i := len(rep.History) - 1; i >= 0; i-- {
		sweeps = append(sweeps, rep.History[i])
	}
	sweeps = append(sweeps, results.SweepRef{SweepID: rep.Manifest.SweepID, Date: rep.Manifest.Date})
	position := func(id string) float64 {
		return float64(slices.IndexFunc(sweeps, func(r results.SweepRef) bool { return r.SweepID == id }) + 1)
	}
	label := func(x float64) string {
		i := int(x) - 1
		if x != float64(int(x)) || i < 0 || i >= len(sweeps) {
			return ""
		}
		return strings.TrimPrefix(sweeps[i].Date[min(5, len(sweeps[i].Date)):], "-")
	}
	for _, target := range rep.Options.Targets {
		var lines []seriesData
		for _, t := range rep.Trends {
			if t.Target != target || t.Model != g.Model || t.Precision != g.Precision || t.ISL != g.ISL || t.OSL != g.OSL {
				continue
			}
			sd := seriesData{name: t.Series, index: index(t.Series)}
			for _, tv := range t.Values {
				x := position(tv.SweepID)
				sd.data = append(sd.data, datum{x: x, y: tv.TputPerGPU,
					title: fmt.Sprintf("%s · sweep %s (%s) · %.0f tok/s/GPU at %g tok/s/user", t.Series, tv.SweepID, tv.Date, tv.TputPerGPU, target)})
				sd.line = append(sd.line, [2]float64{x, tv.TputPerGPU})
			}
			lines = append(lines, sd)
		}
		if len(lines) > 0 {
			gv.Trends = append(gv.Trends, layoutChart(fmt.Sprintf("At %g tok/s/user, last %d sweeps", target, len(sweeps)), "sweep (date MM-DD)", "tok/s/GPU", lines, label))
		}
	}
	return gv
}

func pointTitle(r results.PointRow) string {
	parts := []string{SeriesName(r)}
	if r.Topology != "" {
		parts = append(parts, r.Topology, "deployment "+r.DeploymentID)
	} else {
		parts = append(parts, fmt.Sprintf("TP %d EP %d", r.TP, r.EP))
	}
	parts = append(parts, fmt.Sprintf("conc %d", r.Conc))
	if r.DPAttn {
		parts = append(parts, "DP attention")
	}
	add := func(format string, v *float64) {
		if v != nil {
			parts = append(parts, fmt.Sprintf(format, *v))
		}
	}
	add("%.0f tok/s/GPU", r.TputPerGPU)
	add("%.1f tok/s/user", r.Interactivity)
	add("TTFT p50 %.0f ms", r.TTFT.Median)
	add("TPOT p50 %.1f ms", r.TPOT.Median)
	add("E2E p50 %.2f s", scaled(r.E2EL.Median, 1e-3))
	add("%.3f J/token", r.JoulesPerToken)
	if r.TokensPerChunk != nil && *r.TokensPerChunk > 1.05 {
		// Its ITLs span that many tokens each.
		add("%.1f tokens per streamed chunk", r.TokensPerChunk)
	}
	parts = append(parts, "entry "+r.Entry, "node "+r.Node, "point "+r.PointID)
	if r.LaunchFingerprint != "" {
		parts = append(parts, "recipe "+r.LaunchRecipe+" "+r.LaunchFingerprint[:min(12, len(r.LaunchFingerprint))])
	}
	return strings.Join(parts, " · ")
}

func scaled(v *float64, by float64) *float64 {
	if v == nil {
		return nil
	}
	s := *v * by
	return &s
}

// seriesPlots are one series' points and frontier lines on each plane
// (latencies in seconds): interactivity, end-to-end latency and, for
// agentic points, session latency. Points off a plane's frontier fade.
func seriesPlots(rows []results.PointRow, g Group, s Series, index int) (inter, e2e, session seriesData) {
	inter, e2e, session = seriesData{name: s.Key, index: index}, seriesData{name: s.Key, index: index}, seriesData{name: s.Key, index: index}
	on := func(front []Point) map[string]bool {
		ids := map[string]bool{}
		for _, p := range front {
			ids[p.ID] = true
		}
		return ids
	}
	onFront, onE2E, onSession := on(s.Frontier), on(s.E2EFrontier), on(s.SessionFrontier)
	for _, r := range rows {
		if r.Status != "succeeded" || SeriesName(r) != s.Key || r.Model != g.Model || r.Precision != g.Precision ||
			int(r.ISL) != g.ISL || int(r.OSL) != g.OSL || r.TputPerGPU == nil {
			continue
		}
		title := pointTitle(r)
		if r.Interactivity != nil {
			inter.data = append(inter.data, datum{x: *r.Interactivity, y: *r.TputPerGPU, title: title, faded: !onFront[r.PointID]})
		}
		if r.E2EL.Median != nil {
			e2e.data = append(e2e.data, datum{x: *r.E2EL.Median / 1000, y: *r.TputPerGPU, title: title, faded: !onE2E[r.PointID]})
		}
		if r.SessionLatency.Median != nil {
			session.data = append(session.data, datum{x: *r.SessionLatency.Median / 1000, y: *r.TputPerGPU, title: title, faded: !onSession[r.PointID]})
		}
	}
	line := func(front []Point, scale float64) [][2]float64 {
		var xy [][2]float64
		for _, p := range front {
			xy = append(xy, [2]float64{p.X * scale, p.Y})
		}
		return xy
	}
	inter.line, e2e.line, session.line = line(s.Frontier, 1), line(s.E2EFrontier, 1.0/1000), line(s.SessionFrontier, 1.0/1000)
	return inter, e2e, session
}
