package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFailuresCarryTheirKind: each way an engine fails a request is
// counted under its kind, with the HTTP status where it answered one.
func TestFailuresCarryTheirKind(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	unreachable := "http://" + closed.Addr().String()
	require.NoError(t, closed.Close())

	tests := []struct {
		name        string
		handler     http.Handler // nil: nothing listens
		cfg         func(*Config)
		want        FailureCount // Example is matched as a substring
		gone, stall bool         // engine gone, stalled
	}{
		{"prompt too long", &fakeEngine{status: http.StatusBadRequest}, nil,
			FailureCount{Kind: FailClientError, HTTPStatus: 400, Count: 4, Example: "HTTP 400: {\"object\":\"error\""}, false, false},
		{"broken engine", &fakeEngine{status: http.StatusInternalServerError}, nil,
			FailureCount{Kind: FailServerError, HTTPStatus: 500, Count: 4, Example: "HTTP 500: "}, false, false},
		{"error object mid-stream", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" t\"}]}\n\ndata: {\"object\":\"error\",\"message\":\"CUDA OOM\"}\n\n")
		}), nil, FailureCount{Kind: FailServerError, Count: 4, Example: `server error mid-stream: "CUDA OOM"`}, false, false},
		{"a redirect is no answer", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotModified)
		}), nil, FailureCount{Kind: FailProtocol, HTTPStatus: 304, Count: 4, Example: "HTTP 304"}, false, false},
		{"answers HTML", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "<html>502 Bad Gateway</html>")
		}), nil, FailureCount{Kind: FailProtocol, Count: 4, Example: "stream ended without any content chunk"}, false, false},
		{"nothing listens", nil, nil, FailureCount{Kind: FailEngineGone, Count: 4, Example: "connection refused"}, true, false},
		{"closes the connection unanswered", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}), nil, FailureCount{Kind: FailEngineGone, Count: 4, Example: "EOF"}, true, false},
		{"dies mid-answer", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" t\"}]}\n\n")
		}), nil, FailureCount{Kind: FailEngineGone, Count: 4, Example: "stream closed before [DONE] after 1 of 8 output tokens"}, true, false},
		{"stalls", &fakeEngine{stallAfter: 2}, func(c *Config) { c.StallTimeout = 100 * time.Millisecond },
			FailureCount{Kind: FailStalled, Count: 4, Example: "stalled: no data for 100ms"}, false, true},
		{"never answers", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server notice the client leave.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}),
			func(c *Config) { c.RequestTimeout = 200 * time.Millisecond },
			FailureCount{Kind: FailTimeout, Count: 4, Example: "request timeout 200ms exceeded"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := unreachable
			if tt.handler != nil {
				srv := httptest.NewServer(tt.handler)
				defer srv.Close()
				url = srv.URL
			}
			cfg := testConfig(url)
			cfg.NumPrompts, cfg.MaxConcurrency = 4, 2
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			res, err := Run(context.Background(), cfg)
			require.ErrorIs(t, err, ErrAllFailed)
			require.Len(t, res.Summary.FailureKinds, 1, "%+v", res.Summary.FailureKinds)
			got := res.Summary.FailureKinds[0]
			require.Contains(t, got.Example, tt.want.Example)
			got.Example = tt.want.Example
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want.Kind, res.Records[0].Failure)
			require.Equal(t, tt.want.HTTPStatus, res.Records[0].HTTPStatus)
			wantGone := 0
			if tt.gone || tt.stall {
				wantGone = 4
			}
			require.Equal(t, wantGone, res.Summary.CountOf(FailEngineGone, FailStalled))
		})
	}
}

// TestFailureKindsAreCountedMostFrequentFirst: the order is by count,
// then kind and status, so two runs of one outcome read the same.
func TestFailureKindsAreCountedMostFrequentFirst(t *testing.T) {
	records := []Record{
		{Err: "HTTP 503: busy", Failure: FailServerError, HTTPStatus: 503},
		{},
		{Err: "HTTP 500: a", Failure: FailServerError, HTTPStatus: 500},
		{Err: "stalled: no data for 1m0s", Failure: FailStalled},
		{Err: "HTTP 500: b", Failure: FailServerError, HTTPStatus: 500},
		{Err: "server error mid-stream: x", Failure: FailServerError},
	}
	s := Summary{FailureKinds: countFailures(records)}
	require.Equal(t, []FailureCount{
		{Kind: FailServerError, HTTPStatus: 500, Count: 2, Example: "HTTP 500: a"},
		{Kind: FailServerError, Count: 1, Example: "server error mid-stream: x"},
		{Kind: FailServerError, HTTPStatus: 503, Count: 1, Example: "HTTP 503: busy"},
		{Kind: FailStalled, Count: 1, Example: "stalled: no data for 1m0s"},
	}, s.FailureKinds)
	require.Equal(t, 4, s.CountOf(FailServerError))
	require.Equal(t, 5, s.CountOf(FailServerError, FailStalled))
	require.Zero(t, s.CountOf(FailClientError))
	require.Equal(t, []FailureCount{}, countFailures([]Record{{}}), "none failed: an empty list, not null")
}
