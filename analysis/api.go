package analysis

import (
	"bytes"
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/infersweep/infersweep/results"
)

// ServedLake is what the API reads: a Lake plus the stored analysis.
type ServedLake interface {
	Lake
	Regressions(ctx context.Context, ref results.SweepRef) ([]results.RegressionRow, error)
}

//go:embed openapi.json
var openAPIDocument []byte

// NewServer serves reports and a read-only JSON API over the lake. A
// non-empty token is required as "Authorization: Bearer <token>" on every
// path but /healthz.
func NewServer(lake ServedLake, token string, opt Options, logger *slog.Logger) http.Handler {
	s := &server{lake: lake, opt: opt, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /{$}", s.latest)
	mux.HandleFunc("GET /sweeps", s.sweepIndex)
	mux.HandleFunc("GET /sweeps/{id}", s.reportPage)
	mux.HandleFunc("GET /dates/{date}", s.datePage)
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})
	mux.HandleFunc("GET /api/v1/sweeps", s.sweeps)
	mux.HandleFunc("GET /api/v1/sweeps/{id}", s.manifest)
	mux.HandleFunc("GET /api/v1/sweeps/{id}/points", s.points)
	mux.HandleFunc("GET /api/v1/sweeps/{id}/frontiers", s.frontiers)
	mux.HandleFunc("GET /api/v1/sweeps/{id}/regressions", s.regressions)
	mux.HandleFunc("GET /api/v1/history", s.history)
	if token == "" {
		return securityHeaders(mux)
	}
	return securityHeaders(requireToken(token, mux))
}

type server struct {
	lake   ServedLake
	opt    Options
	logger *slog.Logger
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reports carry no script; forbid any that an escaping bug let in.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

func requireToken(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="infersweep"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token (INFERSWEEP_API_TOKEN)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, apiError{err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fail answers an error from the lake: an unknown sweep is a 404, the
// rest a 502 (the lake, not the request, is at fault), logged.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, results.ErrNoSweep) {
		writeError(w, http.StatusNotFound, err)
		return
	}
	s.logger.Error("api request failed", "path", r.URL.Path, "error", err)
	writeError(w, http.StatusBadGateway, fmt.Errorf("reading the lake: %w", err))
}

func (s *server) ref(ctx context.Context, id string) (results.SweepRef, error) {
	refs, err := s.lake.Sweeps(ctx, "", "", false)
	if err != nil {
		return results.SweepRef{}, err
	}
	for _, r := range refs {
		if r.SweepID == id {
			return r, nil
		}
	}
	return results.SweepRef{}, fmt.Errorf("%w %q", results.ErrNoSweep, id)
}

// latestOn is the last committed sweep of a date ("" for any date).
func (s *server) latestOn(ctx context.Context, date string) (results.SweepRef, error) {
	refs, err := s.lake.Sweeps(ctx, date, date, false)
	if err != nil {
		return results.SweepRef{}, err
	}
	var best results.SweepRef
	var bestManifest results.Manifest
	for _, r := range refs {
		if best.SweepID != "" && r.Date < best.Date {
			continue
		}
		m, err := s.lake.ManifestOf(ctx, r)
		if err != nil {
			return results.SweepRef{}, err
		}
		if best.SweepID == "" || r.Date > best.Date || m.WrittenAt.After(bestManifest.WrittenAt) {
			best, bestManifest = r, m
		}
	}
	if best.SweepID == "" {
		return best, fmt.Errorf("%w on %q", results.ErrNoSweep, date)
	}
	return best, nil
}

func (s *server) latest(w http.ResponseWriter, r *http.Request) {
	ref, err := s.latestOn(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/sweeps/"+ref.SweepID, http.StatusFound)
}

func (s *server) datePage(w http.ResponseWriter, r *http.Request) {
	ref, err := s.latestOn(r.Context(), r.PathValue("date"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/sweeps/"+ref.SweepID, http.StatusFound)
}

var sweepIndexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>infersweep · sweeps</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:20px auto;max-width:900px}td,th{padding:2px 10px;text-align:left}</style></head>
<body><h1>Sweeps</h1><table><tr><th>date</th><th>sweep</th></tr>
{{range .}}<tr><td><a href="/dates/{{.Date}}">{{.Date}}</a></td><td><a href="/sweeps/{{.SweepID}}">{{.SweepID}}</a></td></tr>
{{end}}</table><p>JSON: <a href="/api/v1/sweeps">/api/v1/sweeps</a>, described by <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></body></html>
`))

func (s *server) sweepIndex(w http.ResponseWriter, r *http.Request) {
	refs, err := s.lake.Sweeps(r.Context(), "", "", false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slices.Reverse(refs)
	var buf bytes.Buffer
	if err := sweepIndexPage.Execute(&buf, refs); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (s *server) reportPage(w http.ResponseWriter, r *http.Request) {
	rep, err := Build(r.Context(), s.lake, r.PathValue("id"), s.opt)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, rep); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (s *server) sweeps(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	refs, err := s.lake.Sweeps(r.Context(), q.Get("from"), q.Get("to"), q.Get("running") == "true")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if refs == nil {
		refs = []results.SweepRef{}
	}
	writeJSON(w, http.StatusOK, refs)
}

// manifestOf reads the manifest of the sweep the path names; on failure
// it has answered and ok is false.
func (s *server) manifestOf(w http.ResponseWriter, r *http.Request) (m results.Manifest, ok bool) {
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

func (s *server) manifest(w http.ResponseWriter, r *http.Request) {
	if m, ok := s.manifestOf(w, r); ok {
		writeJSON(w, http.StatusOK, m)
	}
}

// pointFilters are the query parameters /points filters on, by column.
var pointFilters = map[string]func(results.PointRow) string{
	"runner":    func(p results.PointRow) string { return p.Runner },
	"framework": func(p results.PointRow) string { return p.Framework },
	"model":     func(p results.PointRow) string { return p.Model },
	"precision": func(p results.PointRow) string { return p.Precision },
	"status":    func(p results.PointRow) string { return p.Status },
	"entry":     func(p results.PointRow) string { return p.Entry },
}

func (s *server) points(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("format=%q: want json or csv", format))
		return
	}
	m, ok := s.manifestOf(w, r)
	if !ok {
		return
	}
	rows, err := s.lake.Points(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kept := []results.PointRow{}
	for _, p := range rows {
		match := true
		for name, column := range pointFilters {
			if want := q.Get(name); want != "" && column(p) != want {
				match = false
			}
		}
		if match {
			kept = append(kept, p)
		}
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="points.csv"`)
		if err := results.WriteCSV(w, kept); err != nil {
			s.logger.Error("csv export failed", "sweep", m.SweepID, "error", err)
		}
		return
	}
	writeJSON(w, http.StatusOK, kept)
}

// frontiers serves the stored analysis, or computes it for a sweep that
// was never analysed.
func (s *server) frontiers(w http.ResponseWriter, r *http.Request) {
	serveAnalysis(s, w, r, s.lake.Frontiers, func(id string, rep *Report) []results.FrontierRow { return FrontierRows(id, rep.Groups) },
		"plane", func(f results.FrontierRow) string { return f.Plane })
}

func (s *server) regressions(w http.ResponseWriter, r *http.Request) {
	serveAnalysis(s, w, r, s.lake.Regressions, func(id string, rep *Report) []results.RegressionRow { return RegressionRows(id, rep.Regressions) },
		"verdict", func(g results.RegressionRow) string { return g.Verdict })
}

// serveAnalysis answers with a sweep's stored analysis table, or the same
// rows built now for a sweep analysed before the table existed, keeping
// those whose column matches the query parameter when it is given.
func serveAnalysis[T any](s *server, w http.ResponseWriter, r *http.Request, stored func(context.Context, results.SweepRef) ([]T, error),
	built func(string, *Report) []T, param string, column func(T) string) {
	ref, err := s.ref(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := stored(r.Context(), ref)
	if errors.Is(err, results.ErrNotFound) {
		var rep *Report
		if rep, err = Build(r.Context(), s.lake, ref.SweepID, s.opt); err == nil {
			rows = built(ref.SweepID, rep)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if want := r.URL.Query().Get(param); want != "" {
		rows = slices.DeleteFunc(rows, func(row T) bool { return column(row) != want })
	}
	if rows == nil {
		rows = []T{}
	}
	writeJSON(w, http.StatusOK, rows)
}

// history answers "how did this series do at N tok/s/user, night by
// night": one value per committed sweep in the range whose frontier
// reaches the target.
func (s *server) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var missing []string
	for _, name := range []string{"model", "precision", "isl", "osl", "series", "target"} {
		if q.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("missing query parameters: %s", strings.Join(missing, ", ")))
		return
	}
	isl, errI := strconv.Atoi(q.Get("isl"))
	osl, errO := strconv.Atoi(q.Get("osl"))
	target, errT := strconv.ParseFloat(q.Get("target"), 64)
	if err := errors.Join(errI, errO, errT); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("isl, osl and target are numbers: %w", err))
		return
	}
	key := SeriesKey{q.Get("model"), q.Get("precision"), isl, osl, q.Get("series")}
	refs, err := s.lake.Sweeps(r.Context(), q.Get("from"), q.Get("to"), false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	values := []TrendValue{}
	for _, ref := range refs {
		m, err := s.lake.ManifestOf(r.Context(), ref)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		night, err := nightOf(r.Context(), s.lake, earlierSweep{ref, m}, s.opt.withDefaults())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if v, ok := InterpolateAt(night.Frontiers[key], target); ok {
			values = append(values, TrendValue{ref.SweepID, ref.Date, v})
		}
	}
	writeJSON(w, http.StatusOK, values)
}
