package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// manifestOf reads the manifest of the sweep the path names; on failure
// it has answered and ok is false.
func (s *Server) manifestOf(w http.ResponseWriter, r *http.Request) (m results.Manifest, ok bool) {
	ref, err := s.ref(r.Context(), r.PathValue("id"))
	if err == nil {
		m, err = s.lake.ManifestOf(r.Context(), ref)
	}
	if err != nil {
		s.fail(w, r, err)
		return m, false
	}
	return m, true
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request) {
	if m, ok := s.manifestOf(w, r); ok {
		writeJSON(w, http.StatusOK, m)
	}
}

// pointFilters are the query parameters /points filters on, by column.
var pointFilters = map[string]func(results.PointRow) string{
	"point_id":  func(p results.PointRow) string { return p.PointID },
	"runner":    func(p results.PointRow) string { return p.Runner },
	"framework": func(p results.PointRow) string { return p.Framework },
	"model":     func(p results.PointRow) string { return p.Model },
	"precision": func(p results.PointRow) string { return p.Precision },
	"status":    func(p results.PointRow) string { return p.Status },
	"entry":     func(p results.PointRow) string { return p.Entry },
}

// tableOf is the format a table's request asks for (json or csv) and the
// manifest of its sweep; on failure the answer is written.
func (s *Server) tableOf(w http.ResponseWriter, r *http.Request) (format string, m results.Manifest, ok bool) {
	format = r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("format=%q: want json or csv", format))
		return "", m, false
	}
	m, ok = s.manifestOf(w, r)
	return format, m, ok
}

func (s *Server) points(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format, m, ok := s.tableOf(w, r)
	if !ok {
		return
	}
	points, err := s.lake.encodedPoints(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var kept []int
	for i, p := range points.rows {
		match := true
		for name, column := range pointFilters {
			if want := q.Get(name); want != "" && column(p) != want {
				match = false
			}
		}
		if match {
			kept = append(kept, i)
		}
	}
	if format == "csv" {
		rows := make([]results.PointRow, len(kept))
		for i, k := range kept {
			rows[i] = points.rows[k]
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="points.csv"`)
		if err := results.WriteCSV(w, rows); err != nil {
			s.logger.Error("csv export failed", "sweep", m.SweepID, "error", err)
		}
		return
	}
	writeEncoded(w, points.json, kept)
}

// writeEncoded answers the kept rows as writeJSON would write them, from
// JSON encoded once.
func writeEncoded(w http.ResponseWriter, encoded [][]byte, kept []int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if len(kept) == 0 {
		_, _ = io.WriteString(w, "[]\n")
		return
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	sep := "[\n" + arrayIndent
	for _, k := range kept {
		_, _ = bw.WriteString(sep)
		_, _ = bw.Write(encoded[k])
		sep = ",\n" + arrayIndent
	}
	_, _ = bw.WriteString("\n]\n")
	_ = bw.Flush()
}

// frontiers serves the stored analysis, or computes it for a sweep that
// was never analysed.
func (s *Server) frontiers(w http.ResponseWriter, r *http.Request) {
	serveAnalysis(s, w, r, s.lake.Frontiers, func(id string, rep *analysis.Report) []results.FrontierRow {
		return analysis.FrontierRows(id, rep.Groups)
	},
		"plane", func(f results.FrontierRow) string { return f.Plane })
}

func (s *Server) regressions(w http.ResponseWriter, r *http.Request) {
	serveAnalysis(s, w, r, s.lake.Regressions, func(id string, rep *analysis.Report) []results.RegressionRow {
		return analysis.RegressionRows(id, rep.Regressions)
	}, "verdict", func(g results.RegressionRow) string { return g.Verdict })
}

// serveAnalysis answers with a sweep's stored analysis table, or the same
// rows built now for a sweep analysed before the table existed, keeping
// those whose column matches the query parameter when it is given.
func serveAnalysis[T any](s *Server, w http.ResponseWriter, r *http.Request, stored func(context.Context, results.SweepRef) ([]T, error),
	built func(string, *analysis.Report) []T, param string, column func(T) string) {
	ref, err := s.ref(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := stored(r.Context(), ref)
	if errors.Is(err, results.ErrNotFound) {
		var rep *analysis.Report
		if rep, err = analysis.Build(r.Context(), s.lake, ref.SweepID, s.opt); err == nil {
			rows = built(ref.SweepID, rep)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if want := r.URL.Query().Get(param); want != "" {
		// The cached rows are shared: filter a copy.
		rows = slices.DeleteFunc(slices.Clone(rows), func(row T) bool { return column(row) != want })
	}
	if rows == nil {
		rows = []T{}
	}
	writeJSON(w, http.StatusOK, rows)
}

// nightReaders bounds the stored frontiers /history fetches at once on a
// cold cache.
const nightReaders = 16

// history answers "how did this series do at N tok/s/user, night by
// night": one value per committed sweep in the range whose frontier
// reaches the target, read from each night's stored frontiers.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	key, target, err := historyParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	refs, nights, err := s.nightsBetween(r.Context(), r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	values := []analysis.TrendValue{}
	for i, night := range nights {
		if v, ok := analysis.InterpolateAt(night.Frontiers[key], target); ok {
			values = append(values, analysis.TrendValue{SweepID: refs[i].SweepID, Date: refs[i].Date, TputPerGPU: v})
		}
	}
	writeJSON(w, http.StatusOK, values)
}

// nightsBetween is every committed sweep dated from..to ("" unbounded)
// and its frontiers, oldest first, read nightReaders at a time.
func (s *Server) nightsBetween(ctx context.Context, from, to string) ([]results.SweepRef, []analysis.Night, error) {
	refs, err := s.lake.Sweeps(ctx, from, to, false)
	if err != nil {
		return nil, nil, err
	}
	nights := make([]analysis.Night, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(nightReaders)
	for i, ref := range refs {
		g.Go(func() (err error) {
			nights[i], err = s.lake.night(gctx, ref, s.opt)
			return err
		})
	}
	return refs, nights, g.Wait()
}

func historyParams(r *http.Request) (analysis.SeriesKey, float64, error) {
	q := r.URL.Query()
	g, target, err := groupParams(q, "series")
	return analysis.SeriesKey{Model: g.Model, Precision: g.Precision, ISL: g.ISL, OSL: g.OSL, Series: q.Get("series")}, target, err
}

// groupParams reads a group and a target interactivity from the query,
// requiring the also parameters too.
func groupParams(q url.Values, also ...string) (analysis.GroupKey, float64, error) {
	var missing []string
	for _, name := range append([]string{"model", "precision", "isl", "osl"}, append(also, "target")...) {
		if q.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return analysis.GroupKey{}, 0, fmt.Errorf("missing query parameters: %s", strings.Join(missing, ", "))
	}
	isl, errI := strconv.Atoi(q.Get("isl"))
	osl, errO := strconv.Atoi(q.Get("osl"))
	target, errT := strconv.ParseFloat(q.Get("target"), 64)
	if err := errors.Join(errI, errO, errT); err != nil {
		return analysis.GroupKey{}, 0, fmt.Errorf("isl, osl and target are numbers: %w", err)
	}
	return analysis.GroupKey{Model: q.Get("model"), Precision: q.Get("precision"), ISL: isl, OSL: osl}, target, nil
}
