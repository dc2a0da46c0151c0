package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFirstError: the one line a failed run ends with names the most
// common failure.
func TestFirstError(t *testing.T) {
	tests := []struct {
		name string
		s    Summary
		want string
	}{
		{"no failures", Summary{}, "unknown"},
		{"most common wins", Summary{Errors: map[string]int{"HTTP 500": 3, "stall": 1},
			ErrorExamples: map[string]string{"HTTP 500": "HTTP 500: engine overloaded", "stall": "no chunk for 60s"}}, "HTTP 500: engine overloaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, tt.s.FirstError()) })
	}
}

// TestFindModel: a named model is used as given (after the server is
// ready when asked to wait); an unnamed one is the first the server lists.
func TestFindModel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			_, _ = w.Write([]byte(`{"data":[{"id":"llama-3.3-70b"},{"id":"other"}]}`))
		}
	}))
	defer srv.Close()
	tests := []struct {
		name, baseURL, model string
		wait                 time.Duration
		want                 string
	}{
		{"named, no wait: the server is not asked", "http://127.0.0.1:1", "m", 0, "m"},
		{"named, waits for health", srv.URL, "m", time.Second, "m"},
		{"unnamed: the first served", srv.URL, "", 0, "llama-3.3-70b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindModel(t.Context(), tt.baseURL, tt.model, tt.wait)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := FindModel(ctx, "http://127.0.0.1:1", "", 0)
	require.ErrorContains(t, err, "find the served model (or pass --model)")
}
