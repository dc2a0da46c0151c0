package sweep

import (
	"os"
	"path/filepath"
)

// RecordUnder reads files as os.ReadFile does and keeps those under root
// by root-relative, slash-separated path: what a plan read of an upstream
// checkout (its entries' srt-slurm recipes, and the masters when they
// live there), for a control worker that has no checkout. The map fills
// as the returned reader reads.
func RecordUnder(root string) (read func(string) ([]byte, error), files map[string][]byte, err error) {
	files = map[string][]byte{}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, nil, err
	}
	return func(name string) ([]byte, error) {
		data, err := os.ReadFile(name)
		if err != nil {
			return data, err
		}
		if path, absErr := filepath.Abs(name); absErr == nil {
			if rel, relErr := filepath.Rel(abs, path); relErr == nil && filepath.IsLocal(rel) {
				files[filepath.ToSlash(rel)] = data
			}
		}
		return data, nil
	}, files, nil
}
