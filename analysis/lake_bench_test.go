package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/infersweep/infersweep/analysis/analysistest"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/results/resultstest"
)

// monthNights is how many nights come before tonight: a trend's 30
// sweeps, tonight included, reach back 29 of them, and one more is there
// to be left alone.
const monthNights = 30

// syntheticMonth fills a real lake (the dev stack's S3 store, in memory,
// over HTTP) with 30 committed nights of points points each, then
// tonight's. Tonight and the night before hold every file; the 29 nights
// before those hold their manifest and stored frontiers only, all that an
// analysis of tonight may read of them: it fails on a missing object.
// The store lives as long as b, so each benchmark run builds its own.
func syntheticMonth(b *testing.B, points int) *results.Lake {
	ctx := context.Background()
	lake := resultstest.Lake(b)
	base := time.Date(2026, 10, 28, 2, 0, 0, 0, time.UTC)
	for i := range monthNights + 1 {
		at := base.AddDate(0, 0, i)
		n := analysistest.Night{ID: fmt.Sprintf("night-%02d", i), Date: at.Format(time.DateOnly), At: at,
			Factor: map[string]float64{"": 1 + 0.01*math.Sin(float64(i))}}
		if i == monthNights {
			n.ID, n.Factor = "tonight", map[string]float64{"hw1/sglang": 0.88}
		}
		if err := writeMonthNight(ctx, lake, n.Large(points), i >= monthNights-1, i < monthNights); err != nil {
			b.Fatal(err)
		}
	}
	return lake
}

// writeMonthNight commits sw with every file, or only its manifest (put
// directly: WriteManifest would first check each file it lists), and
// its stored frontiers when analysed.
func writeMonthNight(ctx context.Context, lake *results.Lake, sw analysistest.Sweep, files, analysed bool) error {
	m := sw.Manifest
	if files {
		if err := sw.Write(ctx, lake); err != nil {
			return err
		}
	} else {
		body, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		if err := lake.Store().PutIfAbsent(ctx, results.ManifestKey(m.Date, m.SweepID), body, "application/json"); err != nil {
			return err
		}
	}
	if !analysed {
		return nil
	}
	opt := Options{}.withDefaults()
	frontiers, err := results.Encode(FrontierRows(m.SweepID, Analyze(sw.Rows, opt.Costs, opt.Tier, nil)), nil)
	if err != nil {
		return err
	}
	return lake.PutOnce(ctx, results.AnalysisKey(m.Date, m.SweepID, results.TableFrontiers), frontiers, "application/vnd.apache.parquet")
}

// BenchmarkReportOverAMonth builds tonight's report, as `infersweep
// report` and the regressions step do, against 30 earlier nights in a
// real lake: tonight's points, earlier frontiers for regressions and
// 30-night trends, and a Mann–Whitney test of per-request TPOT for every
// regression row, against the night before. It reports wall time per op,
// the bytes allocated (the in-process S3 store's included) and the peak
// live heap (as of each GC) above the lake's own. 2,000 points a night by default;
// the size, with its target of under 10 s and 2 GB:
//
//	INFERSWEEP_BENCH_POINTS=20000 go test -run '^$' -bench ReportOverAMonth -benchtime 1x -count 3 ./analysis
func BenchmarkReportOverAMonth(b *testing.B) {
	points := 2000
	if v := os.Getenv("INFERSWEEP_BENCH_POINTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("INFERSWEEP_BENCH_POINTS=%q: want a positive number of points", v)
		}
		points = n
	}
	lake := &timedLake{Lake: syntheticMonth(b, points)}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		rep, err := Build(context.Background(), lake, "tonight", Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		checkMonthReport(b, rep)
		b.StartTimer()
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1e6, "alloc-MB/op")
	b.ReportMetric(lake.points.Seconds()/float64(b.N), "tonight-points-s/op")
	b.ReportMetric(float64(peakLiveDuring(b, func() error {
		_, err := Build(context.Background(), lake, "tonight", Options{})
		return err
	}))/1e6, "peak-live-MB")
}

// peakLiveDuring runs f once more, untimed, while collecting back to back:
// the live heap is known only as of a GC, and with a large lake in the
// same process the collector would hardly run on its own. It returns the
// largest live heap seen above the one before f. A peak shorter than one
// collection can fall between two and be missed.
func peakLiveDuring(b *testing.B, f func() error) uint64 {
	runtime.GC()
	live := liveHeap()
	var top uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			runtime.GC()
			top = max(top, liveHeap())
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	err := f()
	close(done)
	<-stopped
	if err != nil {
		b.Fatal(err)
	}
	return max(top, live) - live
}

// timedLake times the reads of tonight's points (a file a manifest part,
// or a file a point for sweeps without parts): the part of a report that
// reading less of earlier nights cannot help.
type timedLake struct {
	*results.Lake
	points time.Duration
}

func (l *timedLake) Points(ctx context.Context, m results.Manifest) ([]results.PointRow, error) {
	start := time.Now()
	rows, err := l.Lake.Points(ctx, m)
	l.points += time.Since(start)
	return rows, err
}

// checkMonthReport fails unless every regression row was tested against
// the night before: a benchmark that skipped the tests would look fast.
func checkMonthReport(b *testing.B, rep *Report) {
	tested := 0
	for _, r := range rep.Regressions {
		if r.BaselineSweep != fmt.Sprintf("night-%02d", monthNights-1) || r.PValue == nil {
			b.Fatalf("%s %s at %v: baseline %q, p-value %v; want the night before, tested", r.Model, r.Series, r.Target, r.BaselineSweep, r.PValue)
		}
		tested++
	}
	if len(rep.History) != monthNights-1 || tested == 0 {
		b.Fatalf("%d earlier nights, %d regression rows; want %d and some", len(rep.History), tested, monthNights-1)
	}
	b.ReportMetric(float64(tested), "regression-rows")
}

// liveHeap is the heap that survived the last GC: the lake's objects
// and what the analysis holds, not garbage waiting to be collected,
// whose amount depends on GOGC and on the size of the in-process store.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}
