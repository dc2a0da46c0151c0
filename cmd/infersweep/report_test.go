package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/analysis/analysistest"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// TestReportDashboardWritesOneFile writes the self-contained dashboard of
// a synthetic night and checks it inlines its scripts and its answers.
func TestReportDashboardWritesOneFile(t *testing.T) {
	seedLake(t)
	lake, err := openLake(context.Background())
	require.NoError(t, err)
	at := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	night := analysistest.Night{ID: "n1", Date: at.Format(time.DateOnly), At: at}
	require.NoError(t, night.Sweep().Write(context.Background(), lake))

	file := filepath.Join(t.TempDir(), "dashboard.html")
	tests := []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"report", "n1", "--dashboard", file, "--targets", "20,50"}, exitOK, "dashboard: file://" + file},
		{[]string{"report", "n1", "--dashboard", file, "--out", "r.html"}, exitUsage, "--out and --dashboard: write one file at a time"},
		{[]string{"report", "nope", "--dashboard", file}, exitFailure, `no committed sweep "nope"`},
	}
	for _, tc := range tests {
		code, stdout, stderr := runCLI(t, tc.args...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, stderr)
		require.Contains(t, stdout+stderr, tc.output, tc.args)
	}
	page, err := os.ReadFile(file)
	require.NoError(t, err)
	html := string(page)
	require.NotContains(t, html, "<script src=", "scripts are inlined")
	require.Contains(t, html, "Dash.drawScatter")
	// s1, seeded without interactivity, is an earlier sweep the file lists.
	require.Contains(t, html, `/api/v1/sweeps/s1/columns`)
	require.Contains(t, html, `/api/v1/trend?isl=1024\u0026model=dsr1\u0026osl=1024\u0026precision=fp8\u0026target=50`)
	require.NotContains(t, html, "target=100", "only the --targets asked for")
	require.Equal(t, 1, strings.Count(html, `<script id="dash-data"`))
}

// An agentic series prints its session frontier beside its interactivity
// one: throughput per GPU at the median seconds a whole session took.
func TestPrintReportShowsAgenticSessionFrontier(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	row := func(id string, tput, interactivity, sessionMs float64) results.PointRow {
		r := results.PointRow{PointID: id, Runner: "cluster.b200-dgxc", Framework: "sglang", Model: "m", Precision: "fp8",
			ScenarioType: sweep.ScenarioAgentic, Status: "succeeded", TputPerGPU: f(tput), Interactivity: f(interactivity)}
		r.SessionLatency.Median = f(sessionMs)
		return r
	}
	rows := []results.PointRow{row("c4", 800, 60, 61_500), row("c16", 2000, 35, 92_000), row("c8", 700, 50, 95_000)}
	rep := &analysis.Report{Manifest: results.Manifest{SweepID: "s1", Date: "2026-12-07"}, Rows: rows,
		Groups: analysis.Analyze(rows, sweep.DefaultSettings().Hardware, analysis.TierHyperscaler, []float64{50})}
	var out strings.Builder
	require.NoError(t, printReport(&out, rep))
	require.Contains(t, out.String(), "session frontier (tok/s/GPU@s per session, median): 800@61.5  2000@92.0\n")
	require.Contains(t, out.String(), "at 50 tok/s/user: cheapest cluster.b200-dgxc/sglang,")
}
