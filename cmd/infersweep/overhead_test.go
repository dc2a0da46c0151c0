package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/results"
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
// 200) points against an instant engine on the embedded stack, over
// INFERSWEEP_BENCH_POOLS pools (default 1) of INFERSWEEP_BENCH_NODES nodes
// each (default 4). A point's overhead is the node time it took minus its
// load: from the end of the node's previous point (the node idles while
// the orchestrator hands it the next) to the end of its own last
// activity, read from the pool's recorded history, minus the load's own
// start-to-end in its points row. Planning, manifest and analysis happen
// once per sweep and are reported apart, with the longest history of any
// pool run, the payloads the guard found over its warning size and the
// process's peak RSS (the embedded Temporal server and S3 included). The
// night the scale issue asks for:
//
//	INFERSWEEP_BENCH_POINTS=20000 INFERSWEEP_BENCH_POOLS=4 INFERSWEEP_BENCH_NODES=8 \
//	  go test ./cmd/infersweep -run '^$' -bench OrchestrationOverhead -benchtime 1x -timeout 60m
func BenchmarkOrchestrationOverhead(b *testing.B) {
	points, pools, nodes := benchEnv("INFERSWEEP_BENCH_POINTS", 200), benchEnv("INFERSWEEP_BENCH_POOLS", 1), benchEnv("INFERSWEEP_BENCH_NODES", 4)
	engine := instantEngine()
	defer engine.Close()
	dir := b.TempDir()
	writeBenchSweep(b, dir, points, pools, nodes)
	ctx := context.Background()
	devstack.TuneGC()
	stack := devstacktest.Start(ctx, b)
	// A client of its own, whose logger counts the payload guard's warnings.
	payloads := &payloadWarnings{}
	c, err := workers.Dial(ctx, stack.Temporal, slog.New(payloads))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	lake, err := stack.Lake(ctx)
	if err != nil {
		b.Fatal(err)
	}
	setup := workerSetup(lake, slog.New(slog.DiscardHandler))
	control, err := workers.StartControl(c, setup)
	if err != nil {
		b.Fatal(err)
	}
	defer control.Stop()
	setup.Launcher = launch.Attached{BaseURL: engine.URL}
	for p := range pools {
		for n := range nodes {
			f, err := workers.StartNode(c, setup, benchPool(p), benchNode(p, n))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Stop()
		}
	}
	for b.Loop() {
		id := "bench-" + shortID()
		started := time.Now()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(id), TaskQueue: workflows.ControlQueue},
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
		reportOverheads(ctx, b, c, lake, id, pools)
		b.ReportMetric(float64(result.Counts["succeeded"])/wall.Seconds(), "points/s")
		b.ReportMetric(float64(result.Counts["succeeded"]), "succeeded")
		b.ReportMetric(float64(payloads.count.Load()), "payloads-over-64KiB")
		b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
		b.ReportMetric(wall.Seconds(), "wall-s")
	}
}

// reportOverheads reads each pool's history and the sweep's points rows
// and reports the overhead per point, the once-per-sweep time and the
// longest pool run's history.
func reportOverheads(ctx context.Context, b *testing.B, c client.Client, lake *results.Lake, sweepID string, pools int) {
	m, err := lake.Manifest(ctx, sweepID)
	if err != nil {
		b.Fatal(err)
	}
	rows, err := lake.Points(ctx, m)
	if err != nil {
		b.Fatal(err)
	}
	spans := map[string]time.Duration{}
	var longestPool time.Duration
	longestRun := 0
	for p := range pools {
		poolSpans, poolSpan, events, err := pointSpans(ctx, c, workflows.PoolWorkflowID(workflows.SweepWorkflowID(sweepID), benchPool(p)))
		if err != nil {
			b.Fatal(err)
		}
		maps.Copy(spans, poolSpans)
		longestPool, longestRun = max(longestPool, poolSpan), max(longestRun, events)
	}
	var overheads []float64
	for _, r := range rows {
		span, ok := spans[r.PointID]
		if !ok {
			b.Fatalf("point %s is not in its pool's history", r.PointID)
		}
		overheads = append(overheads, (span-r.End.Sub(r.Start)).Seconds()*1000)
	}
	sort.Float64s(overheads)
	b.ReportMetric(overheads[len(overheads)/2], "median-overhead-ms/point")
	b.ReportMetric(overheads[len(overheads)*9/10], "p90-overhead-ms/point")
	// The sweep's own work is what its wall time does not spend in pools:
	// planning before them, manifest, analysis and alert after.
	sweepSpan, err := workflowSpan(ctx, c, workflows.SweepWorkflowID(sweepID))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric((sweepSpan - longestPool).Seconds(), "once-per-sweep-s")
	b.ReportMetric(float64(longestRun), "max-events/run")
}

func benchEnv(name string, fallback int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return fallback
}

func benchPool(p int) string    { return fmt.Sprintf("bench%d", p) }
func benchNode(p, n int) string { return fmt.Sprintf("p%dn%d", p, n) }

// writeBenchSweep writes one entry per point, concurrency 1 (every point
// is its own canary), dealt round the pools.
func writeBenchSweep(b *testing.B, dir string, points, pools, nodes int) {
	var spec, runners, hardware strings.Builder
	for i := range points {
		fmt.Fprintf(&spec, "e%d:\n  image: i\n  model: m\n  model-prefix: m\n  runner: %s\n  precision: fp8\n  framework: sim\n  scenarios:\n    fixed-seq-len:\n      - { isl: 8, osl: 1, search-space: [{ tp: 1, conc-start: 1, conc-end: 1 }] }\n", i, benchPool(i%pools))
	}
	runners.WriteString("labels:\n")
	for p := range pools {
		var names []string
		for n := range nodes {
			names = append(names, benchNode(p, n))
		}
		fmt.Fprintf(&runners, "  %s: [%s]\n", benchPool(p), strings.Join(names, ", "))
		fmt.Fprintf(&hardware, "  %s: { gpus-per-node: 8, available-cpu-dram-mib: 2000000 }\n", benchPool(p))
	}
	files := map[string]string{
		"spec.yaml":     spec.String(),
		"runners.yaml":  runners.String() + "hardware:\n" + hardware.String(),
		"settings.yaml": "workload: { prompts-per-conc: 1, warmups-per-conc: 0 }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// payloadWarnings is a slog handler counting the payload guard's warnings.
type payloadWarnings struct{ count atomic.Int64 }

func (h *payloadWarnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *payloadWarnings) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "large Temporal payload") {
		h.count.Add(1)
	}
	return nil
}
func (h *payloadWarnings) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *payloadWarnings) WithGroup(string) slog.Handler      { return h }

// peakRSSMiB is the process's peak resident set (VmHWM), 0 where /proc
// does not say.
func peakRSSMiB() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// workflowSpan is a workflow's start to close, from its history.
func workflowSpan(ctx context.Context, c client.Client, workflowID string) (time.Duration, error) {
	var first, last time.Time
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return 0, err
		}
		if first.IsZero() {
			first = e.GetEventTime().AsTime()
		}
		last = e.GetEventTime().AsTime()
	}
	return last.Sub(first), nil
}

// pointSpans reads a pool workflow's history, every run of it, and
// returns each point's node time (see BenchmarkOrchestrationOverhead) and
// the pool's span from its start to its last point's end, and the most
// events any one run of it recorded.
func pointSpans(ctx context.Context, c client.Client, workflowID string) (map[string]time.Duration, time.Duration, int, error) {
	type mark struct {
		point, node string
		at          time.Time
		begins      bool
	}
	var marks []mark
	var poolStart time.Time
	longestRun := 0
	for runID := ""; ; {
		ends := map[int64]activities.Lease{}
		var previous string
		it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		events := 0
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				return nil, 0, 0, err
			}
			events++
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
					return nil, 0, 0, err
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
		longestRun = max(longestRun, events)
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
	return spans, last.Sub(poolStart), longestRun, nil
}

// pointOf is the point id in a lease id (sweep/point/attempt).
func pointOf(leaseID string) string {
	parts := strings.Split(leaseID, "/")
	return parts[len(parts)-2]
}
