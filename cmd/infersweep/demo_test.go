package main

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
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
