package results

import (
	"bytes"
	"cmp"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/loadgen"
)

func f64(v float64) *float64 { return &v }
func f32(v float32) *float32 { return &v }

func byIndex(a, b RequestRow) int { return cmp.Compare(a.Index, b.Index) }

func TestRequestRowsRoundTrip(t *testing.T) {
	records := []loadgen.Record{
		{Index: 1, SendTime: 5 * time.Millisecond, TTFT: 40 * time.Millisecond, E2EL: 100 * time.Millisecond, ITLs: []uint32{20_000, 40_000}, InputTokens: 10, OutputTokens: 3, UsageReported: true},
		{Index: 0, SendTime: 0, Err: "HTTP 500", InputTokens: 10},
	}
	rows := RequestRows("p1", records)
	data, err := Encode(rows, byIndex)
	require.NoError(t, err)
	got, err := Decode[RequestRow](bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.EqualValues(t, 0, got[0].Index, "rows are sorted before writing")
	require.Nil(t, got[0].TTFTms, "a failed request has no TTFT: null, not 0")
	require.Equal(t, "HTTP 500", got[0].Error)
	require.Equal(t, f32(40), got[1].TTFTms)
	require.Equal(t, f32(30), got[1].TPOTms, "(100 − 40) / (3 − 1)")
	require.Equal(t, []float32{20, 40}, got[1].ITLms)
}

func TestRequestRowsCarrySessionAndTurn(t *testing.T) {
	tests := []struct {
		name        string
		record      loadgen.Record
		wantSession *string
		wantTurn    *int32
	}{
		{"replayed turn", loadgen.Record{Index: 3, SessionID: "s0007#1", Turn: 12, OutputTokens: 1}, ptr("s0007#1"), ptr[int32](12)},
		{"first turn is 0, not null", loadgen.Record{Index: 4, SessionID: "s0008", Turn: 0, OutputTokens: 1}, ptr("s0008"), ptr[int32](0)},
		{"random load", loadgen.Record{Index: 5, OutputTokens: 1}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Encode(RequestRows("p", []loadgen.Record{tt.record}), nil)
			require.NoError(t, err)
			got, err := Decode[RequestRow](bytes.NewReader(data), int64(len(data)))
			require.NoError(t, err)
			require.Equal(t, tt.wantSession, got[0].SessionID)
			require.Equal(t, tt.wantTurn, got[0].Turn)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecodeRefusesOtherSchemaVersions(t *testing.T) {
	// A file without the version key: what a writer other than Encode makes.
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[RequestRow](&buf)
	_, err := w.Write([]RequestRow{{PointID: "p", Index: 1}})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	data := buf.Bytes()
	_, err = Decode[RequestRow](bytes.NewReader(data), int64(len(data)))
	require.ErrorContains(t, err, `parquet file has schema version "", this build reads "1"`)
}

var update = flag.Bool("update", false, "rewrite the schema-version golden files in testdata")

// goldenRows are what the v1 golden files hold.
func goldenRows() ([]PointRow, []RequestRow) {
	start := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	points := []PointRow{{SweepID: "s1", PointID: "64af2c1ab83bc53b", Entry: "llama70b-fp8-h100-sim", Model: "meta-llama/Llama-3.3-70B-Instruct",
		Precision: "fp8", Framework: "sim", Runner: "sim-h100", TP: 8, GPUs: 8, ISL: 1024, OSL: 1024, Conc: 4, Status: "succeeded",
		Start: start, End: start.Add(time.Minute), TputPerGPU: f64(1200), TTFT: Dist{Median: f64(55)}, TimeScale: 1, TimeBasis: loadgen.TimeBasisWall}}
	requests := RequestRows("64af2c1ab83bc53b", []loadgen.Record{
		{Index: 0, Err: "HTTP 500"},
		{Index: 1, TTFT: 40 * time.Millisecond, E2EL: 100 * time.Millisecond, ITLs: []uint32{20_000, 40_000}, OutputTokens: 3},
	})
	return points, requests
}

func TestWriteGoldenFiles(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the golden files (only when bumping SchemaVersion)")
	}
	points, requests := goldenRows()
	p, err := Encode(points, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("testdata", "points-v"+SchemaVersion+".parquet"), p, 0o644))
	r, err := Encode(requests, byIndex)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("testdata", "requests-v"+SchemaVersion+".parquet"), r, 0o644))
}

// TestGoldenV1FilesStayReadable reads files written by schema version 1:
// a change that breaks them breaks every lake already written.
func TestGoldenV1FilesStayReadable(t *testing.T) {
	for _, name := range []string{"points-v1.parquet", "requests-v1.parquet"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		switch name {
		case "points-v1.parquet":
			rows, err := Decode[PointRow](bytes.NewReader(data), int64(len(data)))
			require.NoError(t, err)
			require.Len(t, rows, 1)
			require.Equal(t, "llama70b-fp8-h100-sim", rows[0].Entry)
			require.Equal(t, f64(1200), rows[0].TputPerGPU)
			require.Nil(t, rows[0].AvgPowerW)
		case "requests-v1.parquet":
			rows, err := Decode[RequestRow](bytes.NewReader(data), int64(len(data)))
			require.NoError(t, err)
			require.Len(t, rows, 2)
			require.Equal(t, []float32{20, 40}, rows[1].ITLms)
			require.Nil(t, rows[1].SessionID, "written before session_id existed: null")
			require.Nil(t, rows[1].Turn)
		}
	}
}

// BenchmarkEncodeRequestRows: target ≥ 1,000,000 rows/s for the summary
// columns and ≥ 10 million ITL values/s.
func BenchmarkEncodeRequestRows(b *testing.B) {
	for _, itls := range []int{0, 100} {
		rows := make([]RequestRow, 100_000)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range rows {
			rows[i] = RequestRow{PointID: "p", Index: int32(i), SendTimeMs: float64(i), TTFTms: f32(r.Float32() * 100), E2ELms: f32(r.Float32() * 1000),
				TPOTms: f32(r.Float32() * 10), InputTokens: 1024, OutputTokens: 1024, UsageReported: true}
			rows[i].ITLms = make([]float32, itls)
			for j := range rows[i].ITLms {
				rows[i].ITLms[j] = r.Float32() * 20
			}
		}
		b.Run(map[int]string{0: "summary-columns", 100: "with-100-itls"}[itls], func(b *testing.B) {
			for b.Loop() {
				if _, err := Encode(rows, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			if itls > 0 {
				b.ReportMetric(float64(len(rows)*itls)*float64(b.N)/b.Elapsed().Seconds(), "itl-values/s")
			}
		})
	}
}

// BenchmarkEncodeOnePointRow is the write every measured point makes: a
// file of one wide row, where writer setup, not data, is the cost.
func BenchmarkEncodeOnePointRow(b *testing.B) {
	tput := 1234.5
	row := PointRow{SweepID: "s", PointID: "p", TputPerGPU: &tput}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode([]PointRow{row}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
