// Package examples holds the demo's files (the sweep, its simulated
// runners, settings and a nightly schedule) and builds them into the
// binary, so `infersweep demo` and `infersweep dev` work from any
// directory, not only from a checkout.
package examples

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed *.yaml
var files embed.FS

// Materialize writes the example files into dir (created if need be) and
// returns dir: the sweep reads them by path, like any user's files.
func Materialize(dir string) (string, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("examples: %w", err)
	}
	for _, e := range entries {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			return "", fmt.Errorf("examples: %w", err)
		}
	}
	return dir, nil
}

// Place writes the example files where a stack keeps its state
// (stateDir/examples), or into a temporary directory that cleanup
// removes when the stack keeps none, so demo and dev run from any
// directory.
func Place(stateDir string, ephemeral bool) (dir string, cleanup func(), err error) {
	if ephemeral {
		tmp, err := os.MkdirTemp("", "infersweep-examples-")
		if err != nil {
			return "", nil, err
		}
		dir, err = Materialize(tmp)
		return dir, func() { _ = os.RemoveAll(tmp) }, err
	}
	dir, err = Materialize(filepath.Join(stateDir, "examples"))
	return dir, func() {}, err
}

// Or is a file flag's value, or the path of the example name in dir. A
// flag naming a built-in example (examples/disagg.yaml) that is not a
// file here reads the built-in copy in dir: the demo's examples work from
// any directory.
func Or(flag, dir, name string) string {
	if flag == "" {
		return filepath.Join(dir, name)
	}
	if _, err := os.Stat(flag); err != nil {
		if _, builtIn := files.Open(filepath.Base(flag)); builtIn == nil {
			return filepath.Join(dir, filepath.Base(flag))
		}
	}
	return flag
}
