package loadgen

import (
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type event struct {
	atMs    float64
	payload string
}

func replay(events []event, requestedOut int, end error) Record {
	t0 := time.Unix(1_700_000_000, 0)
	rec := Record{RequestedOut: requestedOut}
	s := streamState{rec: &rec, send: t0}
	for _, e := range events {
		if err := s.onPayload(t0.Add(time.Duration(e.atMs*float64(time.Millisecond))), []byte(e.payload)); err != nil {
			s.finish(err)
			return rec
		}
		if s.sawDone {
			s.finish(nil)
			return rec
		}
	}
	s.finish(end)
	return rec
}

func text(s string) string {
	return fmt.Sprintf(`{"choices":[{"index":0,"text":%q}]}`, s)
}

func TestStreamMetricsFromKnownTimestamps(t *testing.T) {
	usage4 := `{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":4}}`
	tests := []struct {
		name       string
		events     []event
		requested  int
		end        error
		wantErr    string
		wantKind   FailureKind
		wantTTFT   time.Duration
		wantE2EL   time.Duration
		wantITLs   []uint32
		wantOut    int
		wantIn     int
		wantTPOT   time.Duration
		wantNoTPOT bool
	}{
		{
			name:      "four tokens with usage",
			events:    []event{{50, text("a")}, {60, text("b")}, {75, text("c")}, {80, text("")}, {80.5, usage4}, {81, "[DONE]"}},
			requested: 4,
			wantTTFT:  50 * time.Millisecond, wantE2EL: 80 * time.Millisecond,
			wantITLs: []uint32{10_000, 15_000, 5_000},
			wantOut:  4, wantIn: 100,
			// (80 − 50) / (4 − 1) = 10 ms
			wantTPOT: 10 * time.Millisecond,
		},
		{
			name:      "no usage chunk: tokens counted from chunks",
			events:    []event{{20, text("a")}, {30, text("b")}, {40, "[DONE]"}},
			requested: 2,
			wantTTFT:  20 * time.Millisecond, wantE2EL: 30 * time.Millisecond,
			wantITLs: []uint32{10_000}, wantOut: 2, wantTPOT: 10 * time.Millisecond,
		},
		{
			name:      "role-only first chunk without choices is not the first token",
			events:    []event{{5, `{"choices":[],"usage":null}`}, {25, text("x")}, {26, "[DONE]"}},
			requested: 1,
			wantTTFT:  25 * time.Millisecond, wantE2EL: 25 * time.Millisecond, wantOut: 1, wantNoTPOT: true,
		},
		{
			name:      "missing [DONE] with full output is accepted",
			events:    []event{{10, text("a")}, {20, text("b")}},
			requested: 2, end: io.EOF,
			wantTTFT: 10 * time.Millisecond, wantE2EL: 20 * time.Millisecond, wantITLs: []uint32{10_000}, wantOut: 2, wantTPOT: 10 * time.Millisecond,
		},
		{
			name:      "short stream without [DONE] is a failure",
			events:    []event{{10, text("a")}},
			requested: 8, end: io.EOF,
			wantErr: "stream closed before [DONE] after 1 of 8 output tokens", wantKind: FailEngineGone,
		},
		{
			name:      "error mid-stream",
			events:    []event{{10, text("a")}, {12, `{"error":{"message":"engine died"}}`}},
			requested: 8,
			wantErr:   `server error mid-stream: {"message":"engine died"}`, wantKind: FailServerError,
		},
		{
			name:      "malformed chunk",
			events:    []event{{10, `{"choices":[`}},
			requested: 8,
			wantErr:   "malformed JSON chunk", wantKind: FailProtocol,
		},
		{
			name:      "connection reset",
			events:    []event{{10, text("a")}},
			requested: 8, end: fmt.Errorf("read tcp: %w", syscall.ECONNRESET),
			wantErr: "connection reset by peer", wantKind: FailEngineGone,
		},
		{
			name:      "no content at all",
			events:    []event{{10, "[DONE]"}},
			requested: 8,
			wantErr:   "stream ended without any content chunk", wantKind: FailProtocol,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := replay(tt.events, tt.requested, tt.end)
			if tt.wantErr != "" {
				require.False(t, rec.OK())
				require.Contains(t, rec.Err, tt.wantErr)
				require.Equal(t, tt.wantKind, rec.Failure)
				return
			}
			require.True(t, rec.OK(), rec.Err)
			require.Equal(t, tt.wantTTFT, rec.TTFT)
			require.Equal(t, tt.wantE2EL, rec.E2EL)
			if len(tt.wantITLs) == 0 {
				require.Empty(t, rec.ITLs)
			} else {
				require.Equal(t, tt.wantITLs, rec.ITLs)
			}
			require.Equal(t, tt.wantOut, rec.OutputTokens)
			if tt.wantIn != 0 {
				require.Equal(t, tt.wantIn, rec.InputTokens)
			}
			tpot, ok := rec.TPOT()
			require.Equal(t, !tt.wantNoTPOT, ok)
			require.Equal(t, tt.wantTPOT, tpot)
		})
	}
}

func TestSummaryPoolsITLsAndScalesSimulatedTime(t *testing.T) {
	records := []Record{
		replay([]event{{100, text("a")}, {110, text("b")}, {130, text("c")}, {131, "[DONE]"}}, 3, nil),
		replay([]event{{200, text("a")}, {240, text("b")}, {241, "[DONE]"}}, 2, nil),
		replay([]event{{5, `{"object":"error","message":"boom"}`}}, 2, nil),
	}
	cfg := Config{Workload: Workload{Model: "m", API: APICompletions}, TimeScale: 10, RequestRate: 1e9}
	s := summarizeRun(cfg, records, time.Unix(1_700_000_000, 0), 2*time.Second, clientStats{})

	require.Equal(t, 2, s.Completed)
	require.Equal(t, 1, s.Failed)
	require.Equal(t, map[string]int{"server error mid-stream: \"boom\"": 1}, s.Errors)
	require.EqualValues(t, 5, s.TotalOutputTokens)
	require.Equal(t, TimeBasisSimulated, s.TimeBasis)
	// 2 s of wall clock at time scale 10 are 20 simulated seconds.
	require.InDelta(t, 20.0, float64(s.Duration), 1e-9)
	require.InDelta(t, 5.0/20, float64(s.OutputThroughput), 1e-9)
	// TTFTs 100 and 200 ms wall → 1000 and 2000 ms simulated.
	require.InDelta(t, 1500.0, float64(s.MeanTTFTms), 1e-6)
	// Pooled ITLs 10, 20, 40 ms wall → 100, 200, 400 simulated; median 200.
	require.InDelta(t, 200.0, float64(s.MedianITLms), 1e-6)
	// TPOTs: (130−100)/2 = 15 ms and (240−200)/1 = 40 ms → ×10.
	require.InDelta(t, 275.0, float64(s.MeanTPOTms), 1e-6)
	// Records carry the same basis as the summary.
	require.Equal(t, time.Second, records[0].TTFT)
}

// An engine run with --stream-interval 10 sends ten tokens a chunk: the
// summary says so, since its ITLs then span ten tokens each.
func TestTokensPerChunkOfAStreamInterval(t *testing.T) {
	records := []Record{
		replay([]event{{100, text("a")}, {110, text("b")}, {130, text("c")}, {131, "[DONE]"}}, 30, nil),
		replay([]event{{200, text("a")}, {240, text("b")}, {241, "[DONE]"}}, 20, nil),
	}
	// Usage said 30 and 20 tokens for 3 and 2 chunks.
	records[0].OutputTokens, records[1].OutputTokens = 30, 20
	cfg := Config{Workload: Workload{Model: "m", API: APICompletions}, TimeScale: 1, RequestRate: 1e9}
	s := summarizeRun(cfg, records, time.Unix(1_700_000_000, 0), time.Second, clientStats{})
	require.InDelta(t, 10.0, float64(s.TokensPerChunk), 1e-9)
	require.Contains(t, s.ITLBasis, "per chunk")

	plain := summarizeRun(cfg, []Record{replay([]event{{100, text("a")}, {110, text("b")}, {111, "[DONE]"}}, 2, nil)}, time.Unix(1_700_000_000, 0), time.Second, clientStats{})
	require.InDelta(t, 1.0, float64(plain.TokensPerChunk), 1e-9)
}
