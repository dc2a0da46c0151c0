package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/analysis/analysistest"
)

// browser starts headless Chromium for the test, its viewport width x
// height CSS px (a window can't be narrower than 500 px: a phone's
// width is emulated); it closes with the test.
func browser(t *testing.T, width, height int64) context.Context {
	path := analysistest.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("hide-scrollbars", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser: no timeout on it (see chromedp.Run).
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.EmulateViewport(width, height)))
	return ctx
}

// dashPage drives one dashboard tab.
type dashPage struct {
	t   *testing.T
	ctx context.Context
}

// drawn is what the page drew, read from the DOM and the timings it
// records on <html data-*>.
type drawn struct {
	Series       int      `json:"series"`
	Points       int      `json:"points"`
	Circles      int      `json:"circles"`
	Faded        int      `json:"faded"`
	Compared     int      `json:"compared"`
	Regressions  int      `json:"regressions"`
	XLabel       string   `json:"xlabel"`
	YLabel       string   `json:"ylabel"`
	Title        string   `json:"title"`
	Hash         string   `json:"hash"`
	Error        string   `json:"error"`
	Status       string   `json:"status"`
	Renders      int      `json:"renders"`
	Changes      int      `json:"changes"`
	FirstPaintMs float64  `json:"firstPaintMs"`
	UpdateMs     float64  `json:"updateMs"`
	RenderMs     float64  `json:"renderMs"`
	Diffs        []string `json:"diffs"`
	ChartWidth   float64  `json:"chartWidth"`
	PageWidth    float64  `json:"pageWidth"`
}

const readDrawn = `(() => {
  const d = document.documentElement.dataset, all = s => document.querySelectorAll(s), text = s => (document.querySelector(s) || {}).textContent || '';
  return {series: +(d.series || 0), points: +(d.points || 0), circles: all('#chart circle.pt').length, faded: all('#chart circle.faded').length,
    compared: all('#chart circle.cmp').length, regressions: all('#chart path.reg').length,
    xlabel: text('#chart .xlabel'), ylabel: text('#chart .ylabel'), title: text('#chart .title'), hash: location.hash, error: d.error || '', status: text('#status'),
    renders: +(d.renders || 0), changes: +(d.changes || 0), firstPaintMs: +(d.firstPaintMs || 0), updateMs: +(d.updateMs || 0), renderMs: +(d.renderMs || 0),
    diffs: [...all('#diffs tbody tr')].map(tr => [...tr.cells].map(c => c.textContent).join(' | ')),
    chartWidth: document.getElementById('chart').getBoundingClientRect().width, pageWidth: document.documentElement.scrollWidth};
})()`

func (p dashPage) read() drawn {
	p.t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](readDrawn))
	require.NoError(p.t, err)
	var d drawn
	require.NoError(p.t, json.Unmarshal(raw, &d))
	return d
}

// open loads url and waits for its first drawing.
func (p dashPage) open(url string) drawn {
	p.t.Helper()
	require.NoError(p.t, chromedp.Do(p.ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(url)))
	return p.waitDrawn(0)
}

// waitDrawn waits for a drawing that includes the first n changes.
func (p dashPage) waitDrawn(n int) drawn {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	poll := chromedp.Poll[bool](fmt.Sprintf(`(d => +(d.renders || 0) > 0 && +(d.drawn || 0) >= %d)(document.documentElement.dataset)`, n))
	_, err := chromedp.Run(ctx, poll)
	for try := 0; try < 3 && err != nil && strings.Contains(err.Error(), "Cannot find context with specified id"); try++ {
		// A navigation to file:// swaps the page's process under a
		// poll begun in the old one: poll the new one.
		_, err = chromedp.Run(ctx, poll)
	}
	require.NoError(p.t, err, "the dashboard did not draw")
	d := p.read()
	require.Empty(p.t, d.Error, "the dashboard reports an error")
	return d
}

// set changes a control as a user would and waits for the redraw.
func (p dashPage) set(key, value string) drawn {
	p.t.Helper()
	ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
  const el = document.querySelector('[data-key=%q]');
  el.value = %q;
  if (el.value !== %q) return false;
  el.dispatchEvent(new Event('change'));
  return true;
})()`, key, value, value)))
	require.NoError(p.t, err)
	require.True(p.t, ok, "%s has no option %q", key, value)
	return p.waitDrawn(p.read().Changes)
}

func (p dashPage) click(selector string) drawn {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).click(), true)`, selector)))
	require.NoError(p.t, err)
	return p.waitDrawn(p.read().Changes)
}

// hover points at the first drawn point and waits for its every field.
func (p dashPage) hover(wants string) string {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`(document.querySelector('#chart circle.pt').dispatchEvent(
  new MouseEvent('mouseover', {bubbles: true, clientX: 200, clientY: 200})), true)`))
	require.NoError(p.t, err)
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	tip, err := chromedp.Run(ctx, chromedp.Poll[string](fmt.Sprintf(`(t => t.includes(%q) && t)(document.getElementById('tip').textContent)`, wants)))
	require.NoError(p.t, err, "the tooltip never showed %q", wants)
	return tip
}

// screenshot keeps the page at width px as name.png and checks it.
func (p dashPage) screenshot(dir, name string, width int) {
	p.t.Helper()
	shot, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	require.NoError(p.t, err)
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(p.t, err)
	require.Equal(p.t, width, img.Bounds().Dx())
	path := filepath.Join(dir, name+".png")
	require.NoError(p.t, os.WriteFile(path, shot, 0o644))
	p.t.Logf("screenshot %s (%d x %d px)", path, img.Bounds().Dx(), img.Bounds().Dy())
}

// TestDashboardInABrowser drives the dashboard over three sweeps in
// headless Chromium as a user would: filters, axes, hover, compare mode,
// a shared link, the trend view, narrow screens and the exported file.
func TestDashboardInABrowser(t *testing.T) {
	lake := apiLake(t)
	srv := httptest.NewServer(New(lake, Config{}))
	t.Cleanup(srv.Close)
	p := dashPage{t, browser(t, 1280, 900)}
	shots := analysistest.ScreenshotDir(t)

	d := p.open(srv.URL + "/dashboard")
	require.Equal(t, 6, d.Series, "two models x three series of the newest sweep")
	require.Equal(t, 41, d.Points, "42 points, one failed")
	require.Equal(t, 41, d.Circles)
	require.Equal(t, "Throughput per GPU (tok/s/GPU)", d.YLabel)
	require.Equal(t, "Interactivity (tok/s/user)", d.XLabel)
	require.Contains(t, d.Title, "n2 (2026-11-26)")

	d = p.set("model", "llama-70b")
	require.Equal(t, []int{3, 21, 21, 3}, []int{d.Series, d.Points, d.Circles, d.Faded}, "series, points, circles, faded (conc 24 is dominated)")
	d = p.set("hardware", "h100")
	require.Equal(t, []int{2, 14}, []int{d.Series, d.Points})
	require.Contains(t, d.Hash, "model=llama-70b")
	require.Contains(t, d.Hash, "hardware=h100")

	switchAxes(t, p, 14)
	tip := p.hover("attempts")
	require.Contains(t, tip, "h100_0", "the hovered point's node, from its full row")
	require.Contains(t, tip, "engine_version")
	p.screenshot(shots, "dashboard-1280", 1280)

	d = p.set("cmp", "official")
	require.Equal(t, []int{2, 14, 0}, []int{d.Series, d.Points, d.Compared}, "no official nightly on n2's date: n2 alone")
	require.Contains(t, d.Status, "not compared: ")
	require.Contains(t, d.Status, "no official nightly (id nightly-...) on 2026-11-26 besides n2")

	d = p.set("cmp", "n1")
	require.Equal(t, []int{4, 28, 14}, []int{d.Series, d.Points, d.Compared}, "series, points, hollow points of n1")
	require.Contains(t, d.Title, "against n1 (2026-11-25)")
	require.Len(t, d.Diffs, 2*2, "two series at the targets their frontiers reach: 20 and 50 tok/s/user")
	require.True(t, slices.ContainsFunc(d.Diffs, func(row string) bool {
		return row == "llama-70b fp8 1024/1024 | h100/vllm | 20.0 | 3973 | 4674 | -15.0%"
	}), "h100/vllm 15%% slower on n2 than on n1 at 20 tok/s/user: %q", d.Diffs)

	shared := d.Hash
	d = p.open(srv.URL + "/dashboard" + shared)
	require.Equal(t, []int{4, 28, 14}, []int{d.Series, d.Points, d.Compared}, "the shared link %s draws the same view", shared)

	d = p.click(`#views button[data-view="trend"]`)
	require.Equal(t, 2, d.Series, "h100's two series of llama-70b")
	require.Equal(t, 6, d.Points, "three nights each")
	require.Equal(t, 1, d.Regressions, "h100/vllm on n2")
	require.Equal(t, "Throughput per GPU at 20 tok/s/user (tok/s/GPU)", d.YLabel)
	d = p.set("target", "50")
	require.Equal(t, "Throughput per GPU at 50 tok/s/user (tok/s/GPU)", d.YLabel)
	require.Equal(t, 1, d.Regressions)

	d = p.set("from", "2026-11-25")
	d = p.set("to", "2026-11-25")
	require.Contains(t, d.Hash, "sweep=n1", "the date range picks its newest sweep")
	require.Equal(t, []int{2, 2}, []int{d.Series, d.Points}, "the trend over one night")
	require.Zero(t, d.Regressions, "n2's regression is out of the range")

	narrow := dashPage{t, browser(t, 390, 844)}
	d = narrow.open(srv.URL + "/dashboard#model=llama-70b")
	require.Equal(t, 21, d.Points)
	require.LessOrEqual(t, d.PageWidth, 390.0, "nothing overflows a phone's width")
	require.LessOrEqual(t, d.ChartWidth, 390.0)
	narrow.screenshot(shots, "dashboard-390", 390)

	file := filepath.Join(t.TempDir(), "dashboard.html")
	var page bytes.Buffer
	require.NoError(t, WriteDashboard(context.Background(), &page, lake, "n2", Config{}))
	require.NoError(t, os.WriteFile(file, page.Bytes(), 0o644))
	d = p.open("file://" + file + "#model=llama-70b&cmp=n0")
	require.Equal(t, []int{6, 42}, []int{d.Series, d.Points}, "the exported file compares from its own data")
	require.Contains(t, p.hover("attempts"), "h100_0")
	d = p.click(`#views button[data-view="trend"]`)
	require.Equal(t, []int{3, 9, 1}, []int{d.Series, d.Points, d.Regressions}, "the trend at 20 tok/s/user is in the file: three series, three nights, n2's regression")
}

// switchAxes goes through every axis and tier, checking the labels drawn
// and that the points stay, and comes back to the default axes.
func switchAxes(t *testing.T, p dashPage, points int) {
	for _, tc := range []struct{ key, value, xlabel, ylabel string }{
		{"y", "cost", "Interactivity (tok/s/user)", "Cost per million tokens ($, hyperscaler)"},
		{"tier", "neocloud", "Interactivity (tok/s/user)", "Cost per million tokens ($, neocloud)"},
		{"y", "mw", "Interactivity (tok/s/user)", "Tokens/s per MW (all-in power)"},
		{"y", "jpt", "Interactivity (tok/s/user)", "Energy per token (J/token)"},
		{"x", "e2e", "Median end-to-end latency (ms)", "Energy per token (J/token)"},
		{"x", "inter", "Interactivity (tok/s/user)", "Energy per token (J/token)"},
		{"y", "tput", "Interactivity (tok/s/user)", "Throughput per GPU (tok/s/GPU)"},
	} {
		d := p.set(tc.key, tc.value)
		require.Equal(t, []string{tc.xlabel, tc.ylabel}, []string{d.XLabel, d.YLabel}, "%s=%s", tc.key, tc.value)
		require.Equal(t, points, d.Points, "%s=%s: every point has every figure", tc.key, tc.value)
	}
}
