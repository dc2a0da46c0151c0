package recipes

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

// agenticPoint is a point of an agentic entry, offloading to DRAM through
// backend with the given budget.
func agenticPoint(framework, prefix, precision, runner, model, backend string, dramGB, tp int) sweep.Point {
	return sweep.Point{Scenario: sweep.ScenarioAgentic, Framework: framework, ModelPrefix: prefix, Precision: precision, Model: model,
		RunnerLabel: runner, Runner: runner, SpecDecoding: "mtp", TP: tp, EP: 1, Conc: 8, KVOffloading: "dram",
		KVOffloadBack: &sweep.Component{Name: backend}, TotalCPUDRAMGB: dramGB, DurationSeconds: sweep.AgenticDurationSeconds}
}

// TestOffloadSizesAreTheScriptsShellArithmetic renders the offload size
// each recipe computes from TOTAL_CPU_DRAM_GB and TP and compares it with
// the value the script's own $(( … )) gives (written out by hand, and
// checked with bash where the machine has it), integer division and all;
// where the script exits, the recipe refuses the point. The expressions
// write G for TOTAL_CPU_DRAM_GB and T for TP.
func TestOffloadSizesAreTheScriptsShellArithmetic(t *testing.T) {
	qwenB200 := func(gb, tp int) sweep.Point {
		return agenticPoint("sglang", "qwen3.5", "fp8", "cluster:b200-dgxc", "Qwen/Qwen3.5-397B-A17B-FP8", "hicache", gb, tp)
	}
	qwenH100 := func(gb, tp int) sweep.Point {
		return agenticPoint("sglang", "qwen3.5", "fp8", "cluster:h100-dgxc", "Qwen/Qwen3.5-397B-A17B-FP8", "hicache", gb, tp)
	}
	minimaxH200 := func(gb, tp int) sweep.Point {
		return agenticPoint("vllm", "minimaxm3", "fp8", "cluster:h200-dgxc", "MiniMaxAI/MiniMax-M3-MXFP8", "mooncake", gb, tp)
	}
	minimaxH100 := func(gb, tp int) sweep.Point {
		return agenticPoint("vllm", "minimaxm3", "fp8", "cluster:h100-dgxc", "MiniMaxAI/MiniMax-M3-MXFP8", "mooncake", gb, tp)
	}
	minimaxB200 := func(gb, tp int) sweep.Point {
		return agenticPoint("vllm", "minimaxm3", "fp4", "cluster:b200-dgxc", "nvidia/MiniMax-M3-NVFP4", "vllm-simple", gb, tp)
	}
	kimiMI355X := func(gb, tp int) sweep.Point {
		return agenticPoint("vllm", "kimik3", "fp4", "cluster:mi355x-amds", "moonshotai/Kimi-K3", "vllm-simple", gb, tp)
	}
	lmcacheMI300X := func(gb, tp int) sweep.Point {
		return agenticPoint("vllm", "minimaxm3", "fp8", "cluster:mi300x-amds", "MiniMaxAI/MiniMax-M3-MXFP8", "lmcache", gb, tp)
	}
	nativeMI355X := func(gb, tp int) sweep.Point {
		return agenticPoint("vllm", "dsv4", "fp4", "cluster:mi355x-amds", "deepseek-ai/DeepSeek-V4-Pro", "vllm-native", gb, tp)
	}
	const (
		blackwellHiCache = "(G - T) * 15 / T / 31"
		hopperHiCache    = "G / T / 2"
		mooncakeH200     = "(G * 1000000000 / 1073741824 - 414) / T - 4"
		mooncakeH100     = "(G * 1000000000 / 1073741824 - 414) / T - 26 - 4"
		simpleBytes      = "G * 1024 * 1024 * 1024"
		perRankBytes     = "G * 1000 * 1000 * 1000 / T"
		lmcacheShard     = "G / T"
		nativeSize       = "G / (8 / T)"
	)
	tests := []struct {
		name        string
		point       sweep.Point
		shell       string
		want        int
		format      string // how the value appears in the argv (or the bash -c script)
		refusedWith string // the script exits: the recipe's error
		gb, tp      int
	}{
		{"qwen3.5 B200 HiCache tp8", qwenB200(2399, 8), blackwellHiCache, 144, "--hicache-size %d", "", 2399, 8},
		{"qwen3.5 B200 HiCache tp4", qwenB200(1199, 4), blackwellHiCache, 144, "--hicache-size %d", "", 1199, 4},
		{"qwen3.5 B200 HiCache tp2", qwenB200(599, 2), blackwellHiCache, 144, "--hicache-size %d", "", 599, 2},
		{"qwen3.5 B200 HiCache smallest pool", qwenB200(40, 8), blackwellHiCache, 1, "--hicache-size %d", "", 40, 8},
		{"qwen3.5 B200 HiCache under 1 GB", qwenB200(20, 8), blackwellHiCache, 0, "", "HiCache pool of 0 GB per rank", 20, 8},
		{"qwen3.5 H100 HiCache per host pool", qwenH100(1731, 8), hopperHiCache, 108, "--hicache-size %d", "", 1731, 8},
		{"qwen3.5 H100 HiCache under 1 GB", qwenH100(15, 8), hopperHiCache, 0, "", "HiCache pool of 0 GB per rank per host pool", 15, 8},
		{"MiniMax-M3 H200 Mooncake segment", minimaxH200(1234, 8), mooncakeH200, 87, `\"global_segment_size\": \"%dGB\"`, "", 1234, 8},
		{"MiniMax-M3 H200 Mooncake small budget", minimaxH200(500, 8), mooncakeH200, 2, `\"global_segment_size\": \"%dGB\"`, "", 500, 8},
		{"MiniMax-M3 H200 Mooncake too small", minimaxH200(450, 8), mooncakeH200, -4, "", "Mooncake segment of -4 GiB per rank", 450, 8},
		{"MiniMax-M3 H100 Mooncake less the offloaded weights", minimaxH100(1731, 8), mooncakeH100, 119, `\"global_segment_size\": \"%dGB\"`, "", 1731, 8},
		{"MiniMax-M3 B200 SimpleCPUOffload bytes", minimaxB200(1499, 4), simpleBytes, 1609538994176, `"cpu_bytes_to_use":%d`, "", 1499, 4},
		{"Kimi-K3 MI355X bytes per rank", kimiMI355X(1499, 8), perRankBytes, 187375000000, `"cpu_bytes_to_use_per_rank":%d`, "", 1499, 8},
		{"MiniMax-M3 MI300X LMCache L1 shard", lmcacheMI300X(1947, 8), lmcacheShard, 243, "--l1-size-gb %d", "", 1947, 8},
		{"MiniMax-M3 MI300X LMCache under 1 GB", lmcacheMI300X(7, 8), lmcacheShard, 0, "", "LMCache L1 shard of 0 GB", 7, 8},
		{"DSv4 MI355X vLLM native tp4", nativeMI355X(1199, 4), nativeSize, 599, "--kv_offloading_size %d", "", 1199, 4},
		{"DSv4 MI355X vLLM native tp8", nativeMI355X(2399, 8), nativeSize, 2399, "--kv_offloading_size %d", "", 2399, 8},
	}
	bash, _ := exec.LookPath("bash")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if bash != "" {
				expr := strings.NewReplacer("G", strconv.Itoa(tc.gb), "T", strconv.Itoa(tc.tp)).Replace(tc.shell)
				out, err := exec.Command(bash, "-c", "echo $(( "+expr+" ))").Output()
				require.NoError(t, err)
				require.Equal(t, strconv.Itoa(tc.want), strings.TrimSpace(string(out)), "bash: %s", expr)
			}
			l, err := Default().Launch(tc.point)
			if tc.refusedWith != "" {
				require.ErrorContains(t, err, tc.refusedWith)
				return
			}
			require.NoError(t, err)
			require.Contains(t, strings.Join(l.Args, " "), strings.Replace(tc.format, "%d", strconv.Itoa(tc.want), 1))
		})
	}
}

// TestOffloadRefusesWhatTheScriptRefuses: benchmark_lib.sh's
// require_agentic_kv_offload_backend, as the recipes' `offload` says it.
func TestOffloadRefusesWhatTheScriptRefuses(t *testing.T) {
	tests := []struct {
		name     string
		d        data
		backends []string
		want     bool
		err      string
	}{
		{"fixed-seq-len point", data{}, []string{"hicache"}, false, ""},
		{"no offloading", data{KVOffloading: "none"}, []string{"hicache"}, false, ""},
		{"the script's backend", data{KVOffloading: "dram", KVOffloadBackend: "hicache", TotalCPUDRAMGB: 1199}, []string{"hicache"}, true, ""},
		{"one of the script's backends", data{KVOffloading: "dram", KVOffloadBackend: "mooncake", TotalCPUDRAMGB: 1234}, []string{"vllm-simple", "mooncake"}, true, ""},
		{"another backend", data{KVOffloading: "dram", KVOffloadBackend: "mooncake", TotalCPUDRAMGB: 1199}, []string{"hicache"},
			false, `kv-offloading dram through "mooncake": the script implements hicache`},
		{"a backend without offloading", data{KVOffloading: "none", KVOffloadBackend: "hicache"}, []string{"hicache"},
			false, "kv-offload-backend hicache needs kv-offloading dram, not none"},
		{"no budget", data{KVOffloading: "dram", KVOffloadBackend: "hicache"}, []string{"hicache"},
			false, "kv-offloading dram needs a positive total-cpu-dram-gb, got 0"},
		{"a script without offloading", data{KVOffloading: "dram", KVOffloadBackend: "lmcache", TotalCPUDRAMGB: 1947}, nil,
			false, "the script runs without KV offloading only: kv-offloading must be none"},
		{"an unknown tier", data{KVOffloading: "ssd"}, []string{"hicache"}, false, `kv-offloading "ssd": the script knows none and dram`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := offload(tc.d, tc.backends...)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
