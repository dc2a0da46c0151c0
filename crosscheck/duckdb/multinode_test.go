package duckdb

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// denominatorsQuery lists the multinode rows whose per-GPU figures do not
// divide as InferenceX's process_result.py does (843c625, lines 201-234):
// total by all GPUs, input (total − output) by prefill GPUs, output by
// decode GPUs, or by all GPUs when there are none (aggregated).
const denominatorsQuery = `
	SELECT point_id FROM read_parquet('%s', hive_partitioning=true, union_by_name=true)
	WHERE coalesce(is_multinode, false) AND NOT (
	      abs(tput_per_gpu * (num_prefill_gpu + num_decode_gpu) - total_token_throughput) <= 1e-9 * total_token_throughput
	  AND abs(input_tput_per_gpu * num_prefill_gpu - (total_token_throughput - output_throughput)) <= 1e-9 * total_token_throughput
	  AND abs(output_tput_per_gpu * CASE WHEN num_decode_gpu > 0 THEN num_decode_gpu ELSE num_prefill_gpu + num_decode_gpu END
	          - output_throughput) <= 1e-9 * output_throughput)
	ORDER BY point_id`

func TestDuckDBChecksMultinodeDenominators(t *testing.T) {
	dir := t.TempDir()
	summary := loadgen.Summary{TotalTokenThroughput: 12000, OutputThroughput: 4000, MedianTPOTms: 20}
	workers := func(n, tp int, dpa bool) *sweep.Workers {
		return &sweep.Workers{NumWorker: n, TP: tp, PP: 1, EP: tp, DPAttn: dpa, DCPSize: 1, PCPSize: 1}
	}
	points := map[string]sweep.Point{
		"single":     {TP: 8, GPUs: 8},
		"disagg":     {Multinode: true, Disagg: true, Prefill: workers(1, 8, true), Decode: workers(2, 16, true), GPUs: 40, DeploymentID: "d1"},
		"aggregated": {Multinode: true, Prefill: workers(2, 16, false), Decode: workers(0, 8, false), GPUs: 32, DeploymentID: "d2"},
		"wrong":      {Multinode: true, Disagg: true, Prefill: workers(1, 8, true), Decode: workers(2, 16, true), GPUs: 40, DeploymentID: "d3"},
	}
	for id, pt := range points {
		row := results.PointRow{SweepID: "s1", PointID: id, Runner: "gb200", GPUs: int32(pt.GPUs), Status: "succeeded"}
		row.SetTopology(pt)
		row.SummaryFigures(summary)
		row.OutputThroughput, row.TotalTokenThroughput = f64(4000), f64(12000)
		if id == "wrong" { // output over all GPUs, as before the deployment columns
			row.OutputTputPerGPU = f64(4000.0 / 40)
		}
		data, err := results.Encode([]results.PointRow{row}, nil)
		require.NoError(t, err)
		write(t, dir, results.TableKey(results.TablePoints, "2026-11-27", "gb200", "s1", id), data)
	}
	// A file from before the columns: DuckDB reads them null there.
	old, err := os.ReadFile(filepath.Join("..", "..", "results", "testdata", "points-v1.parquet"))
	require.NoError(t, err)
	write(t, dir, results.TableKey(results.TablePoints, "2026-11-26", "sim-h100", "s0", "old"), old)

	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer db.Close()
	glob := filepath.Join(dir, "v1/points/**/*.parquet")

	rows, err := db.Query(fmt.Sprintf(denominatorsQuery, glob))
	require.NoError(t, err)
	var bad []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		bad = append(bad, id)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, []string{"wrong"}, bad, "only the row divided the old way fails")

	var multinode, decodeGPUs, nulls int
	var outputPerDecodeGPU float64
	require.NoError(t, db.QueryRow(fmt.Sprintf(`
		SELECT count(*) FILTER (WHERE is_multinode), sum(num_decode_gpu),
		       count(*) FILTER (WHERE num_prefill_gpu IS NULL),
		       max(output_tput_per_gpu) FILTER (WHERE point_id = 'disagg')
		FROM read_parquet('%s', hive_partitioning=true, union_by_name=true)`, glob)).Scan(&multinode, &decodeGPUs, &nulls, &outputPerDecodeGPU))
	require.Equal(t, 3, multinode)
	require.Equal(t, 32+0+32, decodeGPUs, "disagg 2×16, aggregated 0, wrong 2×16")
	require.Equal(t, 2, nulls, "the single-node row and the old file's")
	require.InDelta(t, 4000.0/32, outputPerDecodeGPU, 1e-9)
}

func f64(v float64) *float64 { return &v }

// TestDuckDBReadsTheDisaggregatedDemo checks the lake `infersweep demo
// --spec examples/disagg.yaml --export DIR` wrote (CI runs it and sets
// INFERSWEEP_DISAGG_LAKE): every row carries its deployment's topology,
// and its per-GPU figures divide as upstream's do.
func TestDuckDBReadsTheDisaggregatedDemo(t *testing.T) {
	dir := os.Getenv("INFERSWEEP_DISAGG_LAKE")
	if dir == "" {
		t.Skip("INFERSWEEP_DISAGG_LAKE names no exported demo lake (CI sets it)")
	}
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer db.Close()
	glob := filepath.Join(dir, "v1/points/**/*.parquet")
	rows, err := db.Query(fmt.Sprintf(denominatorsQuery, glob))
	require.NoError(t, err)
	var bad []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		bad = append(bad, id)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Empty(t, bad, "rows whose per-GPU figures do not divide as upstream's")

	type topology struct {
		points, prefillGPUs, decodeGPUs, nodes, deployments int
	}
	got := map[string]topology{}
	q, err := db.Query(fmt.Sprintf(`
		SELECT entry, count(*), max(num_prefill_gpu), max(num_decode_gpu), max(nodes), count(DISTINCT deployment_id)
		FROM read_parquet('%s', hive_partitioning=true, union_by_name=true)
		WHERE status = 'succeeded' AND is_multinode GROUP BY entry`, glob))
	require.NoError(t, err)
	for q.Next() {
		var entry string
		var tp topology
		require.NoError(t, q.Scan(&entry, &tp.points, &tp.prefillGPUs, &tp.decodeGPUs, &tp.nodes, &tp.deployments))
		got[entry] = tp
	}
	require.NoError(t, q.Err())
	require.Equal(t, map[string]topology{
		// 2 prefill + 1 decode workers of TP8, a node each; conc 4…128.
		"llama70b-fp8-h100-sim-disagg": {points: 4, prefillGPUs: 16, decodeGPUs: 8, nodes: 3, deployments: 1},
		// 2 aggregated workers of TP16, two nodes each: upstream counts
		// them as prefill GPUs.
		"llama70b-fp8-h100-sim-agg-multinode": {points: 3, prefillGPUs: 32, decodeGPUs: 0, nodes: 4, deployments: 1},
	}, got)
}
