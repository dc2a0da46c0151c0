package loadgen

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestResultFileLeavesUnmeasuredOutAndCarriesUpstreamKeys(t *testing.T) {
	records := []Record{
		replay([]event{{100, text("a")}, {110, text("b")}, {130, text("c")}, {131, "[DONE]"}}, 3, nil),
		replay([]event{{5, `{"object":"error","message":"boom"}`}}, 2, nil),
		replay([]event{{200, text("a")}, {201, "[DONE]"}}, 1, nil),
	}
	records[0].InputTokens, records[1].InputTokens, records[2].InputTokens = 64, 70, 58
	start := time.Unix(1_700_000_000, 250_000_000)
	cfg := Config{Workload: Workload{Model: "org/m", API: APICompletions}, TimeScale: 1, RequestRate: math.Inf(1), MaxConcurrency: 2,
		Metadata: map[string]string{"version": "0.3.3", "tp": "1"}}
	s := summarizeRun(cfg, records, start, 2*time.Second, clientStats{})

	b, err := json.Marshal(s)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))

	// A closed loop schedules nothing: its schedule delay is left out, not null.
	require.NotContains(t, got, "mean_schedule_delay_ms")
	require.NotContains(t, got, "p99_schedule_delay_ms")
	require.Equal(t, []any{"mean_schedule_delay_ms", "p99_schedule_delay_ms"}, got["unmeasured"])
	for key, value := range got {
		if len(key) > 2 && key[len(key)-2:] == "ms" {
			require.IsType(t, float64(0), value, key)
		}
	}
	require.InDelta(t, 30.0/2, got["mean_tpot_ms"], 1e-9, "one request with two tokens or more")

	require.Equal(t, 1_700_000_000.25, got["benchmark_start_time_unix"])
	require.Equal(t, 1_700_000_002.25, got["benchmark_end_time_unix"])
	require.Equal(t, "org/m", got["tokenizer_id"])
	require.EqualValues(t, 1, got["best_of"])
	require.Equal(t, []any{64.0, 70.0, 58.0}, got["input_lens"], "failed requests keep their prompt length")
	require.Equal(t, []any{3.0, 0.0, 1.0}, got["output_lens"], "a failed request generated 0 tokens")
	require.Contains(t, got, "request_goodput:")
	require.Nil(t, got["request_goodput:"], "no SLOs: null, as upstream")
	require.Equal(t, "0.3.3", got["version"])
	require.Equal(t, "1", got["tp"])
}

func TestGoodputUnderBothSpellings(t *testing.T) {
	records := []Record{replay([]event{{100, text("a")}, {110, text("b")}, {111, "[DONE]"}}, 2, nil)}
	cfg := Config{Workload: Workload{Model: "m", API: APICompletions}, TimeScale: 1, RequestRate: math.Inf(1), Goodput: SLO{TTFTms: 500}}
	s := summarizeRun(cfg, records, time.Unix(0, 0), 4*time.Second, clientStats{})
	require.Equal(t, Metric(0.25), s.RequestGoodput)
	require.Equal(t, s.RequestGoodput, s.RequestGoodputColon)
}

func TestMetadataChecks(t *testing.T) {
	tests := []struct {
		key, value string
		wantErr    string
	}{
		{"version", "0.3.3", ""},
		{"warmup_ms", "12.5", ""},
		{"tpot_target", "40", ""},
		{"", "x", "non-empty KEY"},
		{"model_id", "other", `metadata key "model_id": the result file already writes it`},
		{"request_goodput:", "1", "already writes it"},
		{"mean_ttft_ms", "1", "already writes it"},
		{"platforms", "h100", "reads every key ending in ms as a number"},
		{"tpot_target", "0", "divides 1000 by every key containing tpot"},
		{"tpot_target", "fast", "divides 1000 by every key containing tpot"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			err := checkMetadata(tt.key, tt.value)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestFailureRateRule(t *testing.T) {
	tests := []struct {
		name              string
		completed, failed int
		limit             float64
		wantRate          float64
		wantErr           string
	}{
		{"none failed", 20, 0, 0.05, 0, ""},
		{"4% passes", 24, 1, 0.05, 0.04, ""},
		{"exactly 1 in 20 fails, as upstream's float arithmetic", 19, 1, 0.05, 0.05, "request failure rate 5.0% exceeds the 5% threshold (19/20 completed)"},
		{"above 5% fails", 37, 3, 0.05, 0.075, "request failure rate 7.5% exceeds the 5% threshold (37/40 completed)"},
		{"every request failed", 0, 4, 0.05, 1, "request failure rate 100.0% exceeds the 5% threshold (0/4 completed)"},
		{"a zero limit allows none", 99, 1, 0, 0.01, "request failure rate 1.0% exceeds the 0% threshold (99/100 completed)"},
		{"nothing sent", 0, 0, 0.05, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summary{Completed: tt.completed, Failed: tt.failed}
			require.InDelta(t, tt.wantRate, s.FailureRate(), 1e-12)
			err := s.CheckFailureRate(tt.limit)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
}
