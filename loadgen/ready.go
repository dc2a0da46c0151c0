package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// WaitReady polls baseURL/health until it answers 200, then reads the
// served model id from /v1/models. It gives up when ctx ends, reporting
// the last thing the server said so a failed start can be diagnosed.
func WaitReady(ctx context.Context, client *http.Client, baseURL string, poll time.Duration) (string, error) {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	base := strings.TrimRight(baseURL, "/")
	last := "no answer yet"
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		status, err := get(ctx, client, base+"/health", nil)
		switch {
		case err == nil && status == http.StatusOK:
			var models struct {
				Data []struct {
					ID string `json:"id"`
				} `json:"data"`
			}
			status, err := get(ctx, client, base+"/v1/models", &models)
			if err != nil {
				return "", fmt.Errorf("%s/v1/models: %w", base, err)
			}
			if status != http.StatusOK || len(models.Data) == 0 {
				return "", fmt.Errorf("%s/v1/models: HTTP %d with %d models", base, status, len(models.Data))
			}
			return models.Data[0].ID, nil
		case err != nil && ctx.Err() != nil:
			// Keep what the server said before the deadline cut this poll.
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("HTTP %d", status)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s not ready (%v); last answer from /health: %s", base, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func get(ctx context.Context, client *http.Client, url string, into any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", url, err)
		}
	}
	return resp.StatusCode, nil
}
