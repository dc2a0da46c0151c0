package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/workflows"
)

// instantEngine answers every completion with one token at once.
func instantEngine() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
		case "/v1/models":
			fmt.Fprint(w, `{"data":[{"id":"m"}]}`)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" t\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n")
		}
	}))
}

// BenchmarkOrchestrationOverhead runs INFERSWEEP_BENCH_POINTS (default
// 200; the target is stated at 2,000) points against an instant engine on
// the embedded stack with 4 nodes, and reports the median per-point
// overhead: a point's wall time in the pool minus its load time.
//
//	INFERSWEEP_BENCH_POINTS=2000 go test ./cmd/infersweep -run '^$' -bench OrchestrationOverhead -benchtime 1x
func BenchmarkOrchestrationOverhead(b *testing.B) {
	points := 200
	if v, err := strconv.Atoi(os.Getenv("INFERSWEEP_BENCH_POINTS")); err == nil && v > 0 {
		points = v
	}
	const nodes = 4
	engine := instantEngine()
	defer engine.Close()
	dir := b.TempDir()
	// One entry per point, concurrency 1: every point is its own canary.
	var spec strings.Builder
	for i := range points {
		fmt.Fprintf(&spec, "e%d:\n  image: i\n  model: m\n  model-prefix: m\n  runner: bench\n  precision: fp8\n  framework: sim\n  scenarios:\n    fixed-seq-len:\n      - { isl: 8, osl: 1, search-space: [{ tp: 1, conc-start: 1, conc-end: 1 }] }\n", i)
	}
	var nodeNames []string
	for i := range nodes {
		nodeNames = append(nodeNames, fmt.Sprintf("n%d", i))
	}
	files := map[string]string{
		"spec.yaml":     spec.String(),
		"runners.yaml":  "labels:\n  bench: [" + strings.Join(nodeNames, ", ") + "]\nhardware:\n  bench: { gpus-per-node: 8 }\n",
		"settings.yaml": "workload: { prompts-per-conc: 1, warmups-per-conc: 0 }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	stack, err := devstack.Start(ctx, devstack.Options{Ephemeral: true})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = stack.Stop(ctx) }()
	control, err := startControlOnly(ctx, stack)
	if err != nil {
		b.Fatal(err)
	}
	defer control.stop()
	for _, n := range nodeNames {
		f, err := startNode(control.client, workerSetup{lake: control.lake, logger: slog.New(slog.DiscardHandler)}, "bench", n, launch.Attached{BaseURL: engine.URL})
		if err != nil {
			b.Fatal(err)
		}
		defer f.stop()
	}
	for b.Loop() {
		id := "bench-" + shortID()
		started := time.Now()
		run, err := control.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(id), TaskQueue: workflows.ControlQueue},
			workflows.SweepWorkflow, workflows.SweepInput{SweepID: id, Date: "2026-11-27", Masters: []string{filepath.Join(dir, "spec.yaml")},
				Runners: filepath.Join(dir, "runners.yaml"), Settings: filepath.Join(dir, "settings.yaml"), TimeScale: 1})
		if err != nil {
			b.Fatal(err)
		}
		var result workflows.SweepResult
		if err := run.Get(ctx, &result); err != nil {
			b.Fatal(err)
		}
		wall := time.Since(started)
		m, err := control.lake.Manifest(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := control.lake.Points(ctx, m)
		if err != nil {
			b.Fatal(err)
		}
		// Per point: its share of the pool's wall time minus its load.
		perPoint := wall.Seconds() * nodes / float64(len(rows))
		var overheads []float64
		for _, r := range rows {
			overheads = append(overheads, perPoint-r.End.Sub(r.Start).Seconds())
		}
		sort.Float64s(overheads)
		b.ReportMetric(overheads[len(overheads)/2]*1000, "median-overhead-ms/point")
		b.ReportMetric(float64(len(rows))/wall.Seconds(), "points/s")
		b.ReportMetric(float64(result.Counts["succeeded"]), "succeeded")
	}
}
