package api

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// The dashboard is plain files served by the binary: no build step, and
// nothing the page loads comes from elsewhere.
//
//go:embed dashboard
var dashboardFS embed.FS

// dashboardScripts load in this order; an exported file inlines them so.
var dashboardScripts = []string{"state.js", "chart.js", "app.js"}

var dashboardPageTemplate = template.Must(template.ParseFS(dashboardFS, "dashboard/index.html.tmpl"))

// dashboardView fills the page: links to the binary's files when
// served, the files and the data inlined in an exported file.
type dashboardView struct {
	Inline bool
	CSS    template.CSS
	JS     template.JS
	Data   template.JS
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) {
	s.writePage(w, r, func(buf *bytes.Buffer) error { return dashboardPageTemplate.Execute(buf, dashboardView{}) })
}

func dashboardAssets() http.Handler {
	static, err := fs.Sub(dashboardFS, "dashboard")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	files := http.FileServerFS(static)
	return http.StripPrefix("/dashboard/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".js") && !strings.HasSuffix(r.URL.Path, ".css") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
}

// fileData is what an exported dashboard carries: the API's answers to
// the requests the page makes, by canonical URL (canonURL).
type fileData struct {
	Sweep   string                     `json:"sweep"`
	Answers map[string]json.RawMessage `json:"answers"`
}

// WriteDashboard writes the dashboard as one self-contained HTML file
// that opens from file://: the sweep, the earlier sweeps a trend covers
// (cfg.Analysis.TrendNights, tonight included), each one's plotted
// points, the sweep compared with each of them and with its date's
// official nightly, its groups' trends at the analysis targets, and the
// full row of each of its points for hover. What it leaves out (another
// trend target, the rows of earlier sweeps' points) says so in the page.
func WriteDashboard(ctx context.Context, w io.Writer, lake Lake, sweepID string, cfg Config) error {
	s := New(lake, cfg)
	opt := s.opt.WithDefaults()
	self, err := s.ref(ctx, sweepID)
	if err != nil {
		return err
	}
	all, err := s.lake.Sweeps(ctx, "", self.Date, false)
	if err != nil {
		return err
	}
	all = slices.DeleteFunc(all, func(r results.SweepRef) bool { return r.SweepID == self.SweepID })
	shown := append(all[max(0, len(all)-(opt.TrendNights-1)):], self)
	data := fileData{Sweep: self.SweepID, Answers: map[string]json.RawMessage{}}
	a := &answerer{s: s, ctx: ctx, into: data.Answers}
	// The page asks for every sweep; the file lists those it holds.
	if data.Answers["/api/v1/sweeps"], err = json.Marshal(shown); err != nil {
		return err
	}
	for _, ref := range shown {
		a.get("/api/v1/sweeps/"+url.PathEscape(ref.SweepID)+"/columns", nil)
		if ref.SweepID != self.SweepID {
			a.get("/api/v1/compare", url.Values{"a": {self.SweepID}, "b": {ref.SweepID}})
		}
	}
	a.optional("/api/v1/compare", url.Values{"a": {self.SweepID}, "b": {"official"}})
	_, rows, _, err := s.plotted(ctx, self.SweepID)
	if err != nil {
		return err
	}
	for _, g := range analysis.Analyze(rows, opt.Costs, opt.Tier, nil) {
		for _, target := range opt.Targets {
			a.get("/api/v1/trend", url.Values{"model": {g.Model}, "precision": {g.Precision}, "isl": {fmt.Sprint(g.ISL)},
				"osl": {fmt.Sprint(g.OSL)}, "target": {fmt.Sprint(target)}})
		}
	}
	for _, row := range rows {
		a.get("/api/v1/sweeps/"+url.PathEscape(self.SweepID)+"/points", url.Values{"point_id": {row.PointID}})
	}
	if a.err != nil {
		return a.err
	}
	return renderDashboardFile(w, data)
}

func renderDashboardFile(w io.Writer, data fileData) error {
	css, err := dashboardFS.ReadFile("dashboard/dashboard.css")
	if err != nil {
		return err
	}
	var js strings.Builder
	for _, name := range dashboardScripts {
		body, err := dashboardFS.ReadFile("dashboard/" + name)
		if err != nil {
			return err
		}
		js.Write(body)
		js.WriteString("\n")
	}
	// json.Marshal escapes <, > and &: the data cannot end its script element.
	encoded, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return dashboardPageTemplate.Execute(w, dashboardView{Inline: true, CSS: template.CSS(css), JS: template.JS(js.String()), Data: template.JS(encoded)})
}

// answerer asks the server in-process and keeps the JSON answers; the
// first failure stops it.
type answerer struct {
	s    *Server
	ctx  context.Context
	into map[string]json.RawMessage
	err  error
}

func (a *answerer) get(path string, q url.Values) {
	if a.err == nil {
		a.err = a.fetch(path, q)
	}
}

// optional keeps an answer the lake may not have (a date without an
// official nightly): a 404 is left out.
func (a *answerer) optional(path string, q url.Values) {
	if err := a.fetch(path, q); err != nil && !errors.Is(err, errNotFound) && a.err == nil {
		a.err = err
	}
}

var errNotFound = errors.New("not found")

func (a *answerer) fetch(path string, q url.Values) error {
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(a.ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	var rec recorder
	a.s.ServeHTTP(&rec, req)
	switch {
	case rec.status == http.StatusNotFound:
		return fmt.Errorf("%s: %w: %s", target, errNotFound, bytes.TrimSpace(rec.body.Bytes()))
	case rec.status != 0 && rec.status != http.StatusOK:
		return fmt.Errorf("%s: %d: %s", target, rec.status, bytes.TrimSpace(rec.body.Bytes()))
	}
	a.into[canonURL(path, q)] = json.RawMessage(bytes.TrimSpace(rec.body.Bytes()))
	return nil
}

// canonURL is the key an answer is stored under: the path, then the
// query's pairs sorted and unescaped, as the page's Dash.canon makes it.
func canonURL(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	var pairs [][2]string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) })
	var b strings.Builder
	b.WriteString(path)
	sep := "?"
	for _, p := range pairs {
		b.WriteString(sep + p[0] + "=" + p[1])
		sep = "&"
	}
	return b.String()
}

// recorder is an in-memory http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
