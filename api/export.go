package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// viewFilter is the dashboard's filters as query parameters: the page
// keeps them in its URL and its download button sends the same ones.
// An empty field keeps every point.
type viewFilter struct {
	text     map[string]string // textColumns name → wanted value
	isl, osl int32
}

// viewTextFilters are the text filters, each a textColumns name.
var viewTextFilters = []string{"model", "precision", "hardware", "framework", "spec", "topology"}

var topologies = []string{analysis.KindSingleNode, analysis.KindMultinode, analysis.KindDisaggregated}

func parseViewFilter(q url.Values) (viewFilter, error) {
	f := viewFilter{text: map[string]string{}}
	for _, name := range viewTextFilters {
		if v := q.Get(name); v != "" {
			f.text[name] = v
		}
	}
	if v := f.text["topology"]; v != "" && !slices.Contains(topologies, v) {
		return f, fmt.Errorf("topology=%q: want %s, %s or %s", v, topologies[0], topologies[1], topologies[2])
	}
	for name, into := range map[string]*int32{"isl": &f.isl, "osl": &f.osl} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n <= 0 {
				return f, fmt.Errorf("%s=%q: want a token count such as 1024", name, v)
			}
			*into = int32(n)
		}
	}
	return f, nil
}

func (f viewFilter) keeps(r results.PointRow, fig analysis.Figures) bool {
	for name, want := range f.text {
		if textColumns[name](r, fig) != want {
			return false
		}
	}
	return (f.isl == 0 || r.ISL == f.isl) && (f.osl == 0 || r.OSL == f.osl)
}

// export answers the plotted points of a sweep that pass the view's
// filters, with their figures (cost per million tokens in each tier,
// tokens/s per MW, J/token, frontier membership), as CSV or Parquet.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "csv" && format != "parquet" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("format=%q: want csv or parquet", format))
		return
	}
	id := q.Get("sweep")
	if id == "" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("missing query parameter sweep (a sweep id from /api/v1/sweeps)"))
		return
	}
	filter, err := parseViewFilter(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	m, rows, figs, err := s.plotted(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []analysis.ExportRow{}
	for i := range rows {
		if filter.keeps(rows[i], figs[i]) {
			out = append(out, analysis.ExportRow{PointRow: rows[i], Figures: figs[i]})
		}
	}
	name := m.SweepID + "-points." + format
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		if err := results.WriteCSV(w, out); err != nil {
			s.logger.Error("csv export failed", "sweep", m.SweepID, "error", err)
		}
		return
	}
	body, err := results.Encode(out, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.apache.parquet")
	_, _ = w.Write(body)
}
