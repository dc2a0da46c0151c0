package recipes

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

// evalOnlyBranch is what a script's EVAL_ONLY branch changes in the launch
// of a point upstream's generator plans (8k1k, where MAX_MODEL_LEN is
// already ISL+OSL+256).
type evalOnlyBranch int

const (
	// evalEnv: the environment alone: the EVAL_MAX_MODEL_LEN export where
	// the server's context is unchanged or already ISL+OSL+256, or the
	// simulated-acceptance variables an agentic SGLang or TRT-LLM script
	// leaves unset.
	evalEnv evalOnlyBranch = iota + 1
	// evalArgs: the server's arguments too (context length, token budget,
	// speculative config).
	evalArgs
)

// evalOnlyBranches: every shipped recipe whose source script has an
// EVAL_ONLY branch, and what it changes, from reading each script at
// InferenceX 843c6254. A recipe not listed has no such branch, and its
// eval-only launch is its throughput one.
var evalOnlyBranches = map[string]evalOnlyBranch{
	// dsr1-dsv4.yaml
	"dsr1-fp4-b200-sglang":       evalArgs,
	"dsr1-fp4-b200-sglang-mtp":   evalArgs,
	"dsr1-fp4-b300-sglang":       evalArgs,
	"dsr1-fp4-mi355x-sglang":     evalArgs,
	"dsr1-fp4-mi355x-sglang-mtp": evalArgs,
	"dsr1-fp8-b200-sglang":       evalArgs,
	"dsr1-fp8-b200-sglang-mtp":   evalArgs,
	"dsr1-fp8-b300-sglang":       evalArgs,
	"dsr1-fp8-b300-sglang-mtp":   evalArgs,
	"dsr1-fp8-h200-sglang":       evalArgs,
	"dsr1-fp8-h200-sglang-mtp":   evalArgs,
	"dsr1-fp8-mi300x-sglang":     evalArgs,
	"dsr1-fp8-mi325x-sglang":     evalArgs,
	"dsr1-fp8-mi325x-sglang-mtp": evalArgs,
	"dsr1-fp8-mi355x-sglang":     evalArgs,
	"dsr1-fp8-mi355x-sglang-mtp": evalArgs,
	"dsv4-fp4-b200-sglang":       evalArgs,
	"dsv4-fp4-b300-sglang":       evalArgs,
	"dsv4-fp4-b300-sglang-mtp":   evalArgs,
	"dsv4-fp4-mi355x-sglang":     evalArgs,
	"dsv4-fp4-mi355x-sglang-mtp": evalArgs,
	"dsv4-fp8-h200-sglang":       evalArgs,
	"dsv4-fp8-h200-sglang-mtp":   evalArgs,
	"dsv4-fp4-b200-vllm":         evalEnv,
	"dsv4-fp4-b200-vllm-mtp":     evalEnv,
	"dsv4-fp4-b300-vllm":         evalEnv,
	"dsv4-fp4-b300-vllm-mtp":     evalEnv,
	"dsv4-fp4-mi355x-vllm":       evalEnv,
	"dsv4-fp4-mi355x-vllm-mtp":   evalEnv,
	"dsv4-fp8-h200-vllm":         evalEnv,
	"dsv4-fp8-h200-vllm-mtp":     evalEnv,
	"dsv4-fp8-mi300x-vllm":       evalEnv,
	"dsv4-fp8-mi300x-vllm-mtp":   evalEnv,
	"dsv4-fp8-mi325x-vllm":       evalEnv,
	"dsv4-fp8-mi325x-vllm-mtp":   evalEnv,
	// qwen3.5.yaml
	"qwen3.5-fp4-b200-sglang":           evalArgs,
	"qwen3.5-fp4-b200-sglang-mtp":       evalArgs,
	"qwen3.5-fp8-b200-sglang":           evalArgs,
	"qwen3.5-fp8-b200-sglang-mtp":       evalArgs,
	"qwen3.5-fp4-b300-sglang":           evalArgs,
	"qwen3.5-fp4-b300-sglang-mtp":       evalArgs,
	"qwen3.5-fp8-b300-sglang":           evalArgs,
	"qwen3.5-fp8-b300-sglang-mtp":       evalArgs,
	"qwen3.5-fp8-h100-sglang":           evalArgs,
	"qwen3.5-fp8-h100-sglang-mtp":       evalArgs,
	"qwen3.5-fp8-h200-sglang":           evalArgs,
	"qwen3.5-fp4-rtx6000pro-sglang":     evalArgs,
	"qwen3.5-fp4-rtx6000pro-sglang-mtp": evalArgs,
	"qwen3.5-fp8-mi300x-sglang":         evalArgs,
	"qwen3.5-fp8-mi325x-sglang":         evalArgs,
	"qwen3.5-fp8-mi325x-sglang-mtp":     evalArgs,
	"qwen3.5-fp4-mi355x-sglang":         evalEnv,
	"qwen3.5-fp4-mi355x-sglang-mtp":     evalEnv,
	"qwen3.5-fp8-mi355x-sglang":         evalArgs,
	"qwen3.5-fp8-mi355x-sglang-mtp":     evalArgs,
	// trt.yaml
	"dsr1-fp4-b200-trt":        evalArgs,
	"dsr1-fp4-b200-trt-mtp":    evalArgs,
	"dsr1-fp8-b200-trt":        evalArgs,
	"dsr1-fp8-b200-trt-mtp":    evalArgs,
	"dsr1-fp8-h200-trt":        evalArgs,
	"dsr1-fp8-h200-trt-mtp":    evalArgs,
	"dsv4-fp4-b200-trt":        evalArgs,
	"dsv4-fp4-b200-trt-mtp":    evalArgs,
	"dsv4-fp4-b300-trt":        evalArgs,
	"dsv4-fp4-b300-trt-mtp":    evalArgs,
	"qwen3.5-fp4-b200-trt":     evalArgs,
	"qwen3.5-fp4-b200-trt-mtp": evalArgs,
	// atom.yaml
	"dsr1-fp4-mi355x-atom":     evalArgs,
	"dsr1-fp4-mi355x-atom-mtp": evalArgs,
	"dsr1-fp8-mi355x-atom":     evalArgs,
	"dsr1-fp8-mi355x-atom-mtp": evalArgs,
	"dsv4-fp4-mi355x-atom":     evalEnv,
	"dsv4-fp4-mi355x-atom-mtp": evalEnv,
	// agentic.yaml
	"qwen3.5-fp8-h100-sglang-agentic-mtp":   evalEnv,
	"qwen3.5-fp8-h200-sglang-agentic-mtp":   evalEnv,
	"qwen3.5-fp8-b200-sglang-agentic-mtp":   evalEnv,
	"qwen3.5-fp8-b300-sglang-agentic-mtp":   evalEnv,
	"qwen3.5-fp4-b200-sglang-agentic-mtp":   evalEnv,
	"qwen3.5-fp4-b300-sglang-agentic-mtp":   evalEnv,
	"qwen3.5-fp4-mi355x-sglang-agentic-mtp": evalEnv,
	"qwen3.5-fp8-mi300x-sglang-agentic-mtp": evalEnv,
	"qwen3.5-fp8-mi325x-sglang-agentic-mtp": evalEnv,
	"dsv4-fp4-b200-sglang-agentic-mtp":      evalEnv,
	"dsv4-fp4-b300-sglang-agentic-mtp":      evalEnv,
	"dsv4-fp4-mi355x-sglang-agentic-mtp":    evalEnv,
	"glm5.2-fp4-b200-sglang-agentic-mtp":    evalEnv,
	"glm5.2-fp4-b300-sglang-agentic-mtp":    evalEnv,
	"glm5.2-fp4-mi355x-sglang-agentic-mtp":  evalEnv,
	"glm5.2-fp8-mi325x-sglang-agentic-mtp":  evalEnv,
	"minimaxm3-fp4-b200-vllm-agentic-mtp":   evalArgs,
	"minimaxm3-fp4-b300-vllm-agentic-mtp":   evalArgs,
	"minimaxm3-fp8-h200-vllm-agentic-mtp":   evalArgs,
	"minimaxm3-fp8-h100-vllm-agentic-mtp":   evalArgs,
	"minimaxm3-fp8-mi300x-vllm-agentic-mtp": evalArgs,
	"minimaxm3-fp4-mi355x-vllm-agentic-mtp": evalArgs,
	"minimaxm3-fp8-mi325x-vllm-agentic-mtp": evalArgs,
	"kimik3-fp4-b300-vllm-agentic-mtp":      evalArgs,
	"kimik3-fp4-mi355x-vllm-agentic-mtp":    evalArgs,
	"dsv4-fp4-b200-vllm-agentic-mtp":        evalArgs,
	"dsv4-fp4-b300-vllm-agentic-mtp":        evalArgs,
	"dsv4-fp4-mi355x-vllm-agentic-mtp":      evalArgs,
	"dsv4-fp4-mi355x-atom-agentic-mtp":      evalArgs,
	"glm5.2-fp4-mi355x-atom-agentic-mtp":    evalArgs,
	"kimik3-fp4-mi355x-atom-agentic-mtp":    evalArgs,
	"minimaxm3-fp4-b200-trt-agentic-mtp":    evalEnv,
	"minimaxm3-fp4-b300-trt-agentic-mtp":    evalEnv,
}

// snapshotPoints are the single-node points of the snapshot, both
// scenarios, with launches.
func snapshotPoints(t *testing.T, f sweep.Filters) []sweep.Point {
	t.Helper()
	dir := "../sweep/testdata/upstream"
	f.SingleNode = true
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml"), filepath.Join(dir, "amd-master.yaml")},
		Runners: filepath.Join(dir, "runners.yaml"), Launches: Attach}, f)
	require.NoError(t, err)
	require.NotEmpty(t, plan.Points)
	return plan.Points
}

// TestEvalOnlyPointsRenderTheirScriptsBranch: for one point of every
// recipe in the snapshot (8k1k where it has one, as evals run there),
// the eval-only twin renders the recipe's EVAL_ONLY branch where its
// script has one, and the throughput launch where it has none.
func TestEvalOnlyPointsRenderTheirScriptsBranch(t *testing.T) {
	byRecipe := map[string]sweep.Point{}
	for _, p := range snapshotPoints(t, sweep.Filters{}) {
		was, seen := byRecipe[p.Launch.Recipe]
		if !seen || (p.ISL == 8192 && p.OSL == 1024 && was.ISL != 8192) {
			byRecipe[p.Launch.Recipe] = p
		}
	}
	for name := range evalOnlyBranches {
		require.Contains(t, byRecipe, name, "no snapshot point exercises %s", name)
	}
	for name, p := range byRecipe {
		t.Run(name, func(t *testing.T) {
			eval := p
			eval.Eval, eval.EvalOnly = true, true
			l, err := Default().Launch(eval)
			require.NoError(t, err)
			require.Equal(t, name, l.Recipe)
			switch evalOnlyBranches[name] {
			case evalEnv:
				require.Equal(t, p.Launch.Args, l.Args)
				require.NotEqual(t, p.Launch.Env, l.Env)
			case evalArgs:
				require.NotEqual(t, p.Launch.Args, l.Args)
			default:
				require.Equal(t, p.Launch.Fingerprint, l.Fingerprint)
			}
		})
	}
}

// TestTheGeneratorsEvalOnlyPointsPlanWithTheirBranch: --evals-only over
// the snapshot plans what upstream's generator selects (8k1k at the
// highest and median concurrency of at least 16 for fixed-seq-len; the
// highest concurrency for agentic), every point eval-only, and Attach
// renders each with its script's EVAL_ONLY branch.
func TestTheGeneratorsEvalOnlyPointsPlanWithTheirBranch(t *testing.T) {
	points := snapshotPoints(t, sweep.Filters{EvalsOnly: true})
	byScenario := map[string]int{}
	var ctx, env []string
	for _, p := range points {
		require.True(t, p.EvalOnly && p.Eval, "point %s of %s", p.ID, p.Entry)
		byScenario[p.Scenario]++
		if p.Scenario == sweep.ScenarioFixedSeqLen {
			require.Equal(t, [2]int{8192, 1024}, [2]int{p.ISL, p.OSL}, "point %s of %s", p.ID, p.Entry)
			require.GreaterOrEqual(t, p.Conc, 16)
		}
		if _, ok := evalOnlyBranches[p.Launch.Recipe]; !ok {
			continue
		}
		if p.Scenario == sweep.ScenarioFixedSeqLen {
			require.Equal(t, "9472", p.Launch.Env["EVAL_MAX_MODEL_LEN"], "point %s of %s (%s)", p.ID, p.Entry, p.Launch.Recipe)
			env = append(env, p.Launch.Recipe)
		}
		if i := slices.Index(p.Launch.Args, "--context-length"); i >= 0 && p.Launch.Args[i+1] == "9472" {
			ctx = append(ctx, p.Launch.Recipe)
		}
		if p.Scenario == sweep.ScenarioAgentic {
			for k := range p.Launch.Env {
				require.False(t, strings.HasPrefix(k, "SGLANG_SIMULATE_ACC_"), "point %s of %s keeps %s", p.ID, p.Entry, k)
			}
		}
	}
	require.Positive(t, byScenario[sweep.ScenarioFixedSeqLen])
	require.Positive(t, byScenario[sweep.ScenarioAgentic])
	require.NotEmpty(t, env)
	require.Contains(t, ctx, "dsr1-fp8-h200-sglang", "SGLang serves the eval context")
	require.Contains(t, ctx, "qwen3.5-fp8-b200-sglang")
	t.Logf("%d eval-only points: %v", len(points), byScenario)
}
