// Package specyaml reads the YAML files a user writes for infersweep
// (master configs, runners, settings, schedules, and engine recipes to
// come) so that all of them report problems one way: every problem of a
// file at once, each at file:line:col with the path of the field, so a
// user fixes a file in one pass and an editor jumps to each line.
// Its Error also names problems of line-oriented files a user gives
// (agentic traces, JSONL): file:line, with the field.
//
// yaml.v3 alone stops at the first type error of a mapping and reports
// unknown fields as text without a path; parsing that text (as settings
// once did) loses lines. Here the node tree is walked instead: the
// hand-written readers of sweep use Reporter's field helpers, and files
// that map onto tagged structs use Reporter.Decode.
package specyaml
