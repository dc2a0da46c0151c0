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

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/workers"
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
// the embedded stack with 4 nodes. A point's overhead is the node time it
// took minus its load: from the end of the node's previous point (the
// node idles while the orchestrator hands it the next) to the end of its
// own last activity, read from the pool's recorded history, minus the
// load's own start-to-end in its points row. Planning, manifest and
// analysis happen once per sweep and are reported apart.
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
		"runners.yaml":  "labels:\n  bench: [" + strings.Join(nodeNames, ", ") + "]\nhardware:\n  bench: { gpus-per-node: 8, available-cpu-dram-mib: 2000000 }\n",
		"settings.yaml": "workload: { prompts-per-conc: 1, warmups-per-conc: 0 }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	devstack.TuneGC()
	stack := devstacktest.Start(ctx, b)
	control, err := startControlOnly(ctx, stack)
	if err != nil {
		b.Fatal(err)
	}
	defer control.Stop()
	for _, n := range nodeNames {
		f, err := workers.StartNode(control.Client, workerSetup(control.Lake, slog.New(slog.DiscardHandler)), "bench", n, launch.Attached{BaseURL: engine.URL})
		if err != nil {
			b.Fatal(err)
		}
		defer f.Stop()
	}
	for b.Loop() {
		id := "bench-" + shortID()
		started := time.Now()
		run, err := control.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(id), TaskQueue: workflows.ControlQueue},
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
		m, err := control.Lake.Manifest(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := control.Lake.Points(ctx, m)
		if err != nil {
			b.Fatal(err)
		}
		spans, poolSpan, err := pointSpans(ctx, control.Client, workflows.SweepWorkflowID(id)+"/hw-bench")
		if err != nil {
			b.Fatal(err)
		}
		var overheads []float64
		for _, r := range rows {
			span, ok := spans[r.PointID]
			if !ok {
				b.Fatalf("point %s is not in the pool's history", r.PointID)
			}
			overheads = append(overheads, (span-r.End.Sub(r.Start)).Seconds()*1000)
		}
		sort.Float64s(overheads)
		b.ReportMetric(overheads[len(overheads)/2], "median-overhead-ms/point")
		b.ReportMetric(overheads[len(overheads)*9/10], "p90-overhead-ms/point")
		b.ReportMetric(float64(len(rows))/wall.Seconds(), "points/s")
		b.ReportMetric((wall - poolSpan).Seconds(), "once-per-sweep-s")
		b.ReportMetric(float64(result.Counts["succeeded"]), "succeeded")
	}
}

// pointSpans reads a pool workflow's history, every run of it, and
// returns each point's node time (see BenchmarkOrchestrationOverhead) and
// the pool's span from its start to its last point's end.
func pointSpans(ctx context.Context, c client.Client, workflowID string) (map[string]time.Duration, time.Duration, error) {
	type mark struct {
		point, node string
		at          time.Time
		begins      bool
	}
	var marks []mark
	var poolStart time.Time
	for runID := ""; ; {
		ends := map[int64]activities.Lease{}
		var previous string
		it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				return nil, 0, err
			}
			at := e.GetEventTime().AsTime()
			if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
				previous, poolStart = a.GetContinuedExecutionRunId(), at
			}
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
				name := a.GetActivityType().GetName()
				if name != "StartEngine" && name != "RunLoad" && name != "Teardown" {
					continue
				}
				// Each of these takes its lease first.
				var in struct{ Lease activities.Lease }
				if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &in); err != nil {
					return nil, 0, err
				}
				if name == "StartEngine" {
					marks = append(marks, mark{pointOf(in.Lease.LeaseID), in.Lease.Node, at, true})
				} else {
					// A point ends with its load (which stops the engine) or
					// with its teardown.
					ends[e.GetEventId()] = in.Lease
				}
			}
			if a := e.GetActivityTaskCompletedEventAttributes(); a != nil {
				if lease, ok := ends[a.GetScheduledEventId()]; ok {
					marks = append(marks, mark{pointOf(lease.LeaseID), lease.Node, at, false})
				}
			}
		}
		if previous == "" {
			break
		}
		runID = previous
	}
	sort.SliceStable(marks, func(i, j int) bool { return marks[i].at.Before(marks[j].at) })
	begin, free := map[string]time.Time{}, map[string]time.Time{}
	spans := map[string]time.Duration{}
	var last time.Time
	for _, m := range marks {
		if m.begins {
			if t, ok := free[m.node]; ok {
				begin[m.point] = t
			} else {
				begin[m.point] = m.at
			}
			continue
		}
		spans[m.point] = m.at.Sub(begin[m.point])
		free[m.node], last = m.at, m.at
	}
	return spans, last.Sub(poolStart), nil
}

// pointOf is the point id in a lease id (sweep/point/attempt).
func pointOf(leaseID string) string {
	parts := strings.Split(leaseID, "/")
	return parts[len(parts)-2]
}
