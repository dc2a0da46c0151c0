package schedules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// TestBackfillRange: a last day counts whole, so "--from D --to D" runs
// night D; times are taken as given.
func TestBackfillRange(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	tests := []struct {
		name, from, to     string
		wantStart, wantEnd time.Time
		wantErr            string
	}{
		{"days", "2026-11-20", "2026-11-22", day("2026-11-20T00:00:00Z"), day("2026-11-22T23:59:59Z"), ""},
		{"one day", "2026-11-20", "2026-11-20", day("2026-11-20T00:00:00Z"), day("2026-11-20T23:59:59Z"), ""},
		{"times", "2026-11-20T01:00:00Z", "2026-11-20T03:00:00Z", day("2026-11-20T01:00:00Z"), day("2026-11-20T03:00:00Z"), ""},
		{"bad from", "20/11/2026", "2026-11-22", time.Time{}, time.Time{}, `from "20/11/2026": want YYYY-MM-DD or an RFC 3339 time`},
		{"bad to", "2026-11-20", "tomorrow", time.Time{}, time.Time{}, `to "tomorrow": want YYYY-MM-DD or an RFC 3339 time`},
		{"backwards", "2026-11-22", "2026-11-20", time.Time{}, time.Time{}, "to 2026-11-20 is not after from 2026-11-22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, err := BackfillRange(tt.from, tt.to)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantStart, start)
			require.Equal(t, tt.wantEnd, end)
		})
	}
}

// TestDescribedRow: what describe shows of a schedule's state, times,
// policy and recent sweeps.
func TestDescribedRow(t *testing.T) {
	next := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		desc client.ScheduleDescription
		want Row
	}{
		{"running nightly", client.ScheduleDescription{
			Schedule: client.Schedule{
				Spec:   &client.ScheduleSpec{CronExpressions: []string{"0 1 * * *"}, Calendars: []client.ScheduleCalendarSpec{{Hour: []client.ScheduleRange{{Start: 2}}}}, TimeZoneName: "Europe/Berlin"},
				Policy: &client.SchedulePolicies{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE},
				State:  &client.ScheduleState{Note: "armed"},
			},
			Info: client.ScheduleInfo{NumActions: 3, NextActionTimes: []time.Time{next},
				RecentActions: []client.ScheduleActionResult{{ScheduleTime: next.Add(-24 * time.Hour), StartWorkflowResult: &client.ScheduleWorkflowExecution{WorkflowID: "sweep-nightly-1"}}}},
		}, Row{ID: "nightly", Note: "armed", Next: []time.Time{next}, Recent: []time.Time{next.Add(-24 * time.Hour)}, Workflows: []string{"sweep-nightly-1"},
			Spec: []string{"0 1 * * *", "calendar hour=[{2 0 0}] minute=[] day-of-week=[]"}, Overlap: "buffer-one", TimeZone: "Europe/Berlin", ActionsRun: 3}},
		{"paused, never ran", client.ScheduleDescription{Schedule: client.Schedule{State: &client.ScheduleState{Paused: true}}},
			Row{ID: "nightly", Paused: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, describedRow("nightly", &tt.desc))
		})
	}
}
