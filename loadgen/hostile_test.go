package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHostileServers: what a misbehaving engine does to a load must end
// in counted failures with a reason, within the configured bounds, never a
// hang or an unbounded buffer.
func TestHostileServers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		cfg     func(*Config)
		example string
	}{
		{"accepts and never answers", func(w http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server notice the client leave.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}, func(c *Config) { c.RequestTimeout = 300 * time.Millisecond }, "request timeout 300ms exceeded"},
		{"streams forever", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			for r.Context().Err() == nil {
				fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" tok\",\"finish_reason\":null}]}\n\n")
				w.(http.Flusher).Flush()
				time.Sleep(time.Millisecond)
			}
		}, func(c *Config) { c.RequestTimeout = 300 * time.Millisecond }, "request timeout 300ms exceeded"},
		{"one endless line", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			chunk := strings.Repeat("x", 64<<10)
			for r.Context().Err() == nil {
				if _, err := fmt.Fprint(w, chunk); err != nil {
					return
				}
			}
		}, func(c *Config) { c.RequestTimeout = 2 * time.Second }, ""},
		{"answers HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			cfg := testConfig(srv.URL)
			cfg.NumPrompts, cfg.MaxConcurrency = 2, 2
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			started := time.Now()
			res, err := Run(context.Background(), cfg)
			require.ErrorIs(t, err, ErrAllFailed)
			require.Less(t, time.Since(started), 10*time.Second, "bounded by the request timeout")
			require.Equal(t, 2, res.Summary.Failed)
			reasons := res.Summary.ErrorReasons()
			require.NotEmpty(t, reasons)
			if tc.example != "" {
				require.Contains(t, res.Summary.ErrorExamples[reasons[0]], tc.example)
			}
		})
	}
}

// TestMalformedMetricsPages: a scrape of a broken /metrics keeps what
// parses and ignores the rest.
func TestMalformedMetricsPages(t *testing.T) {
	pages := []struct {
		name, body string
		gauge      float64
	}{
		{"garbage", "\x00\x01not prometheus at all {{{", 0},
		{"unterminated labels", "vllm:num_requests_running{model_name=\"m\" 3\n", 0},
		{"value not a number", "vllm:num_requests_running{model_name=\"m\"} NaNish\n", 0},
		{"a line over a megabyte, then a good one", strings.Repeat("#", 2<<20) + "\nvllm:num_requests_running 5\n", 5},
		{"bad lines between good ones", "vllm:num_requests_running 1\n{{\nvllm:num_requests_running{a=\"b\"} 2\nx y z\nvllm:num_requests_running{a=\"c\"} 3\n", 6},
		{"past the page limit", "vllm:num_requests_running 1\n" + strings.Repeat("#", maxMetricsPage) + "\nvllm:num_requests_running{a=\"b\"} 2\n", 1},
		{"good among bad", "junk\nvllm:num_requests_running{a=\"b\"} 2\nvllm:num_requests_running{a=\"c\"} 3 1700000000\n", 5},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			gauges, _ := parsePrometheus(strings.NewReader(p.body))
			require.InDelta(t, p.gauge, gauges["vllm:num_requests_running"], 0)
		})
	}
}
