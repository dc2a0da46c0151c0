package chaos

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestChaos is the CI profile of `infersweep chaos`: about 60 points under
// worker SIGKILLs, engine faults of every kind, S3 5xx and a Temporal
// restart, against the same sweep without faults. INFERSWEEP_CHAOS_POINTS
// runs the full profile (200).
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two sweeps under faults")
	}
	points := 60
	if n, err := strconv.Atoi(os.Getenv("INFERSWEEP_CHAOS_POINTS")); err == nil {
		points = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	rep, err := Execute(ctx, Options{Points: points, Seed: 11, KillEvery: 10 * time.Second, TimeScale: 20, Baseline: true,
		Binary: buildInfersweep(t), Logger: slog.New(slog.DiscardHandler), Progress: testWriter{t}})
	require.NoError(t, err)
	c := rep.Chaos
	t.Logf("chaos: %d planned, %d landed once, %v; retries %d; faults %v; quarantined %v; wall %s vs %s fault-free (%.2f×)",
		c.Planned, c.Landed, c.ByStatus, c.Retries, c.Faults, c.Quarantined, c.Wall.Round(time.Second), rep.Baseline.Wall.Round(time.Second), rep.WallRatio)
	var table strings.Builder
	require.NoError(t, Print(&table, rep))
	t.Log("\n" + table.String())
	require.Empty(t, rep.Baseline.Problems, "the fault-free run")
	require.GreaterOrEqual(t, c.Planned, points)
	require.Equal(t, c.Planned, c.Landed, "every planned point in the lake exactly once")
	require.Zero(t, c.Lost)
	require.Zero(t, c.Duplicated)
	require.Zero(t, c.EnginesLeaked)
	require.Zero(t, c.Panics)
	for _, kind := range FaultKinds {
		require.Positive(t, c.Faults[kind], "fault kind %s injected", kind)
	}
	require.Positive(t, c.ByStatus["succeeded"], "faults do not stop the sweep")
	checkAttribution(&c)
	require.Empty(t, c.Problems, "the broken entry blamed on its engine, no node charged for it or for a restart")
}

// buildInfersweep builds the binary the pool workers and engines run as.
func buildInfersweep(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "infersweep")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/infersweep/infersweep/cmd/infersweep").CombinedOutput()
	require.NoError(t, err, "build infersweep: %s", out)
	return bin
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
