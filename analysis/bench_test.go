package analysis

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/infersweep/infersweep/results"
)

// parquetLake holds a night as the Parquet bytes the real lake would
// serve, so the benchmark pays for decoding points and for reading the
// one TPOT column of request files, without S3 round trips.
type parquetLake struct {
	*memLake
	points   map[string][]byte // sweep → one points file per sweep (decoding dominates, not GETs)
	requests map[string][]byte // requests key → file
	rowsRead int
}

func (l *parquetLake) Points(_ context.Context, m results.Manifest) ([]results.PointRow, error) {
	data := l.points[m.SweepID]
	return results.Decode[results.PointRow](bytes.NewReader(data), int64(len(data)))
}

func (l *parquetLake) RequestTPOT(_ context.Context, key string) ([]float64, error) {
	data := l.requests[key]
	values, err := results.Float32Column(bytes.NewReader(data), int64(len(data)), "tpot_ms")
	l.rowsRead += len(values)
	return values, err
}

// syntheticNight makes n points over 24 groups × 16 series with
// requestsPerPoint request rows each (TPOT, TTFT, E2EL and 16 ITLs).
func syntheticNight(b *testing.B, lake *parquetLake, id, date string, at time.Time, n, requestsPerPoint int, withRequests bool) {
	r := rand.New(rand.NewPCG(uint64(at.Unix()), 7))
	m := results.Manifest{SweepID: id, Date: date, Status: "complete", WrittenAt: at, Counts: map[string]int{"succeeded": n}}
	rows := make([]results.PointRow, 0, n)
	itls := make([]float32, 16)
	for i := range n {
		group, series, conc := i%24, (i/24)%16, 1+i/(24*16)
		tpot := 5 + float64(conc)*1.5*(1+0.02*r.NormFloat64())
		inter, tput, e2el := 1000/tpot, (300+90*float64(conc))*(1+0.05*float64(series)), tpot*1024
		id := fmt.Sprintf("g%02d-s%02d-c%03d", group, series, conc)
		rows = append(rows, results.PointRow{SweepID: m.SweepID, PointID: id, Model: fmt.Sprint("model-", group%4), Precision: []string{"fp8", "fp4"}[group/4%2],
			ISL: int32(1024 * (1 + group/8)), OSL: 1024, Runner: fmt.Sprint("hw", series/2), Framework: []string{"vllm", "sglang"}[series%2],
			Conc: int32(conc), Status: "succeeded", TputPerGPU: &tput, Interactivity: &inter, TPOT: results.Dist{Median: &tpot}, E2EL: results.Dist{Median: &e2el}})
		key := "requests/" + m.SweepID + "/" + id
		m.Points = append(m.Points, results.ManifestPoint{PointID: id, Status: "succeeded", Keys: map[string]string{results.TableRequests: key}})
		if !withRequests {
			continue
		}
		reqs := make([]results.RequestRow, requestsPerPoint)
		for j := range reqs {
			t := float32(tpot * (1 + 0.05*r.NormFloat64()))
			ttft, e2 := float32(100), float32(e2el)
			for k := range itls {
				itls[k] = t
			}
			reqs[j] = results.RequestRow{PointID: id, Index: int32(j), TPOTms: &t, TTFTms: &ttft, E2ELms: &e2, InputTokens: 1024, OutputTokens: 1024, ITLms: itls}
		}
		data, err := results.Encode(reqs, nil)
		if err != nil {
			b.Fatal(err)
		}
		lake.requests[key] = data
	}
	data, err := results.Encode(rows, nil)
	if err != nil {
		b.Fatal(err)
	}
	lake.points[m.SweepID] = data
	lake.Refs = append(lake.Refs, results.SweepRef{SweepID: m.SweepID, Date: date, Committed: true})
	lake.ManifestByID[m.SweepID] = m
	// Earlier nights are read from their stored frontiers, as in the lake.
	if id != "tonight" {
		rep, err := Build(context.Background(), lake, id, Options{TrendNights: 1})
		if err != nil {
			b.Fatal(err)
		}
		lake.FrontiersByID[id] = FrontierRows(id, rep.Groups)
	}
}

// BenchmarkAnalyzeNight is the analysis of one night of 10,000 points and
// 10 million request rows against 7 earlier nights: frontiers, cheapest,
// regressions with a Mann–Whitney test for every regression row whose
// point the night before also measured, trends and run health. Target:
// under 10 s and 2 GB. Run with
//
//	go test -run '^$' -bench AnalyzeNight -benchtime 1x ./analysis
func BenchmarkAnalyzeNight(b *testing.B) {
	const points, requestsPerPoint = 10_000, 1_000
	lake := &parquetLake{memLake: newMemLake(), points: map[string][]byte{}, requests: map[string][]byte{}}
	base := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	for i := range 8 {
		id := fmt.Sprint("night-", i)
		if i == 7 {
			id = "tonight"
		}
		// Only tonight and the night before are ever tested pairwise.
		syntheticNight(b, lake, id, base.AddDate(0, 0, i).Format(time.DateOnly), base.AddDate(0, 0, i), points, requestsPerPoint, i >= 6)
	}
	requestBytes := 0
	for _, data := range lake.requests {
		requestBytes += len(data)
	}
	b.Logf("lake: %d request files, %.0f MB of request Parquet", len(lake.requests), float64(requestBytes)/1e6)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		lake.rowsRead = 0
		rep, err := Build(context.Background(), lake, "tonight", Options{})
		if err != nil {
			b.Fatal(err)
		}
		var page bytes.Buffer
		if err := RenderHTML(&page, rep); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(rep.Regressions)), "regression-rows")
		b.ReportMetric(float64(lake.rowsRead), "tpot-rows-read")
		b.ReportMetric(float64(page.Len())/1e6, "report-MB")
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1e6, "alloc-MB/op")
}

// BenchmarkReadNightTPOT reads the TPOT column of every request file of a
// 10,000-point night (10 million rows), never the ITL lists: the cost of
// testing every point of a night against the night before.
func BenchmarkReadNightTPOT(b *testing.B) {
	lake := &parquetLake{memLake: newMemLake(), points: map[string][]byte{}, requests: map[string][]byte{}}
	syntheticNight(b, lake, "tonight", "2026-11-27", time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), 10_000, 1_000, true)
	b.ResetTimer()
	for range b.N {
		lake.rowsRead = 0
		for key := range lake.requests {
			if _, err := lake.RequestTPOT(context.Background(), key); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(lake.rowsRead), "rows")
	}
}
