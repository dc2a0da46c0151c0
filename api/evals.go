package api

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/infersweep/infersweep/results"
)

// evals answers a sweep's eval rows, one per point, task and filter, as
// JSON or (format=csv) CSV; task, status and point keep matching rows.
func (s *Server) evals(w http.ResponseWriter, r *http.Request) {
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
	rows, err := s.lake.Evals(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for param, column := range map[string]func(results.EvalRow) string{
		"task": func(e results.EvalRow) string { return e.Task }, "status": func(e results.EvalRow) string { return e.Status },
		"point": func(e results.EvalRow) string { return e.PointID },
	} {
		if want := q.Get(param); want != "" {
			rows = slices.DeleteFunc(rows, func(e results.EvalRow) bool { return column(e) != want })
		}
	}
	if rows == nil {
		rows = []results.EvalRow{}
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", m.SweepID+"-evals.csv"))
		if err := results.WriteCSV(w, rows); err != nil {
			s.logger.Error("evals CSV cut short", "sweep", m.SweepID, "error", err)
		}
		return
	}
	writeJSON(w, http.StatusOK, rows)
}
