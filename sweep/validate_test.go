package sweep

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata from the current output")

// TestInvalidConfigsReportEveryErrorExactly loads each file under
// testdata/invalid against testdata/runners.yaml and compares the whole
// error report with the .err file beside it.
func TestInvalidConfigsReportEveryErrorExactly(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 30)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			plan, err := LoadPlan(Sources{Masters: []string{file}, Runners: "testdata/runners.yaml"}, Filters{})
			require.Nil(t, plan, "an invalid config must not produce a plan")
			require.Error(t, err)
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644))
			}
			want, readErr := os.ReadFile(golden)
			require.NoError(t, readErr)
			require.Equal(t, strings.TrimSpace(string(want)), err.Error())
		})
	}
}

func TestCrossFileChecks(t *testing.T) {
	_, err := LoadPlan(Sources{Masters: []string{"testdata/valid/single-node.yaml", "testdata/valid/single-node.yaml"}, Runners: "testdata/runners.yaml"}, Filters{})
	require.EqualError(t, err, "testdata/valid/single-node.yaml:1:1: dsr1-fp8-h200-sglang: entry defined twice (also at testdata/valid/single-node.yaml:1)\n"+
		"testdata/valid/single-node.yaml:19:1: llama70b-fp4-mi355x-vllm: entry defined twice (also at testdata/valid/single-node.yaml:19)\n"+
		"testdata/valid/single-node.yaml:31:1: dsr1-fp8-h200-sglang-agentic: entry defined twice (also at testdata/valid/single-node.yaml:31)")

	_, err = LoadPlan(Sources{Masters: []string{"testdata/valid/single-node.yaml"}, Runners: "testdata/missing-runners.yaml"}, Filters{})
	require.ErrorContains(t, err, "testdata/missing-runners.yaml: cannot read: open testdata/missing-runners.yaml: no such file or directory")
}

func TestRunnersFileErrors(t *testing.T) {
	_, errs := ParseRunners("runners.yaml", []byte("labels:\n  H200: [a]\n  h200: [b]\n  empty: []\n  cluster.x: [c]\n"+
		"hardware:\n  h200: { gpus-per-node: 0, available-cpu-dram-mib: 1 }\n  b200: { gpus-per-node: 8 }\nextra: 1\n"))
	require.Equal(t, "runners.yaml:3:1: labels.h200: pool h200 is also H200's (labels differing only in case or punctuation share a pool): rename one label\n"+
		"runners.yaml:4:3: labels.empty: no nodes: want a list of node names\n"+
		`runners.yaml:5:3: labels.cluster.x: runner label "cluster.x": "cluster." is reserved for the pools of cluster:<name> labels; write cluster:x`+"\n"+
		"runners.yaml:7:26: hardware.h200.gpus-per-node: 0 is below the minimum 1\n"+
		"runners.yaml:8:9: hardware.b200.available-cpu-dram-mib: required field is missing\n"+
		"runners.yaml:9:1: extra: unknown field (want one of labels, hardware)", errs.Err().Error())
}

// TestRunnersAsUpstreamWritesThem: cluster:<name> labels, YAML 1.1
// integers with underscores, hardware for a label outside labels.
func TestRunnersAsUpstreamWritesThem(t *testing.T) {
	r, errs := ParseRunners("runners.yaml", []byte("labels:\n  cluster:mi355x-amds: [mi355x-amds_0, mi355x-amds_1]\n"+
		"hardware:\n  cluster:mi355x-amds: { available-cpu-dram-mib: 3_095_781, gpus-per-node: 8 }\n  b200-nscale: { available-cpu-dram-mib: 2_063_920, gpus-per-node: 0x8 }\n"))
	require.Empty(t, errs)
	require.Equal(t, RunnerHardware{GPUsPerNode: 8, AvailableCPUDRAMMiB: 3_095_781}, r.Hardware["cluster:mi355x-amds"])
	require.Equal(t, RunnerHardware{GPUsPerNode: 8, AvailableCPUDRAMMiB: 2_063_920}, r.Hardware["b200-nscale"])
	require.Equal(t, []string{"mi355x-amds_0", "mi355x-amds_1"}, r.Labels["cluster:mi355x-amds"])
}

// TestPoolNamesOfClusterLabels: the documented, reversible rule.
func TestPoolNamesOfClusterLabels(t *testing.T) {
	for label, want := range map[string][2]string{
		"cluster:mi355x-amds": {"cluster.mi355x-amds", "cluster.mi355x-amds"},
		"h200":                {"h200", "h200"},
		"B200-Multinode":      {"B200-Multinode", "b200-multinode"},
	} {
		require.Equal(t, want[0], PoolName(label))
		require.Equal(t, want[1], PoolKey(label))
		require.Equal(t, label, RunnerLabel(PoolName(label)))
	}
}

// TestNodeHardwareFallsBackToTheCatalogue: runners.yaml first, then the
// catalogue by label, then by the SKU in the label.
func TestNodeHardwareFallsBackToTheCatalogue(t *testing.T) {
	runners := Runners{Hardware: map[string]RunnerHardware{"cluster:gb200-nv": {GPUsPerNode: 4, AvailableCPUDRAMMiB: 1}}}
	catalogue := DefaultNodeHardware()
	catalogue["h100-special"] = RunnerHardware{GPUsPerNode: 2, AvailableCPUDRAMMiB: 2}
	tests := []struct {
		label string
		want  RunnerHardware
		known bool
	}{
		{"cluster:gb200-nv", RunnerHardware{4, 1}, true},
		{"h100-special", RunnerHardware{2, 2}, true},
		{"gb200", RunnerHardware{4, 860_160}, true},
		{"b200-multinode", RunnerHardware{8, 2_063_920}, true},
		{"cluster:mi300x-tw", RunnerHardware{8, 2_321_924}, true},
		{"sim-h100", RunnerHardware{8, 1_998_848}, true},
		{"rtx6000pro-lat", RunnerHardware{8, 1_500_000}, true},
		{"tpu-v7", RunnerHardware{}, false},
	}
	for _, tt := range tests {
		got, known := NodeHardware(tt.label, runners, catalogue)
		require.Equal(t, tt.known, known, tt.label)
		require.Equal(t, tt.want, got, tt.label)
	}
}

// TestUpstreamAcceptsWhatWeUsedToRefuse: each file was refused before
// upstream's validation was read; upstream plans them, so do we.
func TestUpstreamAcceptsWhatWeUsedToRefuse(t *testing.T) {
	tests := []struct {
		file   string
		points int
		pool   string
	}{
		{"framework-unknown-to-infersweep.yaml", 5, "h200"},
		{"precision-any-string.yaml", 5, "h200"},
		{"conc-list-single-node.yaml", 2, "h200"},
		{"runner-without-hardware.yaml", 5, "b200-nohw"},
		{"runner-not-under-labels.yaml", 5, "h300"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			plan, err := LoadPlan(Sources{Masters: []string{"testdata/accepted/" + tt.file}, Runners: "testdata/runners.yaml"}, Filters{})
			require.NoError(t, err)
			require.Len(t, plan.Points, tt.points)
			require.Equal(t, tt.pool, PoolKey(plan.Points[0].RunnerLabel))
		})
	}
}

// TestRunnerNamesCannotEscapeTheLake: labels and node names become object
// key components (hardware=<label>) and task queues.
func TestRunnerNamesCannotEscapeTheLake(t *testing.T) {
	tests := []struct{ body, want string }{
		{"labels:\n  ../etc: [a]\n", `runners.yaml:2:3: labels.../etc: runner label "../etc": want letters, digits, '.', '_' and '-' (no '..'), starting with a letter or digit, at most 128`},
		{"labels:\n  h100: [a/b]\n", `runners.yaml:2:10: labels.h100[0]: node name "a/b": want letters, digits, '.', '_' and '-' (no '..'), starting with a letter or digit, at most 128`},
		{"labels:\n  h100: [/abs]\n", `runners.yaml:2:10: labels.h100[0]: node name "/abs": want letters, digits, '.', '_' and '-' (no '..'), starting with a letter or digit, at most 128`},
		{"labels:\n  \"h100\u202e\": [a]\n", "runners.yaml:2:3: labels.h100\u202e: runner label \"h100\\u202e\": want letters, digits, '.', '_' and '-' (no '..'), starting with a letter or digit, at most 128"},
		{"labels:\n  h100: [a..b]\n", `runners.yaml:2:10: labels.h100[0]: node name "a..b": want letters, digits, '.', '_' and '-' (no '..'), starting with a letter or digit, at most 128`},
	}
	for _, tc := range tests {
		_, errs := ParseRunners("runners.yaml", []byte(tc.body))
		require.Equal(t, tc.want, errs.Err().Error())
	}
	require.NoError(t, CheckName("sweep id", "nightly-20261127-0100"))
	require.Error(t, CheckName("sweep id", ""))
}

func TestSettingsFile(t *testing.T) {
	s, errs := ParseSettings("s.yaml", []byte("workload:\n  random-range-ratio: 1\n  seed: 7\npools:\n  h200: { capacity: 3 }\n"))
	require.Empty(t, errs)
	require.InDelta(t, 1.0, s.Workload.RandomRangeRatio, 0)
	require.EqualValues(t, 7, s.Workload.Seed)
	require.Equal(t, 10, s.Workload.PromptsPerConc, "defaults survive a partial file")
	require.Equal(t, 3, s.Pools["h200"].Capacity)
	require.InDelta(t, 1.73, s.Hardware["h100"].KWPerGPU, 0)

	_, errs = ParseSettings("s.yaml", []byte("workload:\n  range-ratio: 1\n"))
	require.Equal(t, "s.yaml:2:3: workload.range-ratio: unknown field (want one of random-range-ratio, range-mode, prompts-per-conc, warmups-per-conc, request-rate, seed, max-failure-rate)", errs.Err().Error())
	_, errs = ParseSettings("s.yaml", []byte("workload:\n  range-mode: sharegpt\n"))
	require.Equal(t, `s.yaml:2:15: workload.range-mode: "sharegpt": want inferencemax or vllm`, errs.Err().Error())
	_, errs = ParseSettings("s.yaml", nil)
	require.Empty(t, errs, "an empty file means defaults")

	s, errs = ParseSettings("s.yaml", []byte("analysis:\n  targets: [20, 50]\n  tier: neocloud\n"))
	require.Empty(t, errs)
	require.Equal(t, AnalysisSettings{Targets: []float64{20, 50}, Tier: "neocloud"}, s.Analysis)
	_, errs = ParseSettings("s.yaml", []byte("analysis:\n  targets: [20, -5, .inf]\n  baseline-nights: -1\n  tier: spot\n"))
	require.Equal(t, "s.yaml:2:17: analysis.targets[1]: -5: want a positive interactivity (tok/s/user)\n"+
		"s.yaml:2:21: analysis.targets[2]: +Inf: want a positive interactivity (tok/s/user)\n"+
		"s.yaml:3:20: analysis.baseline-nights: -1: want 0 (the default, 7) or more\n"+
		`s.yaml:4:9: analysis.tier: "spot": want hyperscaler, neocloud or rental-3y`, errs.Err().Error())
}
