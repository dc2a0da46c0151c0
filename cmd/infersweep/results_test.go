package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/devstack/s3store"
	"github.com/infersweep/infersweep/results"
)

// seedLake starts the dev store, points the environment at it and commits
// one sweep of two points.
func seedLake(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv, err := s3store.Start(l, "", "lake", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	cfg := results.S3Config{Endpoint: "http://" + l.Addr().String(), Region: "us-east-1", Bucket: "lake", PathStyle: true}
	for _, kv := range cfg.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")

	ctx := context.Background()
	client, err := results.NewS3Client(ctx, cfg, awsconfig.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}}))
	require.NoError(t, err)
	lake := results.NewLake(results.NewStore(client, "lake"))
	m := results.Manifest{SweepID: "s1", Date: "2026-11-27", Status: "complete", Counts: map[string]int{"succeeded": 2}}
	for i, hw := range []string{"sim-h100", "sim-h200"} {
		tput := 1000.0 * float64(i+1)
		pointID := "p" + hw
		data, err := results.Encode([]results.PointRow{{SweepID: "s1", PointID: pointID, Entry: "e-" + hw, Runner: hw, Conc: 8, TP: 8, GPUs: 8, Status: "succeeded", TputPerGPU: &tput}}, nil)
		require.NoError(t, err)
		key := results.TableKey(results.TablePoints, m.Date, hw, m.SweepID, pointID)
		require.NoError(t, lake.PutOnce(ctx, key, data, "application/vnd.apache.parquet"))
		m.Points = append(m.Points, results.ManifestPoint{PointID: pointID, Hardware: hw, Status: "succeeded", Keys: map[string]string{results.TablePoints: key}})
	}
	require.NoError(t, lake.WriteManifest(ctx, m))
}

func TestResultsCommands(t *testing.T) {
	seedLake(t)

	code, stdout, stderr := runCLI(t, "results", "ls", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	require.JSONEq(t, `[{"sweep_id":"s1","date":"2026-11-27","committed":true}]`, stdout)

	code, stdout, stderr = runCLI(t, "results", "show", "s1", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var points []map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &points))
	require.Len(t, points, 2)

	code, stdout, _ = runCLI(t, "results", "show", "s1")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "sweep s1 (2026-11-27), complete, 2 points")
	require.Contains(t, stdout, "n/a", "an unmeasured TTFT says so")

	dir := t.TempDir()
	code, _, stderr = runCLI(t, "results", "export", "s1", "--format", "csv", "--to", dir)
	require.Equal(t, exitOK, code, stderr)
	csvData, err := os.ReadFile(filepath.Join(dir, "s1", "points.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(csvData)), "\n")
	require.Len(t, lines, 3)
	require.Contains(t, lines[0], "ttft_ms.median")

	code, stdout, stderr = runCLI(t, "results", "export", "s1", "--format", "json", "--to", dir, "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	require.JSONEq(t, `{"sweep": "s1", "format": "json", "count": 2, "path": "`+filepath.Join(dir, "s1", "points.json")+`"}`, stdout)

	code, stdout, stderr = runCLI(t, "results", "pull", "--to", dir)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "pulled 1 sweeps (0 already mirrored, skipped), 3 files into "+dir+"\n", stdout)
	require.FileExists(t, filepath.Join(dir, "v1/points/dt=2026-11-27/hardware=sim-h200/sweep=s1/psim-h200.parquet"))
	require.FileExists(t, filepath.Join(dir, "v1/manifests/dt=2026-11-27/sweep=s1.json"))
	code, stdout, stderr = runCLI(t, "results", "pull", "--to", dir, "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	require.JSONEq(t, `{"dir": "`+dir+`", "sweeps": 1, "already_mirrored": 1, "files": 0}`, stdout, "the second pull finds it mirrored")

	code, stdout, stderr = runCLI(t, "report", "s1")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "sweep s1 (2026-11-27), 2 points")
	require.NotContains(t, stdout, "frontier", "the seeded rows carry no interactivity: nothing to plot, nothing invented")
	code, _, stderr = runCLI(t, "report", "s1", "--tier", "spot")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, `--tier "spot"`)

	code, _, stderr = runCLI(t, "results", "show", "nope")
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, `no committed sweep "nope"`)
	code, _, stderr = runCLI(t, "results", "export", "s1", "--format", "xlsx")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, `--format "xlsx": want parquet, csv or json`)
}
