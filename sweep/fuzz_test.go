package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseFiles feeds arbitrary bytes to the three file parsers: they
// must never panic, and every error must name the file it came from.
func FuzzParseFiles(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	for _, file := range []string{"../examples/runners.yaml", "../examples/settings.yaml"} {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(errs Errors) {
			for _, e := range errs {
				if e.File != "f.yaml" || !strings.HasPrefix(e.Error(), "f.yaml") {
					t.Fatalf("error without its file: %v", e)
				}
			}
		}
		entries, errs := ParseMaster("f.yaml", data)
		check(errs)
		runners, rerrs := ParseRunners("f.yaml", data)
		check(rerrs)
		_, serrs := ParseSettings("f.yaml", data)
		check(serrs)
		if len(errs) == 0 && len(rerrs) == 0 {
			// Whatever parses must expand without panicking.
			_ = CrossCheck(entries, runners, DefaultNodeHardware())
			_, _ = ExpandRows(entries, runners, DefaultNodeHardware(), Filters{AllEvals: true})
		}
	})
}
