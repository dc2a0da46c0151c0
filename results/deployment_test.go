package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/sweep"
)

func i32p(v int32) *int32 { return &v }

// multinodePoint is a deployment planned as sweep plans it, on nodes of
// eight GPUs.
func multinodePoint(prefill, decode sweep.Workers) sweep.Point {
	p := sweep.Point{ID: "p1", Multinode: true, Disagg: decode.NumWorker > 0, Prefill: &prefill, Decode: &decode, DeploymentID: "dep1"}
	p.GPUs = gpusOf(&prefill) + gpusOf(&decode)
	p.Roles = sweep.Shape(p.Prefill, p.Decode, func(string) int { return 8 })
	p.Nodes = sweep.Nodes(p.Roles)
	return p
}

var (
	disaggPoint = multinodePoint(
		sweep.Workers{NumWorker: 1, TP: 8, PP: 1, EP: 8, DPAttn: true, DCPSize: 1, PCPSize: 1},
		sweep.Workers{NumWorker: 2, TP: 16, PP: 1, EP: 16, DPAttn: true, DCPSize: 1, PCPSize: 1})
	aggregatedPoint = multinodePoint(
		sweep.Workers{NumWorker: 2, TP: 16, PP: 1, EP: 16, DCPSize: 1, PCPSize: 1},
		sweep.Workers{NumWorker: 0, TP: 8, PP: 1, EP: 8, DCPSize: 1, PCPSize: 1})
)

// Throughput per GPU divides as process_result.py does: a single-node
// row by its GPUs; a disaggregated one total by all GPUs, input by
// prefill GPUs, output by decode GPUs; an aggregated multinode one all
// three by all its GPUs (its decode has none, and its workers count as
// prefill).
func TestSummaryFiguresDivideAsInferenceX(t *testing.T) {
	summary := loadgen.Summary{TotalTokenThroughput: 12000, OutputThroughput: 4000, MedianTPOTms: 20}
	tests := []struct {
		name                string
		point               sweep.Point
		tput, input, output float64
		topology            string
	}{
		{"single-node TP8", sweep.Point{TP: 8, GPUs: 8}, 12000.0 / 8, 8000.0 / 8, 4000.0 / 8, ""},
		{"1P×8 GPUs + 2D×16 GPUs", disaggPoint, 12000.0 / 40, 8000.0 / 8, 4000.0 / 32, "1P (TP8/EP8/DPA) x 2D (TP16/EP16/DPA), 5 nodes"},
		{"aggregated 2×16 GPUs", aggregatedPoint, 12000.0 / 32, 8000.0 / 32, 4000.0 / 32, "2× (TP16/EP16) aggregated, 4 nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := PointRow{GPUs: int32(tt.point.GPUs)}
			row.SetTopology(tt.point)
			row.SummaryFigures(summary)
			require.Equal(t, f64(tt.tput), row.TputPerGPU)
			require.Equal(t, f64(tt.input), row.InputTputPerGPU)
			require.Equal(t, f64(tt.output), row.OutputTputPerGPU)
			require.Equal(t, f64(50), row.Interactivity)
			require.Equal(t, tt.topology, row.Topology)
		})
	}
}

// The columns carry upstream's values, including what it writes for an
// aggregated deployment's empty decode role.
func TestSetTopologyColumns(t *testing.T) {
	var row PointRow
	row.SetTopology(disaggPoint)
	d := row
	require.True(t, d.IsMultinode)
	require.Equal(t, "dep1", d.DeploymentID)
	require.Equal(t, []*int32{i32p(1), i32p(8), i32p(8), i32p(8), i32p(1)}, []*int32{d.PrefillNumWorkers, d.PrefillTP, d.PrefillEP, d.NumPrefillGPU, d.PrefillNodes})
	require.Equal(t, []*int32{i32p(2), i32p(16), i32p(16), i32p(32), i32p(4)}, []*int32{d.DecodeNumWorkers, d.DecodeTP, d.DecodeEP, d.NumDecodeGPU, d.DecodeNodes})
	require.Equal(t, i32p(5), d.Nodes)

	row = PointRow{}
	row.SetTopology(aggregatedPoint)
	d = row
	require.True(t, d.Aggregated())
	require.Equal(t, []*int32{i32p(2), i32p(16), i32p(32), i32p(4)}, []*int32{d.PrefillNumWorkers, d.PrefillTP, d.NumPrefillGPU, d.PrefillNodes})
	require.Equal(t, []*int32{i32p(0), i32p(0), i32p(0), i32p(1), i32p(0), i32p(0)},
		[]*int32{d.DecodeNumWorkers, d.DecodeTP, d.DecodeEP, d.DecodePP, d.NumDecodeGPU, d.DecodeNodes}, "process_result.py lines 207-213")

	row = PointRow{}
	row.SetTopology(sweep.Point{TP: 8, GPUs: 8})
	requireNullDeployment(t, row)
}

func TestDeploymentColumnsRoundTrip(t *testing.T) {
	var multi, single PointRow
	multi.PointID, single.PointID = "a", "b"
	multi.SetTopology(disaggPoint)
	data, err := Encode([]PointRow{multi, single}, nil)
	require.NoError(t, err)
	got, err := Decode[PointRow](bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	require.Equal(t, deploymentColumns(&multi), deploymentColumns(&got[0]))
	require.Equal(t, multi.Topology, got[0].Topology)
	requireNullDeployment(t, got[1])

	schema := parquet.SchemaOf(PointRow{})
	b, err := json.Marshal(multi)
	require.NoError(t, err)
	for _, col := range []string{"is_multinode", "deployment_id", "nodes", "prefill_num_workers", "prefill_tp", "prefill_pp", "prefill_dcp_size",
		"prefill_pcp_size", "prefill_ep", "prefill_dp_attention", "num_prefill_gpu", "prefill_nodes", "decode_num_workers", "decode_tp",
		"decode_pp", "decode_dcp_size", "decode_pcp_size", "decode_ep", "decode_dp_attention", "num_decode_gpu", "decode_nodes"} {
		_, ok := schema.Lookup(col)
		require.True(t, ok, "parquet column %s", col)
		require.Contains(t, string(b), `"`+col+`":`, "json key %s", col)
	}
}

// A points file written before the deployment columns reads with them
// null: its rows are single-node.
func TestOldPointsFileReadsWithoutDeploymentColumns(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "points-v1.parquet"))
	require.NoError(t, err)
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	_, has := f.Schema().Lookup("num_prefill_gpu")
	require.False(t, has, "the golden file predates the columns")
	rows, err := Decode[PointRow](bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	requireNullDeployment(t, rows[0])
	require.Equal(t, f64(1200), rows[0].TputPerGPU)
}

func deploymentColumns(r *PointRow) []any {
	return []any{r.IsMultinode, r.DeploymentID, r.Nodes, r.PrefillNumWorkers, r.PrefillTP, r.PrefillPP, r.PrefillDCPSize, r.PrefillPCPSize,
		r.PrefillEP, r.PrefillDPAttention, r.NumPrefillGPU, r.PrefillNodes, r.PrefillHW, r.DecodeNumWorkers, r.DecodeTP, r.DecodePP,
		r.DecodeDCPSize, r.DecodePCPSize, r.DecodeEP, r.DecodeDPAttention, r.NumDecodeGPU, r.DecodeNodes, r.DecodeHW}
}

// requireNullDeployment: a single-node row's deployment columns are
// null (false and "" for the two that are not nullable), never 0.
func requireNullDeployment(t *testing.T, r PointRow) {
	t.Helper()
	for i, v := range deploymentColumns(&r) {
		require.True(t, v == false || v == "" || reflect.ValueOf(v).IsNil(), "deployment column %d is %#v, want null", i, v)
	}
}
