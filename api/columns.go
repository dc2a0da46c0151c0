package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// columnsCached bounds the encoded column sets kept (about 300 kB for a
// 3,000-point sweep): a dashboard shows one sweep, or two compared.
const columnsCached = 16

// sweepColumns is a sweep's plotted points as the dashboard loads them:
// one array per field, only the fields it draws and filters on, text
// columns as codes into dicts. Full rows of one point come from
// /points?point_id=, on hover.
type sweepColumns struct {
	SweepID string              `json:"sweep_id"`
	Date    string              `json:"date"`
	Count   int                 `json:"count"`
	Dicts   map[string][]string `json:"dicts"`
	Codes   map[string][]int    `json:"codes"`
	Ints    map[string][]int32  `json:"ints"`
	Floats  map[string][]figure `json:"floats"`
	ID      []string            `json:"id"`
	// Front and FrontE2E flag the points on their series' frontiers
	// (against interactivity, against median E2E latency), 1 or 0: numbers,
	// where []uint8 would encode as base64.
	Front    []int8 `json:"front"`
	FrontE2E []int8 `json:"front_e2e"`
	// FrontSession flags agentic points on their series' frontier against
	// median session latency.
	FrontSession []int8 `json:"front_session"`
}

// figure is a plotted number: six significant digits are finer than a
// pixel, and null is a figure that is missing (or not a number, which
// JSON cannot carry).
type figure struct{ v *float64 }

func (f figure) MarshalJSON() ([]byte, error) {
	if f.v == nil || math.IsNaN(*f.v) || math.IsInf(*f.v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, *f.v, 'g', 6, 64), nil
}

// textColumns are the coded columns, by the name the page reads.
var textColumns = map[string]func(results.PointRow, analysis.Figures) string{
	"model":     func(r results.PointRow, _ analysis.Figures) string { return r.Model },
	"precision": func(r results.PointRow, _ analysis.Figures) string { return r.Precision },
	"framework": func(r results.PointRow, _ analysis.Figures) string { return r.Framework },
	"hardware":  func(_ results.PointRow, f analysis.Figures) string { return f.Hardware },
	"spec":      func(_ results.PointRow, f analysis.Figures) string { return f.SpecName },
	"topology":  func(_ results.PointRow, f analysis.Figures) string { return f.Kind },
	"series":    func(_ results.PointRow, f analysis.Figures) string { return f.Series },
}

// floatColumns are the plotted figures; usd_per_mtok_<tier> per tier.
func floatColumns() map[string]func(results.PointRow, analysis.Figures) *float64 {
	cols := map[string]func(results.PointRow, analysis.Figures) *float64{
		"interactivity":      func(r results.PointRow, _ analysis.Figures) *float64 { return r.Interactivity },
		"e2el_ms":            func(r results.PointRow, _ analysis.Figures) *float64 { return r.E2EL.Median },
		"session_latency_ms": func(r results.PointRow, _ analysis.Figures) *float64 { return r.SessionLatency.Median },
		"tput_per_gpu":       func(r results.PointRow, _ analysis.Figures) *float64 { return r.TputPerGPU },
		"tok_s_per_mw":       func(_ results.PointRow, f analysis.Figures) *float64 { return f.TokPerSecPerMW },
		"j_per_token":        func(_ results.PointRow, f analysis.Figures) *float64 { return f.JPerToken },
	}
	for _, t := range analysis.Tiers {
		cols["usd_per_mtok_"+string(t)] = func(_ results.PointRow, f analysis.Figures) *float64 { return f.USDPerMTok(t) }
	}
	return cols
}

// columnsOf lays plotted rows out as columns.
func columnsOf(m results.Manifest, rows []results.PointRow, figs []analysis.Figures) sweepColumns {
	c := sweepColumns{SweepID: m.SweepID, Date: m.Date, Count: len(rows), Dicts: map[string][]string{}, Codes: map[string][]int{},
		Ints: map[string][]int32{}, Floats: map[string][]figure{}, ID: make([]string, len(rows)),
		Front: make([]int8, len(rows)), FrontE2E: make([]int8, len(rows)), FrontSession: make([]int8, len(rows))}
	floats := floatColumns()
	for name, column := range textColumns {
		codes := map[string]int{}
		c.Dicts[name] = []string{}
		for i := range rows {
			v := column(rows[i], figs[i])
			code, ok := codes[v]
			if !ok {
				code = len(c.Dicts[name])
				codes[v] = code
				c.Dicts[name] = append(c.Dicts[name], v)
			}
			c.Codes[name] = append(c.Codes[name], code)
		}
	}
	for i, r := range rows {
		c.ID[i] = r.PointID
		c.Ints["isl"] = append(c.Ints["isl"], r.ISL)
		c.Ints["osl"] = append(c.Ints["osl"], r.OSL)
		c.Ints["conc"] = append(c.Ints["conc"], r.Conc)
		c.Ints["gpus"] = append(c.Ints["gpus"], r.GPUs)
		for name, column := range floats {
			c.Floats[name] = append(c.Floats[name], figure{column(r, figs[i])})
		}
		if figs[i].OnFrontier {
			c.Front[i] = 1
		}
		if figs[i].OnE2EFrontier {
			c.FrontE2E[i] = 1
		}
		if figs[i].OnSessionFrontier {
			c.FrontSession[i] = 1
		}
	}
	return c
}

// plotted is a sweep's plotted rows and their figures under the
// server's costs.
func (s *Server) plotted(ctx context.Context, id string) (results.Manifest, []results.PointRow, []analysis.Figures, error) {
	ref, err := s.ref(ctx, id)
	if err != nil {
		return results.Manifest{}, nil, nil, err
	}
	m, err := s.lake.ManifestOf(ctx, ref)
	if err != nil {
		return m, nil, nil, err
	}
	rows, err := s.lake.Points(ctx, m)
	if err != nil {
		return m, nil, nil, err
	}
	rows, figs := analysis.Plotted(rows, s.opt.WithDefaults().Costs)
	return m, rows, figs, nil
}

// columns answers a sweep's plotted points as columns, encoded once.
func (s *Server) columns(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := s.columnCache.get(id, func() ([]byte, error) {
		m, rows, figs, err := s.plotted(r.Context(), id)
		if err != nil {
			return nil, err
		}
		return json.Marshal(columnsOf(m, rows, figs))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
