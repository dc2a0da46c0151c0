package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/analysis/analysistest"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/results/resultstest"
)

var apiBase = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

// apiNight is night i of the test lake: h100/vllm 15% slower on night 2.
func apiNight(i int) analysistest.Night {
	return analysistest.Night{ID: fmt.Sprint("n", i), Date: apiBase.AddDate(0, 0, i).Format(time.DateOnly), At: apiBase.AddDate(0, 0, i),
		Factor: map[string]float64{"": 1, "h100/vllm": []float64{1, 1, 0.85, 1}[i]}, Entry: `<script>alert(1)</script>`}
}

// apiLake holds three committed nights; the first was analysed and
// stored its frontiers, the others are read from their points.
func apiLake(t *testing.T) *results.Lake {
	t.Helper()
	ctx := context.Background()
	lake := resultstest.Lake(t)
	for i := range 3 {
		require.NoError(t, apiNight(i).Sweep().Write(ctx, lake))
	}
	rep, err := analysis.Build(ctx, lake, "n0", analysis.Options{})
	require.NoError(t, err)
	frontiers, err := results.Encode(analysis.FrontierRows("n0", rep.Groups), nil)
	require.NoError(t, err)
	require.NoError(t, lake.PutOnce(ctx, results.AnalysisKey(apiNight(0).Date, "n0", results.TableFrontiers), frontiers, "application/vnd.apache.parquet"))
	return lake
}

func get(t *testing.T, h http.Handler, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestAPIAnswersFromTheLake(t *testing.T) {
	h := New(apiLake(t), Config{})
	tests := []struct {
		path   string
		status int
		check  func(t *testing.T, body string)
	}{
		{"/healthz", 200, func(t *testing.T, body string) { require.Equal(t, "ok\n", body) }},
		{"/api/v1/sweeps", 200, func(t *testing.T, body string) {
			var refs []results.SweepRef
			require.NoError(t, json.Unmarshal([]byte(body), &refs))
			require.Equal(t, []string{"n0", "n1", "n2"}, sweepIDs(refs))
		}},
		{"/api/v1/sweeps?from=2026-11-25&to=2026-11-25", 200, func(t *testing.T, body string) {
			var refs []results.SweepRef
			require.NoError(t, json.Unmarshal([]byte(body), &refs))
			require.Equal(t, []string{"n1"}, sweepIDs(refs))
		}},
		{"/api/v1/sweeps/n2", 200, func(t *testing.T, body string) { require.Contains(t, body, `"sweep_id": "n2"`) }},
		{"/api/v1/sweeps/nope", 404, func(t *testing.T, body string) { require.Contains(t, body, `no committed sweep \"nope\"`) }},
		{"/api/v1/sweeps/n2/points?runner=mi355x&status=failed", 200, func(t *testing.T, body string) {
			var rows []results.PointRow
			require.NoError(t, json.Unmarshal([]byte(body), &rows))
			require.Len(t, rows, 1)
			require.Equal(t, "dsr1-2-5", rows[0].PointID)
			require.Contains(t, body, `\u003cscript\u003e`, "JSON escapes markup")
		}},
		{"/api/v1/sweeps/n2/points?format=csv&model=dsr1&runner=h100", 200, func(t *testing.T, body string) {
			lines := strings.Split(strings.TrimSpace(body), "\n")
			require.Len(t, lines, 1+14, "header and two series of seven points")
			require.Contains(t, lines[0], "tpot_ms.median")
		}},
		{"/api/v1/sweeps/n2/points?format=xml", 400, func(t *testing.T, body string) { require.Contains(t, body, "want json or csv") }},
		{"/api/v1/sweeps/n2/frontiers?plane=e2el", 200, func(t *testing.T, body string) {
			var rows []results.FrontierRow
			require.NoError(t, json.Unmarshal([]byte(body), &rows))
			require.NotEmpty(t, rows)
			for _, r := range rows {
				require.Equal(t, results.PlaneE2EL, r.Plane)
				require.NotNil(t, r.MedianE2ELms)
			}
		}},
		{"/api/v1/sweeps/n2/regressions?verdict=regression", 200, func(t *testing.T, body string) {
			var rows []results.RegressionRow
			require.NoError(t, json.Unmarshal([]byte(body), &rows))
			require.NotEmpty(t, rows)
			for _, r := range rows {
				require.Equal(t, "h100/vllm", r.Series, "only the series planted 15%% slower on the last night")
			}
		}},
		{"/api/v1/history?model=dsr1&precision=fp8&isl=1024&osl=1024&series=h100/vllm&target=20", 200, func(t *testing.T, body string) {
			var values []analysis.TrendValue
			require.NoError(t, json.Unmarshal([]byte(body), &values))
			require.Len(t, values, 3, "n0 from its stored frontiers, n1 and n2 from their points")
			require.InDelta(t, 0.85, values[2].TputPerGPU/values[0].TputPerGPU, 0.001)
			require.InDelta(t, 1, values[1].TputPerGPU/values[0].TputPerGPU, 1e-9)
		}},
		{"/api/v1/history?model=dsr1", 400, func(t *testing.T, body string) {
			require.Contains(t, body, "missing query parameters: precision, isl, osl, series, target")
		}},
		{"/sweeps/n2", 200, func(t *testing.T, body string) {
			require.Contains(t, body, "<h1>Sweep n2</h1>")
			require.NotContains(t, body, "<script")
		}},
		{"/sweeps", 200, func(t *testing.T, body string) { require.Contains(t, body, `href="/sweeps/n1"`) }},
		{"/dates/2026-11-25", 302, func(t *testing.T, body string) { require.Contains(t, body, "/sweeps/n1") }},
		{"/", 302, func(t *testing.T, body string) { require.Contains(t, body, "/sweeps/n2") }},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, tc.path, "")
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			tc.check(t, rec.Body.String())
		})
	}
}

func sweepIDs(refs []results.SweepRef) []string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.SweepID
	}
	return ids
}

func TestAPIBearerToken(t *testing.T) {
	h := New(apiLake(t), Config{Token: "s3cret-token"})
	tests := []struct {
		path, token string
		status      int
	}{
		{"/api/v1/sweeps", "", 401},
		{"/api/v1/sweeps", "wrong", 401},
		{"/sweeps/n1", "", 401},
		{"/api/v1/sweeps", "s3cret-token", 200},
		{"/healthz", "", 200},
	}
	for _, tc := range tests {
		rec := get(t, h, tc.path, tc.token)
		require.Equal(t, tc.status, rec.Code, "%s with token %q", tc.path, tc.token)
		require.Equal(t, "default-src 'none'; style-src 'unsafe-inline'; img-src data:", rec.Header().Get("Content-Security-Policy"))
	}
}

// TestOpenAPIDocumentsEveryRoute keeps the OpenAPI document and the mux
// in step: every route registered in server.go is described, and nothing else.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	h := New(apiLake(t), Config{})
	rec := get(t, h, "/api/v1/openapi.json", "")
	require.Equal(t, 200, rec.Code)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.Equal(t, "3.0.3", doc.OpenAPI)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	source, err := os.ReadFile("server.go")
	require.NoError(t, err)
	var served []string
	for _, m := range regexp.MustCompile(`mux\.HandleFunc\("(GET) ([^"]+)"`).FindAllStringSubmatch(string(source), -1) {
		served = append(served, m[1]+" "+strings.TrimSuffix(m[2], "{$}"))
	}
	sort.Strings(documented)
	sort.Strings(served)
	require.Equal(t, served, documented)
}

// TestPointsAnswerAsEncodedNow keeps the points answer, built from rows
// encoded once, byte for byte what encoding the kept rows now would give.
func TestPointsAnswerAsEncodedNow(t *testing.T) {
	h := New(apiLake(t), Config{})
	rows := apiNight(2).Sweep().Rows
	tests := []struct {
		query string
		want  []results.PointRow
	}{
		{"runner=mi355x&status=failed", []results.PointRow{rows[40]}},
		{"model=dsr1&framework=sglang", rows[28:35]},
		{"runner=tpu", []results.PointRow{}},
	}
	for _, tc := range tests {
		rec := get(t, h, "/api/v1/sweeps/n2/points?"+tc.query, "")
		require.Equal(t, 200, rec.Code)
		want := httptest.NewRecorder()
		writeJSON(want, http.StatusOK, tc.want)
		require.Equal(t, want.Body.String(), rec.Body.String(), tc.query)
	}
}
