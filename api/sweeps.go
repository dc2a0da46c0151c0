package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// missMaxAge is how stale the index may be when a sweep id is not in it:
// a sweep committed a moment ago is looked up by id straight away.
const missMaxAge = time.Second

// ref is the committed sweep id names.
func (s *Server) ref(ctx context.Context, id string) (results.SweepRef, error) {
	var ref results.SweepRef
	var err error
	for _, maxAge := range []time.Duration{s.lake.maxAge, missMaxAge} {
		snap, listErr := s.lake.index.get(ctx, maxAge)
		if listErr != nil {
			return ref, listErr
		}
		if ref, err = snap.committed(id); err == nil {
			return ref, nil
		}
	}
	return ref, err
}

// latestOn is the last committed sweep of a date ("" for the newest
// date): by commit time when a date has several.
func (s *Server) latestOn(ctx context.Context, date string) (results.SweepRef, error) {
	snap, err := s.lake.index.get(ctx, s.lake.maxAge)
	if err != nil {
		return results.SweepRef{}, err
	}
	if date == "" {
		date = snap.newestDate()
	}
	var best results.SweepRef
	var bestManifest results.Manifest
	for _, r := range snap.between(date, date, false) {
		m, err := s.lake.ManifestOf(ctx, r)
		if err != nil {
			return results.SweepRef{}, err
		}
		if best.SweepID == "" || m.WrittenAt.After(bestManifest.WrittenAt) {
			best, bestManifest = r, m
		}
	}
	if best.SweepID == "" {
		return best, fmt.Errorf("%w on %q", results.ErrNoSweep, date)
	}
	return best, nil
}

func (s *Server) latest(w http.ResponseWriter, r *http.Request) {
	s.redirectToLatest(w, r, "")
}

func (s *Server) datePage(w http.ResponseWriter, r *http.Request) {
	s.redirectToLatest(w, r, r.PathValue("date"))
}

func (s *Server) redirectToLatest(w http.ResponseWriter, r *http.Request, date string) {
	ref, err := s.latestOn(r.Context(), date)
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

func (s *Server) sweepIndex(w http.ResponseWriter, r *http.Request) {
	refs, err := s.lake.Sweeps(r.Context(), "", "", false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slices.Reverse(refs)
	s.writePage(w, r, func(buf *bytes.Buffer) error { return sweepIndexPage.Execute(buf, refs) })
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	ref, err := s.ref(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rep, err := analysis.Build(r.Context(), s.lake, ref.SweepID, s.opt)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writePage(w, r, func(buf *bytes.Buffer) error { return analysis.RenderHTML(buf, rep) })
}

// writePage renders a whole page before answering, so a failure halfway
// is an error status rather than half a page.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, render func(*bytes.Buffer) error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// maxPage is the most sweeps one /api/v1/sweeps answer holds (about three
// years of nights); the rest follow by cursor.
const maxPage = 1000

// sweeps lists sweeps oldest first, a page at a time. The cursor names
// the last sweep of the previous page, so pages stay in step while new
// sweeps are committed; the next page's URL is in the Link header.
func (s *Server) sweeps(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, after, err := pageParams(q.Get("limit"), q.Get("cursor"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	refs, err := s.lake.Sweeps(r.Context(), q.Get("from"), q.Get("to"), q.Get("running") == "true")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(refs, *after, compareRefs)
		if start < len(refs) && compareRefs(refs[start], *after) == 0 {
			start++
		}
	}
	page := refs[start:min(start+limit, len(refs))]
	if start+limit < len(refs) {
		q.Set("cursor", encodeCursor(page[len(page)-1]))
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, q.Encode()))
	}
	writeJSON(w, http.StatusOK, page)
}

func compareRefs(a, b results.SweepRef) int {
	return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.SweepID, b.SweepID))
}

func pageParams(limitParam, cursor string) (int, *results.SweepRef, error) {
	limit := maxPage
	if limitParam != "" {
		n, err := strconv.Atoi(limitParam)
		if err != nil || n < 1 || n > maxPage {
			return 0, nil, fmt.Errorf("limit=%q: want a number from 1 to %d", limitParam, maxPage)
		}
		limit = n
	}
	if cursor == "" {
		return limit, nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	date, id, ok := strings.Cut(string(raw), "/")
	if err != nil || !ok {
		return 0, nil, errors.New("cursor: not one this API handed out; take it from the Link header of the previous page")
	}
	return limit, &results.SweepRef{Date: date, SweepID: id}, nil
}

func encodeCursor(r results.SweepRef) string {
	return base64.RawURLEncoding.EncodeToString([]byte(r.Date + "/" + r.SweepID))
}
