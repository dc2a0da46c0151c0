package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestChangelogSelectsWhatUpstreamRuns compares the rows planned for
// entries of upstream's perf-changelog.yaml with what upstream's
// process_changelog.py emitted when those entries were the additions of a
// commit (testdata/upstream/changelog/<case>.txt; see the README there):
// throughput rows by recipe fingerprint and concurrency, eval rows by
// exp-name, runner and eval concurrency.
func TestChangelogSelectsWhatUpstreamRuns(t *testing.T) {
	tests := []struct {
		name string
		sel  ChangelogSelection
	}{
		{"last", ChangelogSelection{}},
		{"last4", ChangelogSelection{Last: 4}},
		{"e749", ChangelogSelection{Entry: 749}},
		{"e727", ChangelogSelection{Entry: 727}},
		{"e191", ChangelogSelection{Entry: 191}},
		{"e197", ChangelogSelection{Entry: -576}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sel.File = "testdata/upstream/perf-changelog.yaml"
			// Upstream's MASTER_CONFIGS order: amd before nvidia.
			src := Sources{Masters: []string{upstreamSources.Masters[1], upstreamSources.Masters[0]}, Runners: upstreamSources.Runners}
			plan, err := LoadPlan(src, Filters{Changelog: tt.sel})
			require.NoError(t, err)
			var lines []string
			for _, r := range plan.Rows {
				conc, _ := json.Marshal(r.Conc)
				if len(r.Conc) == 1 && !r.Multinode {
					conc = []byte(fmt.Sprint(r.Conc[0]))
				}
				if r.EvalOnly {
					lines = append(lines, fmt.Sprintf("eval %s %s conc=%s eval-conc=%d eval-all-concs=%t", r.ExpName, r.Runner, conc, r.EvalConc, r.EvalAllConcs))
				} else {
					lines = append(lines, fmt.Sprintf("bench %s conc=%s", r.RecipeFingerprint(), conc))
				}
			}
			slices.Sort(lines)
			want, err := os.ReadFile(filepath.Join("testdata/upstream/changelog", tt.name+".txt"))
			require.NoError(t, err)
			require.Equal(t, string(want), strings.Join(lines, "\n")+"\n")
		})
	}
}

func TestChangelogRefusals(t *testing.T) {
	entries, errs := ParseChangelog("c.yaml", []byte("- config-keys: [a]\n  description: [x]\n  pr-link: p\n  append-only: true\n  evals-only: true\n"+
		"- config-keys: []\n  description: [x]\n  pr-link: p\n  scenario-type: [agentic]\n- description: [x]\n  pr-link: p\n  surprise: 1\n"))
	require.Len(t, entries, 3)
	require.Equal(t, "c.yaml:4:3: [0].append-only: append-only cannot be combined with eval selection fields\n"+
		"c.yaml:6:16: [1].config-keys: empty: want at least one\n"+
		`c.yaml:9:19: [1].scenario-type[0]: "agentic" is not one of fixed-seq-len, agentic-coding`+"\n"+
		"c.yaml:10:3: [2].config-keys: required field is missing\n"+
		"c.yaml:12:3: [2].surprise: unknown field (want one of config-keys, description, pr-link, evals-only, all-evals, append-only, eval-min-prefill-ep, scenario-type)",
		errs.Err().Error())

	sel := ChangelogSelection{File: "c.yaml"}
	three := []ChangelogEntry{{Index: 1}, {Index: 2}, {Index: 3}}
	for _, tt := range []struct {
		sel     ChangelogSelection
		indices []int
		err     string
	}{
		{sel, []int{3}, ""},
		{ChangelogSelection{Last: 2}, []int{2, 3}, ""},
		{ChangelogSelection{Last: 9}, []int{1, 2, 3}, ""},
		{ChangelogSelection{Entry: 1}, []int{1}, ""},
		{ChangelogSelection{Entry: -3}, []int{1}, ""},
		{ChangelogSelection{File: "c.yaml", Entry: 4}, nil, "--entry 4: c.yaml has 3 entries"},
		{ChangelogSelection{Entry: 1, Last: 1}, nil, "--entry and --last exclude each other"},
	} {
		got, err := tt.sel.Select(three)
		if tt.err != "" {
			require.EqualError(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		var indices []int
		for _, e := range got {
			indices = append(indices, e.Index)
		}
		require.Equal(t, tt.indices, indices)
	}

	src := Sources{Masters: upstreamSources.Masters, Runners: upstreamSources.Runners}
	for entry, want := range map[int]string{
		766: "changelog entry 766 (https://github.com/SemiAnalysisAI/InferenceX/pull/2647): append-only runs only what the change added",
		1:   `changelog entry 1 (https://github.com/SemiAnalysisAI/InferenceX/pull/95): config key pattern "70b-fp8-*-vllm" matches no entry of the master configs`,
	} {
		_, err := LoadPlan(src, Filters{Changelog: ChangelogSelection{File: "testdata/upstream/perf-changelog.yaml", Entry: entry}})
		require.ErrorContains(t, err, want)
	}
}
