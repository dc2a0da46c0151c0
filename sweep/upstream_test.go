package sweep

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// upstreamSources are the snapshot of upstream's files in
// testdata/upstream (see its README for the commit).
var upstreamSources = Sources{
	Masters: []string{"testdata/upstream/nvidia-master.yaml", "testdata/upstream/amd-master.yaml"},
	Runners: "testdata/upstream/runners.yaml",
}

// TestInferenceXOutputMatchesUpstreamGenerator compares `sweep plan -o
// inferencex` with what upstream's generator printed for the same files
// and flags (testdata/upstream/generator/<case>.json.gz, made by the
// commands in testdata/upstream/README.md): the same rows, keys, values
// and key order, byte for byte.
func TestInferenceXOutputMatchesUpstreamGenerator(t *testing.T) {
	tests := []struct {
		name    string
		filters Filters
		rows    int
	}{
		{"all", Filters{}, 1820},
		{"single-node", Filters{SingleNode: true}, 1172},
		{"multi-node", Filters{MultiNode: true}, 648},
		{"agentic", Filters{ScenarioType: ScenarioAgentic}, 746},
		{"fixed-8k1k", Filters{ScenarioType: ScenarioFixedSeqLen, SeqLens: []string{"8k1k"}}, 1073},
		{"model-prefix", Filters{ModelPrefixes: []string{"dsr1", "gptoss"}}, 408},
		{"precision-framework", Filters{Precisions: []string{"fp8"}, Frameworks: []string{"sglang", "vllm"}}, 422},
		{"runner-type", Filters{Runners: []string{"h200", "mi355x", "cluster:mi355x-amds"}}, 380},
		{"step-min-max", Filters{StepSize: 4, MinConc: 8, MaxConc: 64}, 1103},
		{"max-conc-below", Filters{MaxConc: 2}, 668},
		{"max-tp-ep", Filters{MaxTP: 4, MaxEP: 2}, 1416},
		{"runner-node-filter", Filters{RunnerNodeFilter: "dgxc"}, 6125},
		{"no-evals", Filters{NoEvals: true}, 1820},
		{"evals-only", Filters{EvalsOnly: true}, 645},
		{"all-evals", Filters{AllEvals: true}, 1663},
		{"all-evals-only", Filters{AllEvals: true, EvalsOnly: true}, 1663},
		{"multi-node-min-conc", Filters{MultiNode: true, MinConc: 32}, 421},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := LoadPlan(upstreamSources, tt.filters)
			require.NoError(t, err)
			var got bytes.Buffer
			require.NoError(t, WriteInferenceX(&got, plan.Rows))
			want := readGzip(t, filepath.Join("testdata/upstream/generator", tt.name+".json.gz"))
			var gotRows, wantRows []json.RawMessage
			require.NoError(t, json.Unmarshal(got.Bytes(), &gotRows))
			require.NoError(t, json.Unmarshal(want, &wantRows))
			require.Len(t, wantRows, tt.rows)
			for i := range min(len(gotRows), len(wantRows)) {
				require.Equal(t, string(wantRows[i]), string(gotRows[i]), "row %d", i)
			}
			require.Len(t, gotRows, len(wantRows))
			require.Equal(t, string(want), got.String(), "same rows, but not the same bytes")
		})
	}
}

func readGzip(t *testing.T, file string) []byte {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	data, err := io.ReadAll(zr)
	require.NoError(t, err)
	return data
}

// TestRecipeFingerprintsMatchUpstream: fingerprints upstream's
// process_changelog.py computes for rows of the "no-evals" case.
func TestRecipeFingerprintsMatchUpstream(t *testing.T) {
	plan, err := LoadPlan(upstreamSources, Filters{})
	require.NoError(t, err)
	for row, want := range map[int]string{
		0:    "d4644ea80da22f863e5e0e5699fd49cbb1c7509f7fb9718762dcfda9368c9f23",
		1:    "2f2d751ab919d03c042aa9d4be9a35daad4ca9b9f2e109cc1d3bf5923486ab13",
		700:  "74efd9211115eed9b6433e6dc0acfd096004249c120b23078f7a390491093463",
		1500: "277f11d854c3c73000959efeccee182ac88e8933c00f33192f3bf94be518bcd3",
		1819: "e575e55271c4771fc8dabfa7a5b306aa7a577f28dc8398f2dfdd5d332b745ed9",
	} {
		require.Equal(t, want, plan.Rows[row].RecipeFingerprint(), "row %d (%s)", row, plan.Rows[row].ExpName)
	}
}

// BenchmarkPlanUpstreamMatrix: target < 1 s to read, validate and expand
// both of upstream's master files with every scenario (2,078 points).
func BenchmarkPlanUpstreamMatrix(b *testing.B) {
	for b.Loop() {
		plan, err := LoadPlan(upstreamSources, Filters{})
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Points) != 2078 {
			b.Fatalf("%d points", len(plan.Points))
		}
	}
}
