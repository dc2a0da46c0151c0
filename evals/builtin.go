package evals

import (
	"embed"
	"strings"
)

// The generated sets ship inside the binary so that default settings can
// name them wherever infersweep runs: a demo sweep evaluates its
// simulated engines without any file beside it.
//
//go:embed testdata/arithmetic-200.jsonl testdata/arithmetic-fewshot.jsonl testdata/gpqa-shaped-40.jsonl
var builtin embed.FS

// BuiltinPrefix marks a dataset name that is one of the shipped sets:
// builtin:arithmetic-200.jsonl, builtin:arithmetic-fewshot.jsonl,
// builtin:gpqa-shaped-40.jsonl.
const BuiltinPrefix = "builtin:"

// Builtin returns a shipped set's bytes; ok is false for other names.
func Builtin(name string) (data []byte, ok bool) {
	file, found := strings.CutPrefix(name, BuiltinPrefix)
	if !found || strings.Contains(file, "/") {
		return nil, false
	}
	data, err := builtin.ReadFile("testdata/" + file)
	return data, err == nil
}
