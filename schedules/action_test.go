package schedules

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/workflows"
)

// TestActionAsksForTheScheduleBaselineByField: changed-since-last names
// the schedule in its own field, not in ChangedSince (which stays a sweep
// id or spec digest for people passing --changed-since).
func TestActionAsksForTheScheduleBaselineByField(t *testing.T) {
	tests := []struct {
		name       string
		sinceLast  bool
		wantLastOf string
	}{
		{"changed-since-last", true, "nightly"},
		{"every point", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Schedule{ID: "nightly", ChangedSinceLast: tt.sinceLast}
			action, _, err := actionOf(s, definition{Runners: specRef{File: "runners.yaml", Digest: "abc"}})
			require.NoError(t, err)
			in := action.Args[0].(workflows.SweepInput)
			require.Equal(t, tt.wantLastOf, in.ChangedSinceLastOf)
			require.Empty(t, in.ChangedSince)
			require.Equal(t, "lake:v1/specs/abc.yaml", in.Runners)
		})
	}
}
