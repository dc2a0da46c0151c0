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
		Quarantined: map[string][]string{"sim-mi355x": {"c-mi355x-1"}, "sim-h100": {"c-h100-0"}}, Wall: 90 * time.Second,
		BrokenEntry: map[string]int{"failed EngineFailure": 1, "skipped ConfigError": 4}}
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
	require.Contains(t, text, "1.50× (want ≤ 1.5×)")
	require.Regexp(t, `broken entry chaos-001: failed EngineFailure\s+1\s+0`, text)
	require.Regexp(t, `broken entry chaos-001: skipped ConfigError\s+4\s+0`, text)
	require.Regexp(t, `pools with every node quarantined\s+0\s+0`, text)
	require.Contains(t, text, "every promise held")
}

func TestCheckAttribution(t *testing.T) {
	tests := []struct {
		name     string
		run      Run
		problems []string
	}{
		{"blamed on the engine, no pool down", Run{BrokenEntry: map[string]int{"failed EngineFailure": 1, "skipped ConfigError": 4}}, nil},
		{"charged to nodes", Run{BrokenEntry: map[string]int{"failed NodeFault": 5}},
			[]string{`5 points of the broken entry chaos-001 ended "failed NodeFault", not as the engine's failure`}},
		{"a pool down on its nodes' own faults: reported, not a problem", Run{BrokenEntry: map[string]int{"failed EngineFailure": 5}, PoolsDown: []string{"sim-mi355x"},
			NodeFaults: map[string]map[string][]string{"sim-mi355x": {"c-mi355x-0": {"p1 (chaos-002, conc 1): the engine died during the load: engine-gone"}}}}, nil},
		{"a node charged for the broken entry", Run{BrokenEntry: map[string]int{"failed EngineFailure": 1},
			NodeFaults: map[string]map[string][]string{"sim-h100": {"c-h100-0": {
				"p2 (chaos-001, conc 1): the engine failed the load: server-error, HTTP 500 (withdrawn: the engine failed the same way on another node)",
				"p3 (chaos-001, conc 2): the engine failed the load: server-error, HTTP 500",
				"p4 (chaos-004, conc 1): the worker of hw-sim-h100.c-h100-0 that ran this is gone: it restarted",
			}}}},
			[]string{"c-h100-0 is charged with the broken entry's failure: p3 (chaos-001, conc 2): the engine failed the load: server-error, HTTP 500",
				"c-h100-0 is charged with its worker's restart: p4 (chaos-004, conc 1): the worker of hw-sim-h100.c-h100-0 that ran this is gone: it restarted"}},
		{"nothing of the entry landed", Run{}, []string{"no point of the broken entry chaos-001 is in the lake"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkAttribution(&tc.run)
			require.Equal(t, tc.problems, tc.run.Problems)
		})
	}
}
