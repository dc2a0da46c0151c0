package schedules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/workflows"
)

func TestParseReadsTheExample(t *testing.T) {
	data := mustRead(t, "../examples/schedules.yaml")
	scheds, err := Parse("../examples/schedules.yaml", data)
	require.NoError(t, err)
	require.Len(t, scheds, 1)
	s := scheds[0]
	require.Equal(t, "nightly", s.ID)
	require.Equal(t, []Calendar{{Time: "02:00"}}, s.At)
	require.Equal(t, "skip", s.Overlap)
	require.Equal(t, 6*time.Hour, s.CatchupWindow)
	require.True(t, s.Paused)
	require.Equal(t, "../examples/sweep.yaml", s.Specs[0], "paths are relative to the file")
	require.NotEqual(t, "Local", s.Zone, "Local becomes an IANA name Temporal accepts")
}

func TestParseNamesFileLineAndField(t *testing.T) {
	const head = "schedules:\n  - id: nightly\n    spec: [../examples/sweep.yaml]\n    runners: ../examples/runners.yaml\n"
	tests := []struct {
		name, body, want string
	}{
		{"no schedules", "other: 1\n", "s.yaml:1:1: other: unknown field (want one of schedules)\ns.yaml:1:1: schedules: want a list of schedules"},
		{"bad id", "schedules:\n  - id: Nightly!\n    cron: ['0 2 * * *']\n    spec: [../examples/sweep.yaml]\n    runners: ../examples/runners.yaml\n",
			`s.yaml:2:9: schedules[0].id: "Nightly!": want lowercase letters, digits and dashes`},
		{"no times", head, "s.yaml:2:5: schedules[0]: no times: set cron or at"},
		{"bad cron", head + "    cron: ['0 2 *']\n", `s.yaml:5:12: schedules[0].cron[0]: "0 2 *": want 5 fields (minute hour day-of-month month day-of-week) or @daily`},
		{"bad time", head + "    at: [{time: '25:00', days: [mon, funday]}]\n",
			"s.yaml:5:17: schedules[0].at[0].time: \"25:00\": want HH:MM\ns.yaml:5:38: schedules[0].at[0].days[1]: \"funday\": want mon, tue, wed, thu, fri, sat or sun"},
		{"bad zone", head + "    cron: ['@daily']\n    time-zone: Mars/Olympus\n", `s.yaml:6:16: schedules[0].time-zone: "Mars/Olympus": not an IANA time zone`},
		{"bad overlap", head + "    cron: ['@daily']\n    overlap: queue\n",
			`s.yaml:6:14: schedules[0].overlap: "queue": want one of skip, buffer-one, buffer-all, cancel-other, terminate-other, allow-all`},
		{"bad duration", head + "    cron: ['@daily']\n    jitter: soon\n", `s.yaml:6:13: schedules[0].jitter: got "soon", want a duration like 10m or 6h`},
		{"unknown field", head + "    cron: ['@daily']\n    when: nightly\n", "s.yaml:6:5: schedules[0].when: unknown field (want one of id, note, cron, at, time-zone, jitter, spec, runners, settings, changelog, filters, overlap, catchup-window, pause-on-failure, paused, changed-since-last, time-scale, upstream-root)"},
		{"duplicate id", head + "    cron: ['@daily']\n" + "  - id: nightly\n    cron: ['@daily']\n    spec: [../examples/sweep.yaml]\n    runners: ../examples/runners.yaml\n",
			`s.yaml:6:9: schedules[1].id: "nightly" is defined twice`},
		{"unknown filter", head + "    cron: ['@daily']\n    filters: {gpu: h100}\n", "s.yaml:6:15: schedules[0].filters.gpu: unknown field (want one of model-prefix, precision, framework, runner, seq-lens, config-keys, min-conc, max-conc, max-tp, max-ep, step-size, single-node, multi-node, scenario-type, no-evals, evals-only, all-evals, changelog-entry, changelog-last)"},
		{"every problem of a schedule at once", head + "    cron: ['@daily', '1 2']\n    paused: maybe\n    time-scale: -2\n    jitter: -1m\n    note: [a]\n",
			"s.yaml:5:22: schedules[0].cron[1]: \"1 2\": want 5 fields (minute hour day-of-month month day-of-week) or @daily\n" +
				`s.yaml:6:13: schedules[0].paused: got "maybe", want true or false` + "\n" +
				"s.yaml:7:17: schedules[0].time-scale: -2: want 1 (real engines) or more\n" +
				"s.yaml:8:13: schedules[0].jitter: -1m0s: want a duration of 0 or more\n" +
				"s.yaml:9:11: schedules[0].note: got a list, want a string"},
		{"problems in every schedule", "schedules:\n  - id: a\n    cron: 5\n  - id: b\n    id: c\n    at: {time: '02:00'}\n",
			"s.yaml:2:5: schedules[0]: no times: set cron or at\n" +
				"s.yaml:2:5: schedules[0].spec: want at least one master config file\n" +
				"s.yaml:2:5: schedules[0].runners: want the runners file\n" +
				`s.yaml:3:11: schedules[0].cron: got "5", want a list` + "\n" +
				"s.yaml:4:5: schedules[1]: no times: set cron or at\n" +
				"s.yaml:4:5: schedules[1].spec: want at least one master config file\n" +
				"s.yaml:4:5: schedules[1].runners: want the runners file\n" +
				"s.yaml:5:5: schedules[1].id: duplicate key (first at line 4)\n" +
				"s.yaml:6:9: schedules[1].at: got a mapping, want a list"},
		{"not YAML", "schedules:\n  - id: a\n    cron: x: y\n", "s.yaml:3:1: not valid YAML: mapping values are not allowed in this context"},
		{"empty file", "# nothing\n", "s.yaml: file is empty"},
		{"spec that does not plan", "schedules:\n  - id: nightly\n    cron: ['@daily']\n    spec: [missing.yaml]\n    runners: ../examples/runners.yaml\n",
			"s.yaml:2:5: schedules[0] (nightly): its sweep does not plan:\nmissing.yaml: cannot read: open missing.yaml: no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.body))
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestScheduleNamesAChangelog: a schedule can run what upstream's newest
// perf-changelog entries name; the changelog travels to the sweep by
// content, like the specs.
func TestScheduleNamesAChangelog(t *testing.T) {
	body := "schedules:\n  - id: changelog\n    cron: ['@daily']\n" +
		"    spec: [../sweep/testdata/upstream/amd-master.yaml, ../sweep/testdata/upstream/nvidia-master.yaml]\n" +
		"    runners: ../sweep/testdata/upstream/runners.yaml\n    changelog: ../sweep/testdata/upstream/perf-changelog.yaml\n" +
		"    filters: { changelog-last: 4 }\n"
	scheds, err := Parse("../examples/s.yaml", []byte(body))
	require.NoError(t, err)
	require.Equal(t, "../sweep/testdata/upstream/perf-changelog.yaml", scheds[0].Changelog)
	def, files, err := define(scheds[0])
	require.NoError(t, err)
	require.Contains(t, files, def.Changelog.Digest)
	action, _, err := actionOf(scheds[0], def)
	require.NoError(t, err)
	in := action.Args[0].(workflows.SweepInput)
	require.Equal(t, results.LakeRefPrefix+results.SpecKey(def.Changelog.Digest), in.Filters.Changelog.File)
	require.Equal(t, 4, in.Filters.Changelog.Last)
}

// A schedule with upstream-root carries the checkout's srt-slurm recipes
// its plan read to the lake by content, under an index its nights plan
// from; a path that is not a directory is refused at its line.
func TestScheduleCarriesTheUpstreamRecipesItPlansFrom(t *testing.T) {
	body := "schedules:\n  - id: dynamo\n    cron: ['@daily']\n" +
		"    spec: [../sweep/testdata/upstream/nvidia-master.yaml]\n    runners: ../sweep/testdata/upstream/runners.yaml\n" +
		"    upstream-root: ../recipes/testdata/upstream\n" +
		"    filters: { multi-node: true, config-keys: [dsv4-fp4-b200-dynamo-sglang-mtp] }\n"
	scheds, err := Parse("../examples/s.yaml", []byte(body))
	require.NoError(t, err)
	def, files, err := define(scheds[0])
	require.NoError(t, err)
	require.NotNil(t, def.Upstream)
	require.Equal(t, "../recipes/testdata/upstream", def.Upstream.File)
	var index results.UpstreamIndex
	require.NoError(t, json.Unmarshal(files[def.Upstream.Digest], &index))
	require.Len(t, index.Files, 5, "the entry's five srt-slurm recipes")
	for rel, digest := range index.Files {
		require.True(t, strings.HasPrefix(rel, "benchmarks/multi_node/srt-slurm-recipes/sglang/deepseek-v4/"), rel)
		require.Contains(t, files, digest, "uploaded with the specs")
	}
	action, _, err := actionOf(scheds[0], def)
	require.NoError(t, err)
	in := action.Args[0].(workflows.SweepInput)
	require.Equal(t, results.LakeRefPrefix+results.SpecKey(def.Upstream.Digest), in.Upstream)

	_, err = Parse("../examples/s.yaml", []byte(strings.Replace(body, "../recipes/testdata/upstream", "../nowhere", 1)))
	require.ErrorContains(t, err, "s.yaml:6:20: schedules[0].upstream-root: ../nowhere: not a directory")
}
