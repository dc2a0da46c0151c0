package recipes

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

func upstreamMultinodeAgentic(t *testing.T) []sweep.Point {
	t.Helper()
	return planUpstream(t, Attach, sweep.Filters{ScenarioType: sweep.ScenarioAgentic, MultiNode: true}).Points
}

// TestMultinodeAgenticWorkersCarryTheirSrtSlurmRecipe: every agentic
// deployment upstream starts with srtctl apply -f CONFIG_FILE has that
// agentic recipe on each worker (its offload settings live there), and
// the frontend and control plane do not.
func TestMultinodeAgenticWorkersCarryTheirSrtSlurmRecipe(t *testing.T) {
	byFramework := map[string]int{}
	for _, p := range upstreamMultinodeAgentic(t) {
		if p.Framework == "sglang-disagg" {
			continue
		}
		config := settings(p)["CONFIG_FILE"]
		require.NotEmpty(t, config, p.Entry)
		for _, r := range p.Launch.Roles {
			want := config
			if r.Role == sweep.RoleFrontend || r.Role == sweep.RoleControlPlane {
				want = ""
			}
			require.Equal(t, want, r.Launch.Env["SRT_SLURM_RECIPE"], "%s of %s", r.Role, p.Entry)
		}
		byFramework[p.Framework]++
	}
	require.Equal(t, map[string]int{"dynamo-vllm": 130, "dynamo-sglang": 68, "vllm": 35, "dynamo-trt": 19}, byFramework)
}

// TestDSv4MI355XAgenticDisaggRendersTheScript: the snapshot's 12
// sglang-disagg agentic deployments, 1P1D TP8 each, render
// server_sglang.sh's AgentX branches: max-running-requests and chunked
// prefill by DP attention (CONC with DP and EP), HiCache by ratio on the
// prefill only, the decode mirroring its page size, and the golden
// acceptance for MTP 3 on the decode.
func TestDSv4MI355XAgenticDisaggRendersTheScript(t *testing.T) {
	type sides struct{ prefillRunning, chunked, decodeRunning string }
	want := map[bool]map[int]sides{
		false: {1: {"64", "8192", "128"}, 2: {"64", "8192", "128"}, 4: {"64", "8192", "128"}, 8: {"64", "8192", "128"},
			16: {"64", "8192", "128"}, 32: {"64", "8192", "128"}, 48: {"64", "8192", "128"}, 64: {"64", "8192", "128"}},
		true: {64: {"64", "65536", "64"}, 96: {"96", "65536", "96"}, 128: {"128", "65536", "128"}, 192: {"192", "65536", "192"}},
	}
	seen := 0
	for _, p := range upstreamMultinodeAgentic(t) {
		if p.Framework != "sglang-disagg" {
			continue
		}
		w, ok := want[p.Prefill.DPAttn][p.Conc]
		require.True(t, ok, "unexpected deployment: dp-attn %v conc %d", p.Prefill.DPAttn, p.Conc)
		require.Equal(t, "dram", p.KVOffloading)
		prefill, decode := p.Launch.Roles[0].Launch, p.Launch.Roles[1].Launch
		require.Equal(t, w.prefillRunning, argAfter(t, prefill.Args, "--max-running-requests"), "conc %d", p.Conc)
		require.Equal(t, w.chunked, argAfter(t, prefill.Args, "--chunked-prefill-size"), "conc %d", p.Conc)
		require.Equal(t, w.decodeRunning, argAfter(t, decode.Args, "--max-running-requests"), "conc %d", p.Conc)
		require.Equal(t, "3", argAfter(t, prefill.Args, "--hicache-ratio"))
		require.Equal(t, "best_effort", argAfter(t, prefill.Args, "--hicache-storage-prefetch-policy"))
		require.NotContains(t, decode.Args, "--enable-hierarchical-cache")
		require.Equal(t, []string{"--enable-metrics", "--page-size", "256"}, decode.Args[len(decode.Args)-3:])
		require.Equal(t, "1048576", argAfter(t, decode.Args, "--context-length"))
		require.Equal(t, "4", argAfter(t, decode.Args, "--speculative-num-draft-tokens"))
		require.Equal(t, "2.49", decode.Env["SGLANG_SIMULATE_ACC_LEN"])
		require.NotContains(t, prefill.Env, "SGLANG_SIMULATE_ACC_LEN")
		require.Equal(t, "16384", prefill.Env["SGLANG_MORI_NUM_MAX_DISPATCH_TOKENS_PER_RANK"])
		require.Equal(t, "128", decode.Env["SGLANG_MORI_NUM_MAX_DISPATCH_TOKENS_PER_RANK"])
		require.Contains(t, strings.Join(p.Launch.Roles[2].Launch.Args, " "), "--policy consistent_hashing --dp-aware")
		seen++
	}
	require.Equal(t, 12, seen)
}

// TestMultinodeAgenticRefusesWhatUpstreamCannotLaunch: a point asking
// for an offload its launch does not implement, or with no script, is a
// planning error naming why, never a deployment that ignores it.
func TestMultinodeAgenticRefusesWhatUpstreamCannotLaunch(t *testing.T) {
	first := map[string]sweep.Point{}
	for _, p := range upstreamMultinodeAgentic(t) {
		if _, ok := first[p.Framework]; !ok {
			first[p.Framework] = p
		}
	}
	for _, tc := range []struct {
		name, framework string
		change          func(p *sweep.Point)
		want            string
	}{
		{"dynamo-sglang through mooncake", "dynamo-sglang", func(p *sweep.Point) {
			p.KVOffloading, p.TotalCPUDRAMGB, p.KVOffloadBack = "dram", 721, &sweep.Component{Name: "mooncake"}
		}, `kv-offloading dram through "mooncake": the script implements hicache`},
		{"dynamo-vllm through lmcache", "dynamo-vllm", func(p *sweep.Point) {
			p.KVOffloading, p.TotalCPUDRAMGB, p.KVOffloadBack = "dram", 721, &sweep.Component{Name: "lmcache"}
		}, `kv-offloading dram through "lmcache": the script implements mooncake, vllm-simple`},
		{"dynamo-trt through hicache", "dynamo-trt", func(p *sweep.Point) {
			p.KVOffloading, p.TotalCPUDRAMGB, p.KVOffloadBack = "dram", 193, &sweep.Component{Name: "hicache"}
		}, `kv-offloading dram through "hicache": the script implements native`},
		{"h200 vllm through mooncake", "vllm", func(p *sweep.Point) {
			p.KVOffloading, p.TotalCPUDRAMGB, p.KVOffloadBack = "dram", 1234, &sweep.Component{Name: "mooncake"}
		}, `kv-offloading dram through "mooncake": the script implements vllm-simple`},
		{"sglang-disagg without a DRAM budget", "sglang-disagg", func(p *sweep.Point) { p.TotalCPUDRAMGB = 0 },
			"kv-offloading dram needs a positive total-cpu-dram-gb, got 0"},
		{"sglang-disagg of a model with no agentic script", "sglang-disagg", func(p *sweep.Point) { p.ModelPrefix = "qwen3.5" },
			"no multinode agentic-coding recipe matches framework sglang-disagg, model-prefix qwen3.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := first[tc.framework]
			require.True(t, ok, tc.framework)
			tc.change(&p)
			_, err := Default().Launch(p)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestDSv4MI355XAgenticDisaggEvalOnly: an eval-only deployment drops what
// server_sglang.sh's eval branch drops, fake MoE dispatch on both sides and
// the decode's simulated acceptance, and changes nothing else.
func TestDSv4MI355XAgenticDisaggEvalOnly(t *testing.T) {
	fake := []string{"--ep-dispatch-algorithm", "fake"}
	checked := 0
	for _, p := range upstreamMultinodeAgentic(t) {
		if p.Framework != "sglang-disagg" || p.Prefill.EP <= 1 {
			continue
		}
		eval := p
		eval.Eval, eval.EvalOnly = true, true
		l, err := Default().Launch(eval)
		require.NoError(t, err)
		for i, r := range p.Launch.Roles {
			got := l.Roles[i].Launch
			want := r.Launch.Args
			if at := indexOfRun(want, fake); at >= 0 {
				want = append(append([]string(nil), want[:at]...), want[at+2:]...)
			}
			require.Equal(t, want, got.Args, "%s of conc %d", r.Role, p.Conc)
			for k, v := range r.Launch.Env {
				if strings.HasPrefix(k, "SGLANG_SIMULATE_ACC_") {
					require.NotContains(t, got.Env, k, "%s of conc %d", r.Role, p.Conc)
					continue
				}
				require.Equal(t, v, got.Env[k], "%s %s of conc %d", r.Role, k, p.Conc)
			}
		}
		require.Contains(t, strings.Join(p.Launch.Roles[1].Launch.Args, " "), "--ep-dispatch-algorithm fake --moe-a2a-backend mori")
		require.Equal(t, "2.49", p.Launch.Roles[1].Launch.Env["SGLANG_SIMULATE_ACC_LEN"])
		checked++
	}
	require.Equal(t, 4, checked, "the DP+EP deployments")
}

// indexOfRun is where run starts in args, or -1.
func indexOfRun(args, run []string) int {
	for i := 0; i+len(run) <= len(args); i++ {
		if slices.Equal(args[i:i+len(run)], run) {
			return i
		}
	}
	return -1
}
