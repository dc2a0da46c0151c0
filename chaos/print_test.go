package chaos

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPrintAlignsColumnsAndRanksReasons(t *testing.T) {
	run := Run{Planned: 60, Landed: 60, ByStatus: map[string]int{"succeeded": 55, "failed": 5}, ByErrorClass: map[string]int{"engine": 5},
		Reasons: map[string]int{"engine: b": 2, "engine: a": 2, "engine: c": 1}, Faults: map[string]int{"worker-sigkill": 3},
		Quarantined: map[string][]string{"sim-mi355x": {"c-mi355x-1"}, "sim-h100": {"c-h100-0"}}, Wall: 90 * time.Second}
	rep := &Report{Options: Options{Seed: 7}, Chaos: run, Baseline: &Run{Planned: 60, Landed: 60, Wall: 60 * time.Second}, WallRatio: 1.5}
	var out bytes.Buffer
	require.NoError(t, Print(&out, rep))
	lines := strings.Split(out.String(), "\n")
	require.Contains(t, lines[0], "with faults")
	col := strings.Index(lines[0], "with faults")
	for _, l := range lines[1:3] { // points planned, landed once: 60 in both columns
		require.Equal(t, col, strings.Index(l, "60"), "aligned: %q", l)
	}
	text := out.String()
	require.Less(t, strings.Index(text, "engine: a"), strings.Index(text, "engine: b"), "equal counts in name order")
	require.Less(t, strings.Index(text, "engine: b"), strings.Index(text, "engine: c"), "more frequent first")
	require.Contains(t, text, "sim-h100: c-h100-0; sim-mi355x: c-mi355x-1")
	require.Contains(t, text, "1.50× (want ≤ 2×)")
	require.Contains(t, text, "every promise held")
}
