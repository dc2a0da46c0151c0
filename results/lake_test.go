package results

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/devstack/s3store"
)

type backend struct {
	name  string
	store func(t *testing.T) *Store
}

// embeddedStore runs the dev store on a bbolt file, as `infersweep dev` does.
func embeddedStore(t *testing.T) *Store {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv, err := s3store.Start(l, filepath.Join(t.TempDir(), "s3.bolt"), "lake", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	cfg := S3Config{Endpoint: "http://" + l.Addr().String(), Region: "us-east-1", Bucket: "lake", PathStyle: true}
	return NewStore(clientWith(t, cfg, aws.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}), "lake")
}

// backends are the embedded store always, and the real S3 server when CI
// provides one.
func backends(t *testing.T) []backend {
	out := []backend{{"embedded", embeddedStore}}
	out = append(out, backend{"versitygw", func(t *testing.T) *Store {
		cfg, creds := realS3(t)
		c := clientWith(t, cfg, creds)
		_, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)})
		require.NoError(t, err)
		return NewStore(c, cfg.Bucket)
	}})
	return out
}

func writePoint(t *testing.T, lake *Lake, date, hw, sweepID, pointID string) ManifestPoint {
	t.Helper()
	ctx := context.Background()
	points, requests := goldenRows()
	points[0].SweepID, points[0].PointID = sweepID, pointID
	p, err := Encode(points, nil)
	require.NoError(t, err)
	r, err := Encode(requests, byIndex)
	require.NoError(t, err)
	keys := map[string]string{TablePoints: TableKey(TablePoints, date, hw, sweepID, pointID), TableRequests: TableKey(TableRequests, date, hw, sweepID, pointID)}
	require.NoError(t, lake.PutOnce(ctx, keys[TablePoints], p, "application/vnd.apache.parquet"))
	require.NoError(t, lake.PutOnce(ctx, keys[TableRequests], r, "application/vnd.apache.parquet"))
	return ManifestPoint{PointID: pointID, Hardware: hw, Status: "succeeded", Keys: keys}
}

func TestLakeRoundTripAndVisibility(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			lake := NewLake(b.store(t))
			require.NoError(t, lake.PutOnce(ctx, PlanKey("2026-11-26", "s0"), []byte(`{}`), "application/json"))
			require.NoError(t, lake.PutOnce(ctx, PlanKey("2026-11-27", "s1"), []byte(`{}`), "application/json"))
			mp := writePoint(t, lake, "2026-11-27", "sim-h100", "s1", "p1")

			// Before its manifest a sweep is visible only to those asking for running ones.
			refs, err := lake.Sweeps(ctx, "", "", false)
			require.NoError(t, err)
			require.Empty(t, refs)
			refs, err = lake.Sweeps(ctx, "2026-11-27", "", true)
			require.NoError(t, err)
			require.Equal(t, []SweepRef{{SweepID: "s1", Date: "2026-11-27"}}, refs, "date range skips the 26th")

			m := Manifest{SweepID: "s1", Date: "2026-11-27", Status: "complete", WrittenAt: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), Counts: map[string]int{"succeeded": 1}, Points: []ManifestPoint{mp}}
			require.NoError(t, lake.WriteManifest(ctx, m))
			refs, err = lake.Sweeps(ctx, "2026-11-27", "2026-11-27", false)
			require.NoError(t, err)
			require.Equal(t, []SweepRef{{SweepID: "s1", Date: "2026-11-27", Committed: true}}, refs)

			got, err := lake.Manifest(ctx, "s1")
			require.NoError(t, err)
			require.Equal(t, m, got)

			retried := m
			retried.WrittenAt = m.WrittenAt.Add(time.Minute)
			require.NoError(t, lake.WriteManifest(ctx, retried), "a retried commit of the same points succeeds")
			other := m
			other.Counts = map[string]int{"failed": 1}
			require.ErrorContains(t, lake.WriteManifest(ctx, other), "already commits sweep s1 with other points")
			got, err = lake.Manifest(ctx, "s1")
			require.NoError(t, err)
			require.Equal(t, m, got, "the first commit stands")
			points, err := lake.Points(ctx, got)
			require.NoError(t, err)
			require.Len(t, points, 1)
			require.Equal(t, "p1", points[0].PointID)
			between, err := lake.PointsBetween(ctx, "2026-11-27", "2026-11-27")
			require.NoError(t, err)
			require.Equal(t, points, between)
			none, err := lake.PointsBetween(ctx, "2026-11-28", "")
			require.NoError(t, err)
			require.Empty(t, none)
			requests, err := lake.Requests(ctx, mp.Keys[TableRequests])
			require.NoError(t, err)
			require.Len(t, requests, 2)

			_, err = lake.Manifest(ctx, "nope")
			require.ErrorIs(t, err, ErrNoSweep)

			missing := m
			missing.SweepID, missing.Points = "s2", []ManifestPoint{{PointID: "p9", Keys: map[string]string{TablePoints: "v1/points/dt=2026-11-27/hardware=x/sweep=s2/p9.parquet"}}}
			require.ErrorContains(t, lake.WriteManifest(ctx, missing), "manifest of sweep s2 lists points file v1/points/dt=2026-11-27/hardware=x/sweep=s2/p9.parquet")
		})
	}
}

func TestPutOnceIsWriteOnce(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			lake := NewLake(b.store(t))
			key := TableKey(TablePoints, "2026-11-27", "h100", "s1", "p1")
			require.NoError(t, lake.PutOnce(ctx, key, []byte("first"), "text/plain"))
			require.NoError(t, lake.PutOnce(ctx, key, []byte("first"), "text/plain"), "a retried write of the same bytes succeeds")
			err := lake.PutOnce(ctx, key, []byte("second"), "text/plain")
			require.ErrorContains(t, err, key+" already holds different content (sha256 a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e there, 16367aacb67a4a017c8da8ab95682ccb390863780f7114dda0a0e0c55644c7c4 now)")
			body, err := lake.store.Get(ctx, key)
			require.NoError(t, err)
			require.Equal(t, "first", string(body))
		})
	}
}

func TestListingPagesWithMaxKeys2(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			store := b.store(t)
			for i := range 5 {
				require.NoError(t, store.Put(ctx, "v1/manifests/dt=2026-11-2"+strconv.Itoa(i)+"/sweep=s.json", []byte("{}"), "application/json"))
			}
			objects, err := store.WithPageSize(2).List(ctx, "v1/manifests/")
			require.NoError(t, err)
			require.Len(t, objects, 5)
			// Keys of the 22nd sort after "dt=2026-11-22": the day is included.
			after, err := store.WithPageSize(2).ListAfter(ctx, "v1/manifests/", "v1/manifests/dt=2026-11-22")
			require.NoError(t, err)
			require.Len(t, after, 3)
			require.Equal(t, "v1/manifests/dt=2026-11-22/sweep=s.json", after[0].Key)
		})
	}
}

func TestKilledUploadLeavesNoObject(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			store := b.store(t)
			// The client promises 1 MB and dies after 1 kB.
			body := &dyingReader{left: 1 << 10}
			_, err := store.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(store.bucket), Key: aws.String("torn.parquet"), Body: body, ContentLength: aws.Int64(1 << 20)})
			require.Error(t, err)
			objects, err := store.List(ctx, "torn")
			require.NoError(t, err)
			require.Empty(t, objects, "a torn upload must not become visible")
		})
	}
}

type dyingReader struct{ left int }

func (d *dyingReader) Read(p []byte) (int, error) {
	if d.left <= 0 {
		return 0, fmt.Errorf("writer killed")
	}
	n := min(len(p), d.left)
	d.left -= n
	return n, nil
}

// TestColumnProjectionReadsFewBytes reads 4 columns of a 1M-row requests
// file through ranged GETs and checks it fetched under 10% of the file.
func TestColumnProjectionReadsFewBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1M-row file")
	}
	ctx := context.Background()
	store := embeddedStore(t)
	// Realistic shapes: jittered latencies, 32 ITLs per request (a short
	// answer; real ones have hundreds, which only lowers the fraction).
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([]RequestRow, 1_000_000)
	itls := make([]float32, 32*len(rows))
	for i := range rows {
		ttft, e2el := 50+r.Float32()*500, 2000+r.Float32()*3000
		rows[i] = RequestRow{PointID: "p", Index: int32(i), SendTimeMs: float64(i) * 1.7, TTFTms: &ttft, E2ELms: &e2el, InputTokens: 1024, OutputTokens: 33,
			ITLms: itls[32*i : 32*i+32 : 32*i+32]}
		for j := range rows[i].ITLms {
			rows[i].ITLms[j] = 15 + r.Float32()*10
		}
	}
	data, err := Encode(rows, nil)
	require.NoError(t, err)
	require.NoError(t, store.Put(ctx, "big.parquet", data, "application/vnd.apache.parquet"))

	ranged, err := store.OpenRange(ctx, "big.parquet")
	require.NoError(t, err)
	f, err := parquet.OpenFile(ranged, ranged.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	require.NoError(t, err)
	var values int64
	for _, name := range []string{"point_id", "ttft_ms", "e2el_ms", "output_tokens"} {
		col, ok := f.Schema().Lookup(name)
		require.True(t, ok, name)
		chunk := f.RowGroups()[0].ColumnChunks()[col.ColumnIndex]
		pages := chunk.Pages()
		for {
			page, err := pages.ReadPage()
			if err != nil {
				break
			}
			values += page.NumValues()
		}
		require.NoError(t, pages.Close())
	}
	require.EqualValues(t, 4_000_000, values)
	fraction := float64(ranged.Bytes.Load()) / float64(len(data))
	t.Logf("read %d of %d bytes (%.1f%%) in %d GETs", ranged.Bytes.Load(), len(data), 100*fraction, ranged.Gets.Load())
	require.Less(t, fraction, 0.10)
}

func TestRequestTPOTReadsOneColumn(t *testing.T) {
	ctx := context.Background()
	lake := NewLake(embeddedStore(t))
	mp := writePoint(t, lake, "2026-11-27", "sim-h100", "s1", "p1")
	_, requests := goldenRows()
	var want []float64
	for _, r := range requests {
		if r.TPOTms != nil {
			want = append(want, float64(*r.TPOTms))
		}
	}
	require.NotEmpty(t, want)
	got, err := lake.RequestTPOT(ctx, mp.Keys[TableRequests])
	require.NoError(t, err)
	require.Equal(t, want, got)

	_, err = lake.Frontiers(ctx, SweepRef{SweepID: "s1", Date: "2026-11-27"})
	require.ErrorIs(t, err, ErrNotFound, "a sweep never analysed")
}
