package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// officialSchedule names the schedule whose sweeps are the official
// nightlies: a scheduled sweep's id is "<schedule>-<time>".
const officialSchedule = "nightly"

// trend answers each series of a group at a target interactivity, night
// by night over the range, with each night's verdict against the nights
// before it: the dashboard's trend view, regressions marked.
func (s *Server) trend(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	group, target, err := groupParams(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	_, nights, err := s.nightsBetween(r.Context(), q.Get("from"), q.Get("to"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, analysis.GroupTrend(nights, group, target, s.opt.WithDefaults().BaselineNights))
}

// comparison is /compare's answer: the two sweeps and their series read
// at the same interactivities.
type comparison struct {
	A      results.SweepRef      `json:"a"`
	B      results.SweepRef      `json:"b"`
	Series []analysis.SeriesDiff `json:"series"`
}

// compare reads every series of two sweeps at the same interactivities
// (targets, default the analysis's); b=official is the official nightly
// of a's date.
func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	targets, err := parseTargets(q.Get("targets"), s.opt.WithDefaults().Targets)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if q.Get("a") == "" || q.Get("b") == "" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("missing query parameters a and b: two sweep ids, or b=official"))
		return
	}
	a, err := s.ref(r.Context(), q.Get("a"))
	var b results.SweepRef
	if err == nil {
		b, err = s.compareWith(r.Context(), a, q.Get("b"))
	}
	var na, nb analysis.Night
	if err == nil {
		na, err = s.lake.night(r.Context(), a, s.opt)
	}
	if err == nil {
		nb, err = s.lake.night(r.Context(), b, s.opt)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	diffs := analysis.CompareNights(na, nb, targets)
	if diffs == nil {
		diffs = []analysis.SeriesDiff{}
	}
	writeJSON(w, http.StatusOK, comparison{A: a, B: b, Series: diffs})
}

// compareWith is the sweep id names, or for "official" the newest official
// nightly of a's date other than a (ids end with the scheduled time).
func (s *Server) compareWith(ctx context.Context, a results.SweepRef, id string) (results.SweepRef, error) {
	if id != "official" {
		return s.ref(ctx, id)
	}
	refs, err := s.lake.Sweeps(ctx, a.Date, a.Date, false)
	if err != nil {
		return results.SweepRef{}, err
	}
	for i := len(refs) - 1; i >= 0; i-- {
		if refs[i].SweepID != a.SweepID && strings.HasPrefix(refs[i].SweepID, officialSchedule+"-") {
			return refs[i], nil
		}
	}
	return results.SweepRef{}, fmt.Errorf("%w: no official nightly (id %s-...) on %s besides %s", results.ErrNoSweep, officialSchedule, a.Date, a.SweepID)
}

func parseTargets(param string, fallback []float64) ([]float64, error) {
	if param == "" {
		return fallback, nil
	}
	var out []float64
	for _, part := range strings.Split(param, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("targets=%q: want interactivities in tok/s/user, such as 10,20,50", param)
		}
		out = append(out, v)
	}
	return out, nil
}
