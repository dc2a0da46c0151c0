package analysis

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/analysis/analysistest"
)

// memLake is the analysis tests' name for the in-memory lake.
type memLake = analysistest.MemLake

func newMemLake() *memLake { return analysistest.NewMemLake() }

func TestBuildFindsAPlantedRegression(t *testing.T) {
	lake := newMemLake()
	base := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	for i := range 7 {
		lake.AddNight(analysistest.Night{ID: fmt.Sprint("n", i), Date: base.AddDate(0, 0, i).Format(time.DateOnly), At: base.AddDate(0, 0, i),
			Factor: map[string]float64{"": 1 + 0.01*math.Sin(float64(i))}, Entry: "e"})
	}
	// Two sweeps on the last night: the later one carries the drop.
	last := base.AddDate(0, 0, 7)
	lake.AddNight(analysistest.Night{ID: "tonight-a", Date: last.Format(time.DateOnly), At: last, Factor: map[string]float64{"": 1}, Entry: "e"})
	lake.AddNight(analysistest.Night{ID: "tonight-b", Date: last.Format(time.DateOnly), At: last.Add(time.Hour), Factor: map[string]float64{"h100/sglang": 0.88}, Entry: "e"})
	// One earlier sweep was analysed and stored its frontiers: Build reads those.
	rep0, err := Build(context.Background(), lake, "n0", Options{})
	require.NoError(t, err)
	lake.FrontiersByID["n0"] = FrontierRows("n0", rep0.Groups)

	rep, err := Build(context.Background(), lake, "tonight-b", Options{})
	require.NoError(t, err)
	require.Len(t, rep.History, 8, "seven nights and the earlier sweep of the same night")
	require.Equal(t, "tonight-a", rep.History[0].SweepID, "newest first")
	require.Len(t, rep.Groups, 2)

	verdicts := map[string]int{}
	for _, r := range rep.Regressions {
		verdicts[r.Series+" "+r.Verdict]++
		if r.Series == "h100/sglang" && r.Verdict == VerdictRegression {
			require.InDelta(t, -12, *r.ChangePct, 0.8)
			require.Equal(t, "tonight-a", r.BaselineSweep)
			require.NotNil(t, r.PValue)
			require.Less(t, *r.PValue, 1e-6, "TPOT samples 12%% apart")
		}
	}
	require.Zero(t, verdicts["h100/vllm "+VerdictRegression])
	require.Zero(t, verdicts["mi355x/vllm "+VerdictRegression])
	require.Positive(t, verdicts["h100/sglang "+VerdictRegression])
	require.Positive(t, lake.TPOTReads)

	require.Len(t, rep.Health, 2)
	require.Equal(t, PoolHealth{Runner: "h100", Points: 28, Succeeded: 28, SuccessPct: 100, Nodes: []string{"h100_00", "h100_01"},
		MedianPointS: ptr(40.0)}, rep.Health[0])
	require.Equal(t, 1, rep.Health[1].Failed)
	require.Equal(t, 2, rep.Health[1].Retries)

	var trend *Trend
	for i, tr := range rep.Trends {
		if tr.Series == "h100/sglang" && tr.Model == "dsr1" && tr.Target == 20 {
			trend = &rep.Trends[i]
		}
	}
	require.NotNil(t, trend)
	require.Len(t, trend.Values, 9, "every sweep up to tonight, oldest first")
	require.Equal(t, "n0", trend.Values[0].SweepID)
	require.Equal(t, "tonight-b", trend.Values[8].SweepID)
}

func ptr(v float64) *float64 { return &v }

func TestReportEscapesHostileNames(t *testing.T) {
	lake := newMemLake()
	hostile := `<script>alert(1)</script>`
	lake.AddNight(analysistest.Night{ID: "s1", Date: "2026-11-27", At: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), Entry: hostile})
	rep, err := Build(context.Background(), lake, "s1", Options{})
	require.NoError(t, err)
	var page bytes.Buffer
	require.NoError(t, RenderHTML(&page, rep))
	html := page.String()
	require.NotContains(t, html, "<script")
	require.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.NotContains(t, html, "http://", "nothing is fetched")
	require.NotContains(t, html, "https://")
	// Two scatter charts per group, frontiers drawn, dominated points faded.
	require.Equal(t, 2*2, strings.Count(html, "<figcaption>Throughput per GPU vs"))
	require.Equal(t, 2*(2*3*7-1), strings.Count(html, " · TP 8 EP 1 · "), "every succeeded point in both planes, with its config")
	require.Contains(t, html, `class="faded"`)
	require.Contains(t, html, "engine died mid-load")
}
