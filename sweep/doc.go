// Package sweep reads InferenceMAX master configs and runners files as they
// are, validates them (every error, each with file, line, column and the
// path inside the entry), and expands them into benchmark points the way
// InferenceMAX's own generator does. It knows nothing of Temporal.
package sweep
