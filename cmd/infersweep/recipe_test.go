package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRecipeLsListsTheCatalogue(t *testing.T) {
	code, stdout, stderr := runCLI(t, "recipe", "ls", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var rows []recipeRow
	require.NoError(t, json.Unmarshal([]byte(stdout), &rows))
	byName := map[string]recipeRow{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	require.Equal(t, recipeRow{Name: "sim", Framework: "sim", Scenario: []string{"fixed-seq-len", "agentic-coding"}, Family: "sim"}, byName["sim"])
	require.Equal(t, []string{"fixed-seq-len"}, byName["dsr1-fp8-h200-sglang"].Scenario, "a recipe naming no scenario serves fixed-seq-len points")
	require.Equal(t, []string{"agentic-coding"}, byName["qwen3.5-fp8-h200-sglang-agentic-mtp"].Scenario)
	require.Equal(t, "benchmarks/single_node/fixed_seq_len/dsr1_fp8_h200.sh", byName["dsr1-fp8-h200-sglang"].Source)
}

// TestRecipeRenderPrintsEachBackendsLine: what a backend would run for a
// point, whole, with nothing started.
func TestRecipeRenderPrintsEachBackendsLine(t *testing.T) {
	const upstream = "../../sweep/testdata/upstream/"
	args := []string{"recipe", "render", "-f", upstream + "nvidia-master.yaml", "--runners", upstream + "runners.yaml",
		"--config-keys", "dsr1-fp8-h200-sglang", "--conc", "64"}
	tests := []struct {
		backend []string
		want    string
	}{
		{[]string{"--backend", "local"}, "PYTHONNOUSERSITE=1 TORCH_CUDA_ARCH_LIST=9.0 python3 -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1-0528 --host 0.0.0.0 --port 8000 "},
		{[]string{"--backend", "docker"}, " --gpus all --ipc=host --shm-size 16g --label infersweep.lease=SWEEP/09f8eaf6b5ef2739/1 --label infersweep.managed=true --label infersweep.node=NODE --label infersweep.point=09f8eaf6b5ef2739 --label infersweep.sweep=SWEEP -e PYTHONNOUSERSITE=1 -e TORCH_CUDA_ARCH_LIST=9.0 lmsysorg/sglang:v0.5.12-cu130 python3 -m sglang.launch_server "},
		{[]string{"--backend", "slurm", "--pyxis", "yes", "--slurm-partition", "h200"}, "--comment infersweep.node=NODE --partition h200 --wrap 'srun --container-image=lmsysorg/sglang:v0.5.12-cu130 --export=ALL,PYTHONNOUSERSITE=1,TORCH_CUDA_ARCH_LIST=9.0 python3 -m sglang.launch_server "},
		{[]string{"--backend", "slurm", "--pyxis", "no"}, "--wrap 'srun --export=ALL,PYTHONNOUSERSITE=1,TORCH_CUDA_ARCH_LIST=9.0 python3 -m sglang.launch_server "},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.backend, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append(append(append([]string(nil), args...), tt.backend...), "-o", "json")...)
			require.Equal(t, exitOK, code, stderr)
			var rows []renderedPoint
			require.NoError(t, json.Unmarshal([]byte(stdout), &rows))
			require.Len(t, rows, 1)
			require.Equal(t, "dsr1-fp8-h200-sglang", rows[0].Recipe)
			require.Len(t, rows[0].Fingerprint, 64)
			require.Contains(t, rows[0].Command, tt.want)
			require.Contains(t, rows[0].Command, "--max-running-requests 256 --cuda-graph-max-bs 256", "the 8k1k branch")
		})
	}
	code, _, stderr := runCLI(t, append(args, "--backend", "slurm", "--pyxis", "maybe")...)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, `--pyxis "maybe": want yes or no`)
}
