// Package sweep reads InferenceX's master configs, runners.yaml and
// perf-changelog.yaml as they are, validates them as upstream's
// validation does (every error, each with file, line, column and the path
// inside the entry), and expands them into upstream's matrix rows exactly
// as its generator does, then into benchmark points: one per concurrency,
// the points of one multinode deployment sharing its id. It knows nothing
// of Temporal.
package sweep
