package devfleet

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/sweep"
)

// TestWrongFilesStartNothing: a spec that does not plan or a schedules
// file with a mistake is the user's to fix (an InputError, exit 2 in the
// CLI), found before any server starts: had it started, Start would
// return a running fleet and no error.
func TestWrongFilesStartNothing(t *testing.T) {
	dir := t.TempDir()
	badSchedules := filepath.Join(dir, "schedules.yaml")
	require.NoError(t, os.WriteFile(badSchedules, []byte("schedules:\n  - id: nightly\n    cron: [\"not a cron\"]\n    bogus: 1\n"), 0o644))
	badSpec := filepath.Join(dir, "sweep.yaml")
	require.NoError(t, os.WriteFile(badSpec, []byte("entry: {image: 1}\n"), 0o644))
	stack := devstack.Options{Ephemeral: true}
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"demo spec that does not plan", Options{Stack: stack, Demo: true, Specs: []string{badSpec}}, "sweep.yaml"},
		{"demo spec missing", Options{Stack: stack, Demo: true, Specs: []string{filepath.Join(dir, "nope.yaml")}}, "nope.yaml"},
		{"simulated night with nothing selected", Options{Stack: stack, Demo: true, Simulate: true, Specs: []string{upstreamAMD},
			Runners: upstreamRunners, Filters: sweep.Filters{ConfigKeys: []string{"no-such-entry"}}}, "select no points"},
		{"dev schedules with a mistake", Options{Stack: stack, Schedules: badSchedules}, "schedules.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start(context.Background(), tt.o)
			var input InputError
			require.ErrorAs(t, err, &input)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
