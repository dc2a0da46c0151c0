package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/workflows"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestWorkerMetricsAfterATinySweep runs a node worker process with
// --metrics-addr through a four-point sweep and reads its /metrics.
func TestWorkerMetricsAfterATinySweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sweep")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := devstacktest.Start(ctx, t)
	control, err := startControlOnly(ctx, stack)
	require.NoError(t, err)
	defer control.Stop()

	addr := freeAddr(t)
	worker := exec.Command(os.Args[0], "worker", "--pool", "sim-h100", "--node", "n0", "--metrics-addr", addr, "--log-format", "json", "--log-level", "info")
	worker.Env = append(os.Environ(), stack.Env()...)
	logs, err := worker.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, worker.Start())
	logged := make(chan string, 1)
	go func() { b, _ := io.ReadAll(logs); logged <- string(b) }()
	defer func() { _ = worker.Process.Kill(); _ = worker.Wait() }()

	runners := filepath.Join(t.TempDir(), "runners.yaml")
	require.NoError(t, os.WriteFile(runners, []byte("labels:\n  sim-h100: [n0]\n  sim-h200: [x]\n  sim-mi355x: [y]\n"+
		"hardware:\n  sim-h100: { gpus-per-node: 8, available-cpu-dram-mib: 2_000_000 }\n"), 0o644))
	spec, _ := filepath.Abs("../../examples/sweep.yaml")
	settings, _ := filepath.Abs("../../examples/settings.yaml")
	// Through the CLI, as a user starts one: it uploads the specs to the
	// lake and the control worker plans from there.
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	code, stdout, stderr := runCLIContext(ctx, t, "sweep", "run", "-f", spec, "--runners", runners, "--settings", settings, "--runner-type", "sim-h100",
		"--max-conc", "8", "--time-scale", "20", "--id", "metrics", "--date", "2026-11-27", "--wait")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "sweep metrics: map[succeeded:4]")
	require.Regexp(t, `sweep\.yaml: sha256 [0-9a-f]{64}`, stderr)
	m, err := control.Lake.Manifest(ctx, "metrics")
	require.NoError(t, err)
	require.Len(t, m.Points, 4)

	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	require.Contains(t, page, `infersweep_points_total{pool="sim-h100",status="succeeded"} 4`)
	require.Contains(t, page, `infersweep_engine_startup_seconds_count{pool="sim-h100"} 4`)
	require.Contains(t, page, `infersweep_load_seconds_count{pool="sim-h100"} 4`)
	require.Regexp(t, regexp.MustCompile(`(?m)^temporal_activity_execution_latency_seconds_count\{.*activity_type="RunLoad".*\} 4$`), page, "the SDK's own series")
	require.Regexp(t, `(?m)^temporal_workflow_task_schedule_to_start_latency_seconds_count\{.*workflow_type="HardwareSweepWorkflow"`, page)

	health, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	require.Equal(t, 200, health.StatusCode)
	health.Body.Close()

	// A script starts and follows a sweep with -o json: the result, not a table.
	code, stdout, stderr = runCLIContext(ctx, t, "sweep", "run", "-f", spec, "--runners", runners, "--settings", settings, "--runner-type", "sim-h100",
		"--max-conc", "8", "--time-scale", "20", "--id", "metrics-json", "--date", "2026-11-27", "--wait", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var result workflows.SweepResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &result), stdout)
	require.Equal(t, "metrics-json", result.SweepID)
	require.Equal(t, map[string]int{"succeeded": 4}, result.Counts)

	// Graceful stop: SIGTERM ends it cleanly, and its JSON logs carry the node.
	require.NoError(t, worker.Process.Signal(os.Interrupt))
	require.NoError(t, worker.Wait())
	out := <-logged
	require.Regexp(t, `"msg":"worker started".*"what":"node n0 of pool sim-h100`, out)
	require.Contains(t, out, `"msg":"worker stopped"`)
	require.Regexp(t, `"msg":"point measured","pool":"sim-h100","node":"n0","sweep":"metrics","point":"[0-9a-f]+"`, out, "logs carry sweep, point and node")
}
