// Package duckdb cross-checks the results lake with DuckDB: a lake written by
// infersweep's writer and laid out as `infersweep results pull` mirrors it
// must read in DuckDB, partitions included, with the same aggregates our own
// reader computes. It is its own module so the main one stays free of cgo.
package duckdb

import (
	"bytes"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/results"
)

type aggregate struct {
	hardware     string
	points       int64
	outputTokens int64
	meanTput     float64
	requests     int64
	itlValues    int64
	meanTTFT     float64
}

func writeLake(t *testing.T, dir string) map[string]aggregate {
	t.Helper()
	want := map[string]aggregate{}
	for s, date := range []string{"2026-11-26", "2026-11-27"} {
		for h, hw := range []string{"sim-h100", "sim-mi355x"} {
			agg := want[hw]
			agg.hardware = hw
			var tputSum float64
			var ttftSum float64
			for p := range 5 {
				sweep := fmt.Sprintf("s%d", s)
				point := fmt.Sprintf("p%d-%d", h, p)
				tput := 800 + 100*float64(p) + 10*float64(h)
				row := results.PointRow{SweepID: sweep, PointID: point, Entry: "e", Runner: hw, Conc: int32(4 << p), TP: 8, GPUs: 8,
					TotalOutputTokens: int64(1000 * (p + 1)), TputPerGPU: &tput, Status: "succeeded", Start: time.Unix(0, 0).UTC(), End: time.Unix(60, 0).UTC()}
				data, err := results.Encode([]results.PointRow{row}, nil)
				require.NoError(t, err)
				write(t, dir, results.TableKey(results.TablePoints, date, hw, sweep, point), data)

				var records []loadgen.Record
				for i := range 3 {
					ttft := time.Duration(40+i+p) * time.Millisecond
					records = append(records, loadgen.Record{Index: i, TTFT: ttft, E2EL: ttft + 100*time.Millisecond, OutputTokens: 4, ITLs: []uint32{30_000, 30_000, 40_000}})
					ttftSum += float64(ttft) / float64(time.Millisecond)
				}
				reqs, err := results.Encode(results.RequestRows(point, records), nil)
				require.NoError(t, err)
				write(t, dir, results.TableKey(results.TableRequests, date, hw, sweep, point), reqs)

				agg.points++
				agg.outputTokens += row.TotalOutputTokens
				agg.requests += 3
				agg.itlValues += 9
				tputSum += tput
			}
			// Means over both sweeps: accumulate sums, divide at the end.
			agg.meanTput += tputSum
			agg.meanTTFT += ttftSum
			want[hw] = agg
		}
	}
	for hw, agg := range want {
		agg.meanTput /= float64(agg.points)
		agg.meanTTFT /= float64(agg.requests)
		want[hw] = agg
	}
	return want
}

func write(t *testing.T, dir, key string, data []byte) {
	t.Helper()
	path := filepath.Join(dir, key)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

// ourAggregates reads the lake back with infersweep's own decoder.
func ourAggregates(t *testing.T, dir string) map[string]aggregate {
	t.Helper()
	got := map[string]aggregate{}
	points, err := filepath.Glob(filepath.Join(dir, "v1/points/dt=*/hardware=*/sweep=*/*.parquet"))
	require.NoError(t, err)
	for _, file := range points {
		hw := filepath.Base(filepath.Dir(filepath.Dir(file)))[len("hardware="):]
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		rows, err := results.Decode[results.PointRow](bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err)
		agg := got[hw]
		agg.hardware = hw
		for _, r := range rows {
			agg.points++
			agg.outputTokens += r.TotalOutputTokens
			agg.meanTput += *r.TputPerGPU
		}
		reqFile := filepath.Join(dir, "v1/requests", file[len(filepath.Join(dir, "v1/points")):])
		data, err = os.ReadFile(reqFile)
		require.NoError(t, err)
		reqs, err := results.Decode[results.RequestRow](bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err)
		for _, r := range reqs {
			agg.requests++
			agg.itlValues += int64(len(r.ITLms))
			agg.meanTTFT += float64(*r.TTFTms)
		}
		got[hw] = agg
	}
	for hw, agg := range got {
		agg.meanTput /= float64(agg.points)
		agg.meanTTFT /= float64(agg.requests)
		got[hw] = agg
	}
	return got
}

func TestDuckDBReadsThePulledLake(t *testing.T) {
	dir := t.TempDir()
	want := writeLake(t, dir)
	require.Equal(t, want, ourAggregates(t, dir), "our reader agrees with what was written")

	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer db.Close()

	pointsGlob := filepath.Join(dir, "v1/points/**/*.parquet")
	requestsGlob := filepath.Join(dir, "v1/requests/**/*.parquet")
	rows, err := db.Query(fmt.Sprintf(`
		WITH p AS (SELECT hardware, count(*) AS points, sum(total_output_tokens) AS out_tokens, avg(tput_per_gpu) AS tput
		           FROM read_parquet('%s', hive_partitioning=true, union_by_name=true) GROUP BY hardware),
		     r AS (SELECT hardware, count(*) AS requests, sum(len(itl_ms)) AS itls, avg(ttft_ms) AS ttft
		           FROM read_parquet('%s', hive_partitioning=true, union_by_name=true) GROUP BY hardware)
		SELECT p.hardware, points, out_tokens, tput, requests, itls, ttft FROM p JOIN r USING (hardware) ORDER BY p.hardware`, pointsGlob, requestsGlob))
	require.NoError(t, err)
	defer rows.Close()
	got := map[string]aggregate{}
	for rows.Next() {
		var a aggregate
		require.NoError(t, rows.Scan(&a.hardware, &a.points, &a.outputTokens, &a.meanTput, &a.requests, &a.itlValues, &a.meanTTFT))
		got[a.hardware] = a
	}
	require.NoError(t, rows.Err())

	hardware := make([]string, 0, len(want))
	for hw := range want {
		hardware = append(hardware, hw)
	}
	sort.Strings(hardware)
	for _, hw := range hardware {
		w, g := want[hw], got[hw]
		require.Equal(t, w.points, g.points, hw)
		require.Equal(t, w.outputTokens, g.outputTokens, hw)
		require.Equal(t, w.requests, g.requests, hw)
		require.Equal(t, w.itlValues, g.itlValues, hw)
		require.InDelta(t, w.meanTput, g.meanTput, 1e-9, hw)
		// TTFTs are float32 in the file: equal to float32 precision.
		require.InDelta(t, w.meanTTFT, g.meanTTFT, 1e-4*math.Max(1, w.meanTTFT), hw)
	}

	var dates int
	require.NoError(t, db.QueryRow(fmt.Sprintf(`SELECT count(DISTINCT dt) FROM read_parquet('%s', hive_partitioning=true)`, pointsGlob)).Scan(&dates))
	require.Equal(t, 2, dates, "the dt partition column comes from the path")
}
