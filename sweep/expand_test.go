package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConcurrenciesMatchUpstream(t *testing.T) {
	tests := []struct {
		start, end, step int
		want             []int
	}{
		{4, 128, 2, []int{4, 8, 16, 32, 64, 128}},
		{4, 100, 2, []int{4, 8, 16, 32, 64, 100}},
		{1, 1, 2, []int{1}},
		{64, 100, 2, []int{64, 100}},
		{1, 64, 4, []int{1, 4, 16, 64}},
		{2, 50, 4, []int{2, 8, 32, 50}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, concurrencies(tt.start, tt.end, tt.step), "%d..%d step %d", tt.start, tt.end, tt.step)
	}
}

func TestSeqLenName(t *testing.T) {
	for n, want := range map[int]string{1024: "1k", 8192: "8k", 131072: "128k", 1000: "1000"} {
		require.Equal(t, want, SeqLenName(n))
	}
}

func TestWorkloadName(t *testing.T) {
	for _, tt := range []struct {
		isl, osl int
		want     string
	}{{8192, 1024, "8k/1k"}, {1024, 8192, "1k/8k"}, {1000, 1000, "1000/1000"}, {0, 0, "agentic-coding"}} {
		require.Equal(t, tt.want, WorkloadName(tt.isl, tt.osl))
	}
}

func expandPoints(t testing.TB, entries []Entry, f Filters) []Point {
	t.Helper()
	rows, err := ExpandRows(entries, Runners{}, DefaultNodeHardware(), f)
	require.NoError(t, err)
	return Points(rows)
}

func loadValid(t *testing.T, f Filters) *Plan {
	t.Helper()
	p, err := LoadPlan(Sources{Masters: []string{"testdata/valid/single-node.yaml", "testdata/valid/multinode.yaml"}, Runners: "testdata/runners.yaml"}, f)
	require.NoError(t, err)
	return p
}

// TestGoldenExpansion pins every point (id, name, layout, concurrency) of
// the valid testdata; -update rewrites the golden file.
func TestGoldenExpansion(t *testing.T) {
	p := loadValid(t, Filters{})
	var lines []string
	for _, pt := range p.Points {
		lines = append(lines, fmt.Sprintf("%s %-28s %-14s %-29s conc=%-4d gpus=%-2d tp=%d ep=%d dcp=%d spec=%s mml=%d dram=%d pool=%s eval=%t deployment=%s",
			pt.ID, pt.Entry, pt.Scenario, pt.ExpName, pt.Conc, pt.GPUs, pt.TP, pt.EP, pt.DCPSize, pt.SpecDecoding, pt.MaxModelLen, pt.TotalCPUDRAMGB, PoolKey(pt.RunnerLabel), pt.Eval, pt.DeploymentID))
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "valid", "expansion.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
	require.Equal(t, Counts{Total: 15, Deployments: 1, Evals: 1,
		ByScenario:  map[string]int{"fixed-seq-len": 14, "agentic-coding": 1},
		ByNodes:     map[string]int{"single-node": 13, "multi-node": 2},
		ByRunner:    map[string]int{"h200": 10, "cluster.h200-test": 1, "mi355x": 2, "gb200-nvl72": 2},
		ByFramework: map[string]int{"sglang": 11, "vllm": 2, "dynamo-trt": 2},
		BySeqLen:    map[string]int{"1k1k": 9, "8k1k": 3, "1k8k": 2, "agentic-coding": 1},
		GPUs:        map[string]int{"h200": 80, "cluster.h200-test": 8, "mi355x": 8, "gb200-nvl72": 48},
	}, p.Counts)
}

func TestPointIDsIgnoreOrderAndFormatting(t *testing.T) {
	a := "x:\n  image: i\n  model: m\n  model-prefix: p\n  runner: h200\n  precision: fp8\n  framework: vllm\n  scenarios:\n    fixed-seq-len:\n      - { isl: 1024, osl: 1024, search-space: [{ tp: 8, conc-start: 4, conc-end: 8 }] }\n"
	b := "# reordered\nx:\n  framework: vllm\n  scenarios:\n    fixed-seq-len:\n      - search-space:\n          - conc-end: 8\n            tp: 8\n            conc-start: 4\n            ep: 1\n        osl: 1024\n        isl: 1024\n  precision: fp8\n  runner: h200\n  model-prefix: p\n  model: m\n  image: i\n"
	ea, errs := ParseMaster("a.yaml", []byte(a))
	require.Empty(t, errs)
	eb, errs := ParseMaster("b.yaml", []byte(b))
	require.Empty(t, errs)
	pa, pb := expandPoints(t, ea, Filters{}), expandPoints(t, eb, Filters{})
	require.Len(t, pa, 2)
	require.Equal(t, pa[0].ID, pb[0].ID)
	require.Equal(t, pa[1].ID, pb[1].ID)
	require.NotEqual(t, pa[0].ID, pa[1].ID)
}

func TestFilters(t *testing.T) {
	tests := []struct {
		name  string
		f     Filters
		concs []int
	}{
		{"max-conc drops above", Filters{Runners: []string{"h200"}, SeqLens: []string{"8k1k"}, MaxConc: 8}, []int{4, 8}},
		// The second search-space entry starts at 64: every value exceeds
		// max-conc 16, so it runs at 16 itself, as upstream does.
		{"max-conc below every value uses max-conc", Filters{ConfigKeys: []string{"dsr1-*-sglang"}, SeqLens: []string{"1k1k"}, MaxConc: 16, MaxTP: 8}, []int{4, 8, 16, 16}},
		{"min-conc", Filters{ModelPrefixes: []string{"dsr1"}, SingleNode: true, ScenarioType: ScenarioFixedSeqLen, MinConc: 64}, []int{64, 64, 100}},
		// Sequence lengths do not filter agentic layouts (as upstream).
		{"step size", Filters{Precisions: []string{"fp8"}, SeqLens: []string{"1k1k"}, StepSize: 4}, []int{4, 16, 64, 64, 100, 1}},
		{"multi-node only", Filters{MultiNode: true}, []int{512, 1024}},
		{"framework", Filters{Frameworks: []string{"vllm"}}, []int{4, 8}},
		// max-tp drops fixed-seq-len single-node layouts only (as upstream).
		{"max-tp drops wide layouts", Filters{MaxTP: 4}, []int{4, 8, 1, 512, 1024}},
		{"model-prefix matches the entry name", Filters{ModelPrefixes: []string{"llama70b-fp4"}}, []int{4, 8}},
		{"runner node filter", Filters{RunnerNodeFilter: "node-1"}, []int{4, 8, 16, 32, 64, 64, 100, 4, 8, 16}},
		{"agentic only", Filters{ScenarioType: ScenarioAgentic}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var concs []int
			for _, p := range loadValid(t, tt.f).Points {
				concs = append(concs, p.Conc)
			}
			require.Equal(t, tt.concs, concs)
		})
	}
}

// TestMaxEPCapsExpertParallelism: upstream runs a layout wider than
// --max-ep at max-ep rather than dropping it.
func TestMaxEPCapsExpertParallelism(t *testing.T) {
	var eps []int
	for _, p := range loadValid(t, Filters{MaxEP: 2, SeqLens: []string{"1k1k"}, SingleNode: true, ScenarioType: ScenarioFixedSeqLen}).Points {
		eps = append(eps, p.EP)
	}
	require.Equal(t, []int{1, 1, 1, 1, 1, 2, 2}, eps)
}

func TestPointsCarryWhatTheRunNeeds(t *testing.T) {
	p := loadValid(t, Filters{MultiNode: true})
	pt := p.Points[0]
	require.Equal(t, "nixl", pt.KVP2PTransfer)
	require.Equal(t, 2*4+1*16, pt.GPUs, "num-worker × tp on both sides")
	require.Equal(t, []string{"MAX_BATCH=256"}, pt.Decode.AdditionalSettings)
	require.Equal(t, "gb200-nvl72", pt.Runner)
	b, err := json.Marshal(pt)
	require.NoError(t, err)
	require.Contains(t, string(b), `"exp_name":"dsr1_1k1k"`)
}

// TestPoolKeys: labels that differ only in case or punctuation fold to
// one key, which is why a runners file may not hold both.
func TestPoolKeys(t *testing.T) {
	for label, want := range map[string]string{"h200": "h200", "MI355X": "mi355x", "gb200 nvl72/rack": "gb200-nvl72-rack", "b200_dgx.1": "b200_dgx.1", "cluster:x": "cluster.x"} {
		require.Equal(t, want, PoolKey(label))
	}
}

// BenchmarkExpand10kPoints: target < 100 ms for 10,000 points.
func BenchmarkExpand10kPoints(b *testing.B) {
	entries, errs := ParseMaster("big.yaml", bigMaster(1250))
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ResetTimer()
	for b.Loop() {
		if n := len(expandPoints(b, entries, Filters{})); n != 10_000 {
			b.Fatalf("%d points", n)
		}
	}
}

// BenchmarkPlanTwo10kLineFiles: target < 1 s to read, validate and expand.
func BenchmarkPlanTwo10kLineFiles(b *testing.B) {
	dir := b.TempDir()
	data := bigMaster(560) // ≈ 10,000 lines
	files := []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")}
	require.NoError(b, os.WriteFile(files[0], data, 0o644))
	require.NoError(b, os.WriteFile(files[1], []byte(strings.ReplaceAll(string(data), "entry-", "other-")), 0o644))
	b.Logf("%d lines per file", strings.Count(string(data), "\n"))
	for b.Loop() {
		if _, err := LoadPlan(Sources{Masters: files, Runners: "testdata/runners.yaml"}, Filters{}); err != nil {
			b.Fatal(err)
		}
	}
}

// bigMaster writes n entries of 8 points each (two lengths × 4 concurrencies).
func bigMaster(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "entry-%d:\n  image: img:%d\n  model: org/model-%d\n  model-prefix: m%d\n  runner: h200\n  precision: fp8\n  framework: vllm\n  scenarios:\n    fixed-seq-len:\n", i, i, i, i)
		for _, isl := range []int{1024, 8192} {
			fmt.Fprintf(&b, "      - isl: %d\n        osl: 1024\n        search-space:\n          - tp: 8\n            conc-start: 8\n            conc-end: 64\n", isl)
		}
	}
	return []byte(b.String())
}
