package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

// Two simulated engines serve the same model, one right 95% of the time
// and one 50%: the sweep evaluates both after their loads (8k1k at
// concurrency 16 is an eval point), and the second, under GSM8K's 0.90,
// is accuracy-failed, off the frontier and named in the alert.
const evalsMaster = `
good-sim:
  image: infersweep/sim:dev
  model: meta-llama/Llama-3.3-70B-Instruct
  model-prefix: llama70b
  runner: sim-mi355x
  precision: fp8
  framework: sim
  scenarios:
    fixed-seq-len:
      - isl: 8192
        osl: 1024
        search-space:
          - { tp: 8, conc-start: 16, conc-end: 16 }
bad-sim:
  image: infersweep/sim:dev
  model: meta-llama/Llama-3.3-70B-Instruct
  model-prefix: llama70b
  runner: sim-mi355x
  precision: fp8
  framework: sim
  scenarios:
    fixed-seq-len:
      - isl: 8192
        osl: 1024
        search-space:
          - { tp: 4, conc-start: 16, conc-end: 16 }
`

const evalsSettings = `
workload: { prompts-per-conc: 2, warmups-per-conc: 0 }
engines:
  good-sim: { args: [--accuracy, "0.95"] }
  bad-sim: { args: [--accuracy, "0.5"] }
evals:
  limit: 100
  thresholds:
    default: { gsm8k: 0.90 }
`

func TestSweepEvalsMarkAccuracyFailedPoints(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var alerts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		alerts = append(alerts, string(body))
		mu.Unlock()
	}))
	defer hook.Close()
	t.Setenv("INFERSWEEP_ALERT_WEBHOOK_URL", hook.URL)
	dir := t.TempDir()
	master, settings := filepath.Join(dir, "master.yaml"), filepath.Join(dir, "settings.yaml")
	require.NoError(t, os.WriteFile(master, []byte(evalsMaster), 0o644))
	require.NoError(t, os.WriteFile(settings, []byte(evalsSettings), 0o644))

	started := time.Now()
	stack := devstacktest.Start(ctx, t)
	runners, err := sweep.ReadRunners("../../examples/runners.yaml")
	require.NoError(t, err)
	fleet, err := stack.StartWorkers(ctx, runners, workerSetup(nil, slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	defer fleet.Stop()
	run, err := fleet.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID("evals"), TaskQueue: workflows.ControlQueue},
		workflows.SweepWorkflow, workflows.SweepInput{SweepID: "evals", Date: "2026-12-01", Masters: []string{master},
			Runners: "../../examples/runners.yaml", Settings: settings, TimeScale: 20})
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))
	t.Logf("sweep with evals: %s", time.Since(started).Round(time.Millisecond))

	m, rows, err := fleet.Lake.SweepPoints(ctx, "evals")
	require.NoError(t, err)
	require.Len(t, rows, 2)
	status := map[string]string{}
	for _, r := range rows {
		status[r.Entry] = r.Status
		require.NotNil(t, r.TputPerGPU, "the load was measured before the eval: %s", r.Entry)
	}
	require.Equal(t, map[string]string{"good-sim": "succeeded", "bad-sim": results.StatusAccuracyFailed}, status)
	require.Equal(t, 1, m.Counts[results.StatusAccuracyFailed])
	for _, p := range m.Points {
		require.Contains(t, p.Keys, results.TableEvals, "the manifest lists the evals table, so results pull and readers see it")
	}

	evalRows, err := fleet.Lake.Evals(ctx, m)
	require.NoError(t, err)
	scores := map[string]float64{}
	for _, e := range evalRows {
		switch e.Task {
		case "gsm8k":
			require.Equal(t, results.EvalScored, e.Status)
			require.EqualValues(t, 100, e.N)
			require.Equal(t, "12a7bcd43c480135075883b2c26e7d04307e81970c008253bdd6d1977caee24c", e.DatasetSHA256)
			require.Equal(t, 0.90, *e.Threshold)
			// Upstream's chat format, its budget for the point's context
			// (8192+1024+256 = 9472 tokens, less 4096).
			require.Equal(t, []any{"chat", "inferencex", int32(5376)}, []any{e.API, e.PromptFormat, e.MaxTokens})
			scores[e.PointID+" "+e.Filter] = *e.Value
			t.Logf("%s %s %s: %.2f ± %.3f (pass %v), %.2f s", e.PointID[:8], e.Task, e.Filter, *e.Value, *e.Stderr, *e.Pass, e.DurationS)
		case "gpqa":
			require.Equal(t, results.EvalSkipped, e.Status, "no GPQA data is configured: skipped, never a fake score")
			require.Nil(t, e.Value)
		}
	}
	require.Len(t, scores, 4)

	bad, good := "", ""
	for _, r := range rows {
		if r.Entry == "bad-sim" {
			bad = r.PointID
		} else {
			good = r.PointID
		}
	}
	rep, err := analysis.Build(ctx, fleet.Lake, "evals", analysis.Options{Targets: []float64{1}})
	require.NoError(t, err)
	var onFrontier []string
	for _, g := range rep.Groups {
		for _, p := range g.Overall {
			onFrontier = append(onFrontier, p.ID)
		}
	}
	require.Equal(t, []string{good}, onFrontier, "the accuracy-failed point is off the frontier")
	require.Len(t, rep.Evals, len(evalRows))

	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(alerts, "\n")
	require.Contains(t, all, `"kind":"accuracy-failed"`)
	require.Contains(t, all, bad, "the alert names the accuracy-failed point")
}
