package results

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/loadgen"
)

// TestCommitPointMeetsWhatAnEarlierAttemptLeft: a retried point finds
// the lake as its earlier attempt left it, and what the lake keeps is one
// measurement of the point, whole.
func TestCommitPointMeetsWhatAnEarlierAttemptLeft(t *testing.T) {
	const date, hw, sweepID, pointID = "2026-11-27", "h100", "s1", "p1"
	key := func(table string) string { return TableKey(table, date, hw, sweepID, pointID) }
	tput := func(v float64) *float64 { return &v }
	measured := func(attempts int32, status string, tputPerGPU float64, metrics *loadgen.ScrapedMetrics) MeasuredPoint {
		return MeasuredPoint{Date: date, Metrics: metrics,
			Row:     PointRow{SweepID: sweepID, PointID: pointID, Runner: hw, Status: status, Attempts: attempts, TputPerGPU: tput(tputPerGPU)},
			Records: []loadgen.Record{{Index: 1, RequestedOut: 8, OutputTokens: 8}, {Index: 0, RequestedOut: 8, Err: "HTTP 500: x"}}}
	}
	scraped := &loadgen.ScrapedMetrics{Samples: []loadgen.Sample{{T: 1500 * time.Millisecond, Name: "vllm:num_requests_running", Value: 3}}}
	committed := measured(1, "failed", 999, nil)
	committed.Records = []loadgen.Record{{Index: 0, RequestedOut: 8, OutputTokens: 8, TTFT: time.Second}, {Index: 1, RequestedOut: 8, OutputTokens: 8, TTFT: time.Second}}

	tests := []struct {
		name        string
		earlier     func(t *testing.T, l *Lake) // what an earlier attempt left
		this        MeasuredPoint
		wantAdopted bool
		wantStatus  string
		wantTables  []string
		wantTput    float64 // of the points row the lake keeps
		wantErr     string
	}{
		{name: "nothing there: every table written", this: measured(2, "succeeded", 10, scraped),
			wantStatus: "succeeded", wantTables: []string{TablePoints, TableRequests, TableServerMetrics}, wantTput: 10},
		{name: "no engine metrics: no metrics file", this: measured(2, "succeeded", 10, &loadgen.ScrapedMetrics{}),
			wantStatus: "succeeded", wantTables: []string{TablePoints, TableRequests}, wantTput: 10},
		{name: "requests of an attempt that died before its commit: replaced", this: measured(2, "succeeded", 10, scraped),
			earlier: func(t *testing.T, l *Lake) {
				require.NoError(t, l.PutOnce(context.Background(), key(TableRequests), []byte("half an attempt"), parquetType))
			},
			wantStatus: "succeeded", wantTables: []string{TablePoints, TableRequests, TableServerMetrics}, wantTput: 10},
		{name: "a committed attempt whose report was lost: adopted", this: measured(2, "succeeded", 10, scraped),
			earlier: func(t *testing.T, l *Lake) {
				_, adopted, err := l.CommitPoint(context.Background(), committed)
				require.NoError(t, err)
				require.False(t, adopted)
			},
			wantAdopted: true, wantStatus: "failed", wantTables: []string{TablePoints, TableRequests}, wantTput: 999},
		{name: "the same attempt again after a lost reply: its own files", this: measured(2, "succeeded", 10, scraped),
			earlier: func(t *testing.T, l *Lake) {
				_, _, err := l.CommitPoint(context.Background(), measured(2, "succeeded", 10, scraped))
				require.NoError(t, err)
			},
			wantStatus: "succeeded", wantTables: []string{TablePoints, TableRequests, TableServerMetrics}, wantTput: 10},
		{name: "an unreadable points row in the way", this: measured(2, "succeeded", 10, nil),
			earlier: func(t *testing.T, l *Lake) {
				for _, table := range []string{TableRequests, TablePoints} {
					require.NoError(t, l.PutOnce(context.Background(), key(table), []byte("not parquet"), parquetType))
				}
			},
			wantErr: "an earlier attempt's files are in the way of " + key(TableRequests) + " and its points row is unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			lake := NewLake(embeddedStore(t))
			if tt.earlier != nil {
				tt.earlier(t, lake)
			}
			mp, adopted, err := lake.CommitPoint(ctx, tt.this)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantAdopted, adopted)
			wantKeys := map[string]string{}
			for _, table := range tt.wantTables {
				wantKeys[table] = key(table)
			}
			require.Equal(t, ManifestPoint{PointID: pointID, Hardware: hw, Status: tt.wantStatus, Keys: wantKeys}, mp)

			rows, err := lake.Points(ctx, Manifest{Points: []ManifestPoint{mp}})
			require.NoError(t, err)
			require.Len(t, rows, 1)
			require.Equal(t, tt.wantTput, *rows[0].TputPerGPU)
			requests, err := lake.Requests(ctx, mp.Keys[TableRequests])
			require.NoError(t, err)
			require.Len(t, requests, 2)
			require.Equal(t, []int32{0, 1}, []int32{requests[0].Index, requests[1].Index}, "in index order")
			wantError := "HTTP 500: x"
			if tt.wantAdopted {
				wantError = "" // the committed attempt's requests, not this one's
			}
			require.Equal(t, wantError, requests[0].Error)
		})
	}
}

// TestLakeWritesWaitOutAnOutageButNotAConflict: an outage is retried, a
// conflict or a cancelled caller ends the wait at once.
func TestLakeWritesWaitOutAnOutageButNotAConflict(t *testing.T) {
	outage := errors.New("s3 put: 503 SlowDown")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		failures  int   // calls that fail before one succeeds
		failWith  error // what they fail with
		wantCalls int
		wantErr   error
	}{
		{"succeeds at once", context.Background(), 0, nil, 1, nil},
		{"an outage is waited out", context.Background(), 2, outage, 3, nil},
		{"a conflict is final", context.Background(), 5, fmt.Errorf("key holds other bytes: %w", ErrWriteOnce), 1, ErrWriteOnce},
		{"a cancelled caller stops waiting", cancelled, 5, outage, 1, outage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retryWrite(tt.ctx, func() error {
				calls++
				if calls <= tt.failures {
					return tt.failWith
				}
				return nil
			})
			require.Equal(t, tt.wantCalls, calls)
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

// TestCommitUnmeasured: a failure row is written once; a measurement an
// earlier attempt committed stands over it.
func TestCommitUnmeasured(t *testing.T) {
	const date = "2026-11-27"
	failed := PointRow{SweepID: "s1", PointID: "p1", Runner: "h100", Status: "failed", ErrorClass: "NodeFault", Error: "Xid 79"}
	tests := []struct {
		name        string
		earlier     *MeasuredPoint
		wantAdopted bool
		wantStatus  string
		wantTables  int
	}{
		{"nothing there: the failure row", nil, false, "failed", 1},
		{"measured after all: the measurement stands", &MeasuredPoint{Date: date, Row: PointRow{SweepID: "s1", PointID: "p1", Runner: "h100", Status: "succeeded"},
			Records: []loadgen.Record{{Index: 0, RequestedOut: 8, OutputTokens: 8}}}, true, "succeeded", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			lake := NewLake(embeddedStore(t))
			if tc.earlier != nil {
				_, _, err := lake.CommitPoint(ctx, *tc.earlier)
				require.NoError(t, err)
			}
			mp, adopted, err := lake.CommitUnmeasured(ctx, date, failed)
			require.NoError(t, err)
			require.Equal(t, tc.wantAdopted, adopted)
			require.Equal(t, tc.wantStatus, mp.Status)
			require.Len(t, mp.Keys, tc.wantTables)
			kept, err := lake.Committed(ctx, date, "h100", "s1", "p1")
			require.NoError(t, err)
			require.Equal(t, tc.wantStatus, kept.Status, "what the lake keeps")
		})
	}
}
