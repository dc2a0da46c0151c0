package results

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/sweep"
)

// TestUpstreamProcessResultAgrees runs InferenceX's own process_result.py
// (testdata/upstream, 843c625) on a result file our load generator's
// summary writes, with the environment its workflows would give the
// point, and compares what it computes with our row: single-node,
// disaggregated and aggregated multinode.
func TestUpstreamProcessResultAgrees(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	script, err := filepath.Abs(filepath.Join("testdata", "upstream", "process_result.py"))
	require.NoError(t, err)
	summary := loadgen.Summary{ModelID: "deepseek-ai/DeepSeek-R1", MaxConcurrency: 64, TotalTokenThroughput: 12000, OutputThroughput: 4000,
		MedianTPOTms: 20, MeanTPOTms: 21, StdTPOTms: 2, P90TPOTms: 24, P99TPOTms: 30, P999TPOTms: 40, MedianTTFTms: 300}
	tests := []struct {
		name  string
		point sweep.Point
	}{
		{"single-node TP8", sweep.Point{TP: 8, EP: 1, PP: 1, DCPSize: 1, PCPSize: 1, GPUs: 8}},
		{"disaggregated 1P×8 + 2D×16", disaggPoint},
		{"aggregated 2×16", aggregatedPoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := PointRow{TP: int32(tt.point.TP), EP: int32(tt.point.EP), GPUs: int32(tt.point.GPUs), Disagg: tt.point.Disagg}
			row.SetTopology(tt.point)
			row.SummaryFigures(summary)

			dir := t.TempDir()
			require.NoError(t, summary.WriteFile(filepath.Join(dir, "result.json")))
			cmd := exec.Command(python, script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), append(row.UpstreamEnv(), "RUNNER_TYPE=gb200", "FRAMEWORK=dynamo-sglang", "PRECISION=fp4",
				"SPEC_DECODING=none", "RESULT_FILENAME=result", "ISL=8192", "OSL=1024", "MODEL_PREFIX=dsr1", "IMAGE=img")...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			data, err := os.ReadFile(filepath.Join(dir, "agg_result.json"))
			require.NoError(t, err)
			var agg map[string]any
			require.NoError(t, json.Unmarshal(data, &agg))

			require.InDelta(t, *row.TputPerGPU, agg["tput_per_gpu"], 1e-9)
			require.InDelta(t, *row.InputTputPerGPU, agg["input_tput_per_gpu"], 1e-9)
			require.InDelta(t, *row.OutputTputPerGPU, agg["output_tput_per_gpu"], 1e-9)
			require.InDelta(t, *row.Interactivity, agg["median_intvty"], 1e-9)
			require.Equal(t, row.IsMultinode, agg["is_multinode"])
			if row.IsMultinode {
				for key, want := range map[string]*int32{"num_prefill_gpu": row.NumPrefillGPU, "num_decode_gpu": row.NumDecodeGPU,
					"prefill_tp": row.PrefillTP, "prefill_ep": row.PrefillEP, "prefill_num_workers": row.PrefillNumWorkers,
					"decode_tp": row.DecodeTP, "decode_ep": row.DecodeEP, "decode_pp": row.DecodePP, "decode_num_workers": row.DecodeNumWorkers} {
					require.EqualValues(t, *want, agg[key], key)
				}
				require.Equal(t, map[bool]string{true: "true", false: "false"}[*row.DecodeDPAttention], agg["decode_dp_attention"])
			}
		})
	}
}
