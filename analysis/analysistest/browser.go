package analysistest

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium finds a headless-capable browser for tests that render pages.
// Outside CI a machine without one skips the test; in CI (CI=true) a
// missing browser fails it: .ci/run installs Debian's chromium.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium): pages are not rendered in a browser")
	return ""
}

// ScreenshotDir is where browser tests keep their screenshots: the
// folder INFERSWEEP_SCREENSHOT_DIR names (CI uploads it), else a
// temporary one.
func ScreenshotDir(t testing.TB) string {
	if dir := os.Getenv("INFERSWEEP_SCREENSHOT_DIR"); dir != "" {
		return dir
	}
	return t.TempDir()
}
