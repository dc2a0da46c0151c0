package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/results/resultstest"
	"github.com/infersweep/infersweep/sweep"
)

// A year of nightly sweeps of yearPoints points each.
const (
	yearNights = 365
	yearPoints = 3000
	yearFirst  = "2026-01-01"
)

var (
	yearOnce sync.Once
	yearLake *results.Lake
)

// syntheticYear fills a lake with yearNights committed sweeps: every
// night's manifest (yearPoints entries) and stored frontiers, and the
// last night's points files, the only ones the benchmark reads. The
// manifests are put directly: WriteManifest would first check each of
// a million point files that the benchmark never opens.
func syntheticYear(b *testing.B) *results.Lake {
	yearOnce.Do(func() {
		ctx := context.Background()
		yearLake = resultstest.Lake(b)
		first, _ := time.Parse(time.DateOnly, yearFirst)
		rows := yearRows()
		for night := range yearNights {
			date := first.AddDate(0, 0, night).Format(time.DateOnly)
			id := fmt.Sprintf("night-%03d", night)
			if err := writeYearNight(ctx, yearLake, id, date, rows, night == yearNights-1); err != nil {
				b.Fatal(err)
			}
		}
	})
	if yearLake == nil {
		b.Fatal("the synthetic year failed to build")
	}
	return yearLake
}

// yearRows are one night's points over 24 groups × 16 series.
func yearRows() []results.PointRow {
	rows := make([]results.PointRow, yearPoints)
	for i := range rows {
		group, series, conc := i%24, (i/24)%16, 1+i/(24*16)
		tpot := 5 + float64(conc)*1.5
		inter, tput, e2el := 1000/tpot, (300+90*float64(conc))*(1+0.05*float64(series)), tpot*1024
		d := results.Dist{Mean: &tpot, Median: &tpot, Std: &tpot, P90: &tpot, P99: &tpot, P999: &tpot}
		rows[i] = results.PointRow{PointID: fmt.Sprintf("g%02d-s%02d-c%03d", group, series, conc), Model: fmt.Sprint("model-", group%4),
			Precision: []string{"fp8", "fp4"}[group/4%2], ISL: int32(1024 * (1 + group/8)), OSL: 1024, Runner: fmt.Sprint("hw", series/2),
			Framework: []string{"vllm", "sglang"}[series%2], Conc: int32(conc), Status: "succeeded", TP: 8, GPUs: 8, Attempts: 1,
			TputPerGPU: &tput, Interactivity: &inter, TTFT: d, TPOT: d, ITL: d, E2EL: results.Dist{Median: &e2el, Mean: &e2el, P99: &e2el}}
	}
	return rows
}

func writeYearNight(ctx context.Context, lake *results.Lake, id, date string, rows []results.PointRow, withPoints bool) error {
	m := results.Manifest{SweepID: id, Date: date, Status: "complete", WrittenAt: time.Now(), Counts: map[string]int{"succeeded": len(rows)}}
	for i := range rows {
		rows[i].SweepID = id
		key := results.TableKey(results.TablePoints, date, rows[i].Runner, id, rows[i].PointID)
		m.Points = append(m.Points, results.ManifestPoint{PointID: rows[i].PointID, Hardware: rows[i].Runner, Status: "succeeded",
			Keys: map[string]string{results.TablePoints: key, results.TableRequests: results.TableKey(results.TableRequests, date, rows[i].Runner, id, rows[i].PointID)}})
		if !withPoints {
			continue
		}
		body, err := results.Encode(rows[i:i+1], nil)
		if err == nil {
			err = lake.PutOnce(ctx, key, body, "application/vnd.apache.parquet")
		}
		if err != nil {
			return err
		}
	}
	groups := analysis.Analyze(rows, sweep.DefaultSettings().Hardware, analysis.TierHyperscaler, nil)
	frontiers, err := results.Encode(analysis.FrontierRows(id, groups), nil)
	if err != nil {
		return err
	}
	if err := lake.PutOnce(ctx, results.AnalysisKey(date, id, results.TableFrontiers), frontiers, "application/vnd.apache.parquet"); err != nil {
		return err
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return lake.Store().PutIfAbsent(ctx, results.ManifestKey(date, id), manifest, "application/json")
}

// BenchmarkAPIOverAYear answers from a lake of 365 nights × 3,000 points.
// Each request's latency is taken at the handler; the first (cold) one
// is reported apart, the percentiles are over the warm ones that follow.
// Target: p99 ≤ 50 ms for the list and for one sweep's points. Run with
//
//	go test -run '^$' -bench APIOverAYear -benchtime 200x ./api
func BenchmarkAPIOverAYear(b *testing.B) {
	lake := syntheticYear(b)
	last := fmt.Sprintf("night-%03d", yearNights-1)
	paths := []struct{ name, path string }{
		{"sweeps", "/api/v1/sweeps"},
		{"points", "/api/v1/sweeps/" + last + "/points"},
		{"points-filtered", "/api/v1/sweeps/" + last + "/points?runner=hw3&framework=sglang"},
		{"history", "/api/v1/history?model=model-1&precision=fp8&isl=1024&osl=1024&series=hw2/sglang&target=50"},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			h := New(lake, Config{})
			cold := time.Now()
			if status := serve(h, p.path); status != 200 {
				b.Fatalf("%s: %d", p.path, status)
			}
			coldMS := float64(time.Since(cold).Microseconds()) / 1e3
			latencies := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				status := serve(h, p.path)
				latencies = append(latencies, time.Since(start))
				if status != 200 {
					b.Fatalf("%s: %d", p.path, status)
				}
			}
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(coldMS, "cold-ms")
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1e3, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1e3, "p99-ms")
		})
	}
}

// serve answers one request into a writer that drops the body, as a
// socket would take it: a recorder would add growing a 6 MB buffer
// (and collecting it) to every points answer.
func serve(h *Server, path string) int {
	w := &discardWriter{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w.status
}

type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
