package main

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/launch/launchtest"
)

// TestMain lets this test binary stand in for the infersweep binary: the
// local backend launches engines as `<self> engine sim …`, and the crash
// test runs pool workers as `<self> worker …`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "engine" || os.Args[1] == "worker") {
		// As main does: SIGINT and SIGTERM stop it gracefully.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(launchtest.Main(m))
}

// ownEngines matches the engines this test binary launched, not those of
// tests of other packages running beside it (the chaos harness's).
var ownEngines = regexp.QuoteMeta(os.Args[0]) + " engine sim --model"

// TestDemoRunsTheExampleSweepEndToEnd is the README's first command on the
// embedded stack: real Temporal, real S3 store, real engine processes.
func TestDemoRunsTheExampleSweepEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole sweep")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code, stdout, stderr := runCLIContext(ctx, t, "demo", "--ephemeral", "--port", "0", "--ui-port", "0", "--s3-port", "0",
		"--spec", "../../examples/sweep.yaml", "--runners", "../../examples/runners.yaml", "--settings", "../../examples/settings.yaml", "--time-scale", "20")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "map[succeeded:22]")
	require.Equal(t, 22+1, strings.Count(stdout, "succeeded"), "the table lists every point")
	require.Contains(t, stdout, "simulated (wall-clock × time_scale) (time scale 20)")
	require.Contains(t, stdout, "frontier (tok/s/GPU@tok/s/user)")
	require.Regexp(t, `analysis:  s3://infersweep/v1/analysis/dt=\d{4}-\d{2}-\d{2}/sweep=demo-[^/]+/frontiers\.parquet`, stdout, "the sweep analysed itself")
	report := regexp.MustCompile(`report:    file://(\S+\.html)`).FindStringSubmatch(stdout)
	require.NotNil(t, report, "the demo prints its report's URL")
	page, err := os.ReadFile(report[1])
	require.NoError(t, err)
	require.NoError(t, os.Remove(report[1]))
	require.Contains(t, string(page), "<h1>Sweep demo-")
	require.Contains(t, string(page), "Throughput per GPU vs interactivity")
	require.Contains(t, stdout, "tok/s/user: cheapest sim-", "the report prices the series that reach a target")
	require.NotContains(t, stderr, "Activity error", "pools hand points to free nodes: no node refuses one")

	// No engine outlives the sweep.
	out, _ := exec.Command("pgrep", "-f", ownEngines).Output()
	require.Empty(t, strings.TrimSpace(string(out)), "engine processes left behind")
}

// TestDemoSimulatesAnUpstreamNight previews InferenceX's own rows (the
// snapshot of its configs and runners) on simulated pools: a single-node
// entry and a disaggregated one, selected by upstream's filters, each
// launched by the simulator standing in for its framework, and ends with
// what the night takes on upstream's fleet.
func TestDemoSimulatesAnUpstreamNight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole sweep")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	upstream := "../../sweep/testdata/upstream/"
	code, stdout, stderr := runCLIContext(ctx, t, "demo", "--ephemeral", "--port", "0", "--ui-port", "0", "--s3-port", "0", "--simulate",
		"--spec", upstream+"amd-master.yaml", "--runners", upstream+"runners.yaml", "--time-scale", "20",
		"--config-keys", "qwen3.5-fp8-mi355x-sglang,qwen3.5-fp8-mi355x-sglang-disagg", "--max-conc", "8", "--no-evals")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "map[succeeded:3]")
	require.Regexp(t, `mi355x-disagg\s+8k/1k\s+1P \(TP4\) x 1D \(TP8\), 2 nodes\s+8\s+\d+`, stdout, "the disaggregated row ran on a simulated deployment")
	// Upstream's runners.yaml has 9 mi355x runners and 9 mi355x-disagg ones.
	require.Regexp(t, `\nmi355x\s+2\s+2\s+[0-9.e-]+\s+[0-9.e-]+\s+[0-9.e-]+\s+9\s`, stdout)
	require.Regexp(t, `\nmi355x-disagg\s+1\s+1\s+[0-9.e-]+\s+[0-9.e-]+\s+[0-9.e-]+\s+9\s`, stdout)
	require.Regexp(t, `\ntotal\s+3\s+3\s`, stdout)
	require.Contains(t, stdout, "engine start, model load and warm-up are not modelled")
}

// --simulate refuses what it cannot preview before starting anything.
func TestDemoSimulateRefuses(t *testing.T) {
	upstream := "../../sweep/testdata/upstream/"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no spec", []string{"--simulate"}, "--simulate needs --spec"},
		{"pinned to real nodes", []string{"--simulate", "--spec", upstream + "amd-master.yaml", "--runners", upstream + "runners.yaml", "--runner-node-filter", "amds"}, "--runner-node-filter pins points to real nodes"},
		{"nothing selected", []string{"--simulate", "--spec", upstream + "amd-master.yaml", "--runners", upstream + "runners.yaml", "--config-keys", "no-such-*"}, "select no points"},
		{"a filter upstream refuses", []string{"--simulate", "--spec", upstream + "amd-master.yaml", "--step-size", "1"}, "step-size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"demo", "--ephemeral", "--port", "0", "--ui-port", "0", "--s3-port", "0"}, tt.args...)...)
			require.Equal(t, exitUsage, code, stderr)
			require.Contains(t, stderr, tt.want)
		})
	}
}

// TestDemoRunsAnAgenticSweep replays synthesized coding-agent sessions
// on the simulated engine, with the KV cache in HBM and offloaded to
// DRAM: each point's row carries the engine's prefix-cache hit rate, and
// the offloading points are a series of their own.
func TestDemoRunsAnAgenticSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole sweep")
	}
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	require.NoError(t, os.WriteFile(settings, []byte("agentic:\n  duration-s: 40\n  synth: { sessions: 40, seed: 7 }\n"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code, stdout, stderr := runCLIContext(ctx, t, "demo", "--ephemeral", "--port", "0", "--ui-port", "0", "--s3-port", "0",
		"--spec", "../../examples/agentic.yaml", "--settings", settings, "--time-scale", "20")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "map[succeeded:4]")
	rows := regexp.MustCompile(`cluster\.sim-h100\s+agentic-coding\s+TP8( kv:dram/vllm-native)?\s+(4|16)\s+\d+\s+[\d.]+\s+\d+ ms\s+[\d.]+\s+(\d+)%\s+succeeded`).FindAllStringSubmatch(stdout, -1)
	require.Len(t, rows, 4, stdout)
	for _, r := range rows {
		hit, err := strconv.Atoi(r[3])
		require.NoError(t, err)
		require.Greater(t, hit, 50, "later turns reuse the context of earlier ones: %s", r[0])
	}
	require.Contains(t, stdout, "Llama-3.3-70B-Instruct fp8, agentic-coding")
	require.Contains(t, stdout, "cluster.sim-h100/sim kv:dram/vllm-native  2 points")
}

// TestDemoSimulatesUpstreamAgenticPointsFromATraceFile previews two of
// InferenceX's agentic-coding points (Qwen3.5 on H200, KV in HBM and in
// DRAM through HiCache) on simulated pools, replaying a trace file.
func TestDemoSimulatesUpstreamAgenticPointsFromATraceFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole sweep")
	}
	dir := t.TempDir()
	trace, settings := filepath.Join(dir, "agent.jsonl"), filepath.Join(dir, "settings.yaml")
	code, _, stderr := runCLI(t, "trace", "synth", "--sessions", "30", "--seed", "3", "--max-context", "32768", "--out-file", trace)
	require.Equal(t, exitOK, code, stderr)
	require.NoError(t, os.WriteFile(settings, []byte("agentic:\n  trace: "+trace+"\n  duration-s: 40\n"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	upstream := "../../sweep/testdata/upstream/"
	code, stdout, stderr := runCLIContext(ctx, t, "demo", "--ephemeral", "--port", "0", "--ui-port", "0", "--s3-port", "0", "--simulate",
		"--spec", upstream+"nvidia-master.yaml", "--runners", upstream+"runners.yaml", "--settings", settings, "--time-scale", "20",
		"--config-keys", "qwen3.5-fp8-h200-sglang-agentic-mtp", "--max-conc", "4")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "map[succeeded:2]")
	require.Regexp(t, `cluster\.h200-dgxc\s+agentic-coding\s+TP8 EP8\s+4\s+\d+.*\s\d+%\s+succeeded`, stdout)
	require.Regexp(t, `cluster\.h200-dgxc\s+agentic-coding\s+TP8 EP8 kv:dram/hicache\s+4\s+\d+.*\s\d+%\s+succeeded`, stdout)
}
