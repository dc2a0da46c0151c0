package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// h100 prices and power in the default settings, which the test lake's
// figures are checked against.
const (
	h100Hyperscaler = 1.30 // $/GPU-hour
	h100Neocloud    = 1.69
	h100KW          = 1.73 // all-in kW per GPU
)

// TestExportCarriesTheViewWithDerivedFigures downloads the dashboard's
// filtered view of n2 as CSV and as Parquet and checks the rows kept and
// each derived figure against the point's throughput.
func TestExportCarriesTheViewWithDerivedFigures(t *testing.T) {
	h := New(apiLake(t), Config{})
	tput := map[string]float64{}
	for _, r := range apiNight(2).Sweep().Rows {
		if r.TputPerGPU != nil {
			tput[r.PointID] = *r.TputPerGPU
		}
	}
	tests := []struct {
		query    string
		rows     int
		frontier int // rows on their series' frontier
	}{
		// Two h100 series of seven points; conc 24 is dominated.
		{"model=llama-70b&hardware=h100", 14, 12},
		// mi355x/vllm lost its conc-128 point to a failure.
		{"model=dsr1&framework=vllm&isl=1024&osl=1024&topology=single-node", 13, 11},
		// The failed mi355x point of dsr1 is not plotted, so not exported.
		{"model=dsr1&hardware=mi355x", 6, 5},
		{"spec=mtp", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := get(t, h, "/api/v1/export?format=csv&sweep=n2&"+tc.query, "")
			require.Equal(t, 200, rec.Code, rec.Body.String())
			require.Equal(t, `attachment; filename="n2-points.csv"`, rec.Header().Get("Content-Disposition"))
			records, err := csv.NewReader(rec.Body).ReadAll()
			require.NoError(t, err)
			if tc.rows == 0 {
				require.Empty(t, records, "an empty view is an empty file")
			} else {
				require.Len(t, records, 1+tc.rows)
				onFront := 0
				for _, rec := range records[1:] {
					row := csvRow(records[0], rec)
					tp := tput[row["point_id"]]
					require.InDelta(t, tp, num(t, row["tput_per_gpu"]), 1e-6)
					if row["hardware"] == "h100" {
						require.InDelta(t, h100Hyperscaler/(tp*3600/1e6), num(t, row["usd_per_mtok_hyperscaler"]), 1e-9, "cost per million tokens")
						require.InDelta(t, h100Neocloud/(tp*3600/1e6), num(t, row["usd_per_mtok_neocloud"]), 1e-9)
						require.InDelta(t, tp*1000/h100KW, num(t, row["tok_s_per_mw"]), 1e-6, "tokens/s per MW")
						require.InDelta(t, h100KW*1000/tp, num(t, row["j_per_token"]), 1e-9, "J/token")
					}
					require.Equal(t, "single-node", row["deployment_kind"])
					require.NotEmpty(t, row["interactivity"])
					if row["on_frontier"] == "true" {
						onFront++
					}
				}
				require.Equal(t, tc.frontier, onFront)
			}

			rec = get(t, h, "/api/v1/export?format=parquet&sweep=n2&"+tc.query, "")
			require.Equal(t, 200, rec.Code, rec.Body.String())
			require.Equal(t, "application/vnd.apache.parquet", rec.Header().Get("Content-Type"))
			rows, err := results.Decode[analysis.ExportRow](bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
			require.NoError(t, err)
			require.Len(t, rows, tc.rows)
			for _, r := range rows {
				tp := tput[r.PointID]
				require.InDelta(t, tp*1000/map[string]float64{"h100": h100KW, "mi355x": 2.65}[r.Hardware], *r.TokPerSecPerMW, 1e-6)
				require.Equal(t, 1024, int(r.ISL))
			}
		})
	}
}

func csvRow(header, record []string) map[string]string {
	row := map[string]string{}
	for i, name := range header {
		row[name] = record[i]
	}
	return row
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, "%q is not a number", s)
	return v
}

func TestExportRefusesBadRequests(t *testing.T) {
	h := New(apiLake(t), Config{})
	tests := []struct {
		query  string
		status int
		error  string
	}{
		{"format=xlsx&sweep=n2", 400, `format=\"xlsx\": want csv or parquet`},
		{"format=csv", 400, "missing query parameter sweep"},
		{"format=csv&sweep=n2&topology=cluster", 400, `topology=\"cluster\": want single-node, multinode or disaggregated`},
		{"format=csv&sweep=n2&isl=1k", 400, `isl=\"1k\": want a token count such as 1024`},
		{"format=parquet&sweep=nope", 404, `no committed sweep \"nope\"`},
	}
	for _, tc := range tests {
		rec := get(t, h, "/api/v1/export?"+tc.query, "")
		require.Equal(t, tc.status, rec.Code, tc.query)
		require.Contains(t, rec.Body.String(), tc.error, tc.query)
	}
}

// TestColumnsHoldOnlyWhatIsPlotted checks the compact answer the
// dashboard loads: plotted points only, coded text, frontier flags.
func TestColumnsHoldOnlyWhatIsPlotted(t *testing.T) {
	h := New(apiLake(t), Config{})
	rec := get(t, h, "/api/v1/sweeps/n2/columns", "")
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var c struct {
		Count    int                   `json:"count"`
		Dicts    map[string][]string   `json:"dicts"`
		Codes    map[string][]int      `json:"codes"`
		Ints     map[string][]int32    `json:"ints"`
		Floats   map[string][]*float64 `json:"floats"`
		ID       []string              `json:"id"`
		Front    []int8                `json:"front"`
		FrontE2E []int8                `json:"front_e2e"`
		// Agentic points only: this sweep's fixed-seq-len points have no
		// session latency and are on no session frontier.
		FrontSession []int8 `json:"front_session"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &c))
	require.Equal(t, 41, c.Count, "42 points, one failed")
	require.Equal(t, make([]*float64, 41), c.Floats["session_latency_ms"])
	require.Equal(t, make([]int8, 41), c.FrontSession)
	require.NotContains(t, c.ID, "dsr1-2-5", "the failed point")
	require.ElementsMatch(t, []string{"h100", "mi355x"}, c.Dicts["hardware"])
	require.Equal(t, []string{"single-node"}, c.Dicts["topology"])
	for i, id := range c.ID {
		dominated := c.Ints["conc"][i] == 24
		require.Equal(t, !dominated, c.Front[i] == 1, "%s (conc %d) on its frontier", id, c.Ints["conc"][i])
		require.Len(t, c.Floats["usd_per_mtok_rental-3y"], 41)
	}
	// Six significant digits: a 41-point sweep in well under 200 bytes a point.
	require.Less(t, rec.Body.Len()/c.Count, 200, "bytes per point")
	require.Contains(t, rec.Body.String(), `"tput_per_gpu":[`)
}

// TestTrendMarksTheNightOfARegression follows the series of one group
// over the three nights: h100/vllm drops 15% on n2 and only it is marked.
func TestTrendMarksTheNightOfARegression(t *testing.T) {
	h := New(apiLake(t), Config{})
	// At 50 tok/s/user every series' frontier reaches the target each night.
	rec := get(t, h, "/api/v1/trend?model=dsr1&precision=fp8&isl=1024&osl=1024&target=50", "")
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var trend []analysis.SeriesTrend
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &trend))
	require.Len(t, trend, 3)
	for _, s := range trend {
		require.Len(t, s.Marks, 3, s.Series)
		verdicts := []string{s.Marks[0].Verdict, s.Marks[1].Verdict, s.Marks[2].Verdict}
		if s.Series == "h100/vllm" {
			require.Equal(t, []string{"new", "steady", "regression"}, verdicts)
			require.InDelta(t, -15, *s.Marks[2].ChangePct, 0.01)
			continue
		}
		require.Equal(t, []string{"new", "steady", "steady"}, verdicts, s.Series)
	}
	rec = get(t, h, "/api/v1/trend?model=dsr1&target=20", "")
	require.Equal(t, 400, rec.Code)
	require.Contains(t, rec.Body.String(), "missing query parameters: precision, isl, osl")
}

// TestCompareReadsTwoSweepsAtTheSameInteractivities compares n2 with n1,
// and with the official nightly of n2's date once one is committed.
func TestCompareReadsTwoSweepsAtTheSameInteractivities(t *testing.T) {
	lake := apiLake(t)
	h := New(lake, Config{IndexMaxAge: time.Nanosecond})
	rec := get(t, h, "/api/v1/compare?a=n2&b=n1&targets=20,50", "")
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var c comparison
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &c))
	require.Equal(t, "n1", c.B.SweepID)
	// dsr1's mi355x/vllm lost its conc-128 point: its frontier stops
	// short of 20 tok/s/user.
	require.Len(t, c.Series, 2*3*2-1, "two groups, three series, two targets")
	for _, d := range c.Series {
		want := 0.0
		if d.Series == "h100/vllm" {
			want = -15
		}
		require.InDelta(t, want, *d.ChangePct, 0.01, "%s %s at %g", d.Model, d.Series, d.Interactivity)
	}

	rec = get(t, h, "/api/v1/compare?a=n2&b=official", "")
	require.Equal(t, 404, rec.Code)
	require.Contains(t, rec.Body.String(), "no official nightly (id nightly-...) on 2026-11-26 besides n2")

	nightly := apiNight(2)
	nightly.ID, nightly.Factor = "nightly-20261126-0100", map[string]float64{"": 1.1}
	require.NoError(t, nightly.Sweep().Write(context.Background(), lake))
	rec = get(t, h, "/api/v1/compare?a=n2&b=official&targets=20", "")
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &c))
	require.Equal(t, "nightly-20261126-0100", c.B.SweepID)
	for _, d := range c.Series {
		want := (1/1.1 - 1) * 100
		if d.Series == "h100/vllm" {
			want = (0.85/1.1 - 1) * 100
		}
		require.InDelta(t, want, *d.ChangePct, 0.01, "%s %s", d.Model, d.Series)
	}
	rec = get(t, h, "/api/v1/compare?a=n2&b=n1&targets=fast", "")
	require.Equal(t, 400, rec.Code)
	require.Contains(t, rec.Body.String(), `targets=\"fast\": want interactivities in tok/s/user`)
}

// TestDashboardPageRunsOnlyItsOwnScripts: the dashboard may run the
// binary's scripts, the reports still none.
func TestDashboardPageRunsOnlyItsOwnScripts(t *testing.T) {
	h := New(apiLake(t), Config{})
	tests := []struct {
		path, csp, contentType, body string
	}{
		{"/dashboard", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'",
			"text/html; charset=utf-8", `<script src="/dashboard/static/app.js"></script>`},
		{"/dashboard/static/app.js", "default-src 'none'; style-src 'unsafe-inline'; img-src data:", "text/javascript; charset=utf-8", "Dash.drawScatter"},
		{"/dashboard/static/dashboard.css", "default-src 'none'; style-src 'unsafe-inline'; img-src data:", "text/css; charset=utf-8", "#chart"},
		{"/sweeps/n2", "default-src 'none'; style-src 'unsafe-inline'; img-src data:", "text/html; charset=utf-8", "<h1>Sweep n2</h1>"},
	}
	for _, tc := range tests {
		rec := get(t, h, tc.path, "")
		require.Equal(t, 200, rec.Code, tc.path)
		require.Equal(t, tc.csp, rec.Header().Get("Content-Security-Policy"), tc.path)
		require.Equal(t, tc.contentType, rec.Header().Get("Content-Type"), tc.path)
		require.Contains(t, rec.Body.String(), tc.body, tc.path)
	}
	require.Equal(t, 404, get(t, h, "/dashboard/static/index.html.tmpl", "").Code, "only scripts and style are served")
}

// TestDashboardFileCarriesItsAnswers writes the self-contained dashboard
// of n2 and checks it inlines what the page asks for, and no script src.
func TestDashboardFileCarriesItsAnswers(t *testing.T) {
	var page bytes.Buffer
	require.NoError(t, WriteDashboard(context.Background(), &page, apiLake(t), "n2", Config{}))
	html := page.String()
	require.NotContains(t, html, "<script src=")
	require.NotContains(t, html, `<link rel="stylesheet"`)
	start := strings.Index(html, `<script id="dash-data" type="application/json">`)
	require.Positive(t, start)
	body := html[start+len(`<script id="dash-data" type="application/json">`):]
	body = body[:strings.Index(body, "</script>")]
	var data fileData
	require.NoError(t, json.Unmarshal([]byte(body), &data))
	require.Equal(t, "n2", data.Sweep)
	var sweeps []results.SweepRef
	require.NoError(t, json.Unmarshal(data.Answers["/api/v1/sweeps"], &sweeps))
	require.Equal(t, []string{"n0", "n1", "n2"}, sweepIDs(sweeps))
	for _, key := range []string{
		"/api/v1/sweeps/n0/columns", "/api/v1/sweeps/n2/columns",
		"/api/v1/compare?a=n2&b=n1",
		"/api/v1/trend?isl=1024&model=llama-70b&osl=1024&precision=fp8&target=20",
		"/api/v1/sweeps/n2/points?point_id=dsr1-2-4",
	} {
		require.Contains(t, data.Answers, key)
	}
	require.NotContains(t, data.Answers, "/api/v1/compare?a=n2&b=official", "n2's date has no official nightly")
	require.NotContains(t, body, "<", "markup in the data (the lake's hostile entry names) is escaped")
}
