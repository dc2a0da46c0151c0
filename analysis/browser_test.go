package analysis

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/analysis/analysistest"
)

// TestReportRendersInABrowser opens the report from file:// in headless
// Chromium at 1280 px and checks the screenshot has content and that each
// series' colour shows up as plotted points.
func TestReportRendersInABrowser(t *testing.T) {
	browser := analysistest.Chromium(t)
	lake := newMemLake()
	base := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	for i := range 4 {
		lake.AddNight(analysistest.Night{ID: fmt.Sprint("n", i), Date: base.AddDate(0, 0, i).Format(time.DateOnly), At: base.AddDate(0, 0, i),
			Factor: map[string]float64{"": 1 + 0.03*float64(i)}, Entry: "e"})
	}
	rep, err := Build(context.Background(), lake, "n3", Options{})
	require.NoError(t, err)
	dir := t.TempDir()
	page := filepath.Join(dir, "index.html")
	var html bytes.Buffer
	require.NoError(t, RenderHTML(&html, rep))
	require.NoError(t, os.WriteFile(page, html.Bytes(), 0o644))

	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1280,1600", "--screenshot="+shot, "file://"+page)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "chromium: %s", out)
	if keep := os.Getenv("INFERSWEEP_SCREENSHOT_DIR"); keep != "" {
		require.NoError(t, os.WriteFile(filepath.Join(keep, "report.png"), mustRead(t, shot), 0o644))
	}

	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	bounds := img.Bounds()
	require.Equal(t, 1280, bounds.Dx())
	inked := 0
	seriesPixels := map[string]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			r, g, b = r>>8, g>>8, b>>8
			if r < 240 || g < 240 || b < 240 {
				inked++
			}
			if hex := fmt.Sprintf("#%02x%02x%02x", r, g, b); hex == seriesColors[0] || hex == seriesColors[1] || hex == seriesColors[2] {
				seriesPixels[hex]++
			}
		}
	}
	total := bounds.Dx() * bounds.Dy()
	require.Greater(t, float64(inked)/float64(total), 0.02, "the page is blank")
	for _, c := range seriesColors[:3] {
		// A marker fills about 60 px; lines add more.
		require.Greater(t, seriesPixels[c], 300, "series colour %s barely appears: its points were not drawn", c)
	}
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func mustOpen(t *testing.T, path string) *os.File {
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}
