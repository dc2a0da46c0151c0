package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// FirstError is an example message of the most common failure, to say
// why a run failed in one line.
func (s Summary) FirstError() string {
	reasons := s.ErrorReasons()
	if len(reasons) == 0 {
		return "unknown"
	}
	return s.ErrorExamples[reasons[0]]
}

// WriteFile writes the summary as the result file InferenceX's tools read
// (vLLM's and InferenceX's key names).
func (s Summary) WriteFile(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write result file: %w", err)
	}
	return nil
}

// FindModel waits up to wait for baseURL to answer /health and returns
// model; with no model it returns the first one the server lists, waiting
// at least 5 s for it.
func FindModel(ctx context.Context, baseURL, model string, wait time.Duration) (string, error) {
	if model != "" && wait <= 0 {
		return model, nil
	}
	if model == "" {
		wait = max(wait, 5*time.Second)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	served, err := WaitReady(ctx, nil, baseURL, 500*time.Millisecond)
	if err != nil && model == "" {
		return "", fmt.Errorf("find the served model (or pass --model): %w", err)
	}
	if model == "" {
		model = served
	}
	return model, err
}
