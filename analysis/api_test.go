package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/analysis/analysistest"
	"github.com/infersweep/infersweep/results"
)

// servedLake adds stored regressions to the in-memory lake.
type servedLake struct{ *memLake }

func (l servedLake) Regressions(_ context.Context, ref results.SweepRef) ([]results.RegressionRow, error) {
	return nil, results.ErrNotFound
}

func apiLake() servedLake {
	lake := newMemLake()
	base := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	for i := range 3 {
		lake.add(analysistest.Night{ID: fmt.Sprint("n", i), Date: base.AddDate(0, 0, i).Format(time.DateOnly), At: base.AddDate(0, 0, i),
			Factor: map[string]float64{"": 1, "h100/vllm": []float64{1, 1, 0.85}[i]}, Entry: `<script>alert(1)</script>`})
	}
	return servedLake{lake}
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
	h := NewServer(apiLake(), "", Options{}, slog.New(slog.DiscardHandler))
	tests := []struct {
		path   string
		status int
		check  func(t *testing.T, body string)
	}{
		{"/healthz", 200, func(t *testing.T, body string) { require.Equal(t, "ok\n", body) }},
		{"/api/v1/sweeps", 200, func(t *testing.T, body string) {
			var refs []results.SweepRef
			require.NoError(t, json.Unmarshal([]byte(body), &refs))
			require.Len(t, refs, 3)
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
			var values []TrendValue
			require.NoError(t, json.Unmarshal([]byte(body), &values))
			require.Len(t, values, 3)
			require.InDelta(t, 0.85, values[2].TputPerGPU/values[0].TputPerGPU, 0.001)
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

func TestAPIBearerToken(t *testing.T) {
	h := NewServer(apiLake(), "s3cret-token", Options{}, slog.New(slog.DiscardHandler))
	require.Equal(t, 401, get(t, h, "/api/v1/sweeps", "").Code)
	require.Equal(t, 401, get(t, h, "/api/v1/sweeps", "wrong").Code)
	require.Equal(t, 401, get(t, h, "/sweeps/n1", "").Code, "pages too")
	require.Equal(t, 200, get(t, h, "/api/v1/sweeps", "s3cret-token").Code)
	require.Equal(t, 200, get(t, h, "/healthz", "").Code, "liveness needs no token")
}

// TestOpenAPIDocumentsEveryRoute keeps the OpenAPI document and the mux
// in step: every route registered in api.go is described, and nothing else.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	h := NewServer(apiLake(), "", Options{}, slog.New(slog.DiscardHandler))
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
	source, err := io.ReadAll(mustOpen(t, "api.go"))
	require.NoError(t, err)
	var served []string
	for _, m := range regexp.MustCompile(`mux\.HandleFunc\("(GET) ([^"]+)"`).FindAllStringSubmatch(string(source), -1) {
		served = append(served, m[1]+" "+strings.TrimSuffix(m[2], "{$}"))
	}
	sort.Strings(documented)
	sort.Strings(served)
	require.Equal(t, served, documented)
}
