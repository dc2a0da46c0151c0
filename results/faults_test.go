package results

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/devstack/s3store"
)

// TestLakeSurvivesAFlakyStore writes and reads through a store that fails
// 10% of requests (twice the chaos suite's rate), half of them after the write took effect: every object
// lands once with its bytes, write-once holds, and the manifest commits.
func TestLakeSurvivesAFlakyStore(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	faults := &s3store.Faults{Rate: 0.1, Seed: 7}
	srv, err := s3store.Start(l, "", "lake", slog.New(slog.DiscardHandler), faults)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	cfg := S3Config{Endpoint: "http://" + l.Addr().String(), Region: "us-east-1", Bucket: "lake", PathStyle: true}
	lake := NewLake(NewStore(clientWith(t, cfg, aws.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}), "lake"))
	ctx := context.Background()

	var mps []ManifestPoint
	for i := range 60 {
		id := fmt.Sprintf("p%02d", i)
		mps = append(mps, writePoint(t, lake, "2026-11-27", "sim-h100", "s1", id))
	}
	m := Manifest{SweepID: "s1", Date: "2026-11-27", Status: "complete", WrittenAt: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC),
		Counts: map[string]int{"succeeded": 60}, Points: mps}
	require.NoError(t, lake.WriteManifest(ctx, m))
	got, rows, err := lake.SweepPoints(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, m, got)
	require.Len(t, rows, 60)
	seen := map[string]bool{}
	for _, r := range rows {
		require.False(t, seen[r.PointID], "point %s twice", r.PointID)
		seen[r.PointID] = true
	}
	refused, lost := faults.Injected()
	t.Logf("faults injected: %d refused, %d replies lost", refused, lost)
	require.Positive(t, refused)
	require.Positive(t, lost, "some writes took effect and their replies were lost: retries met their own objects")
}
