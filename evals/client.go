package evals

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// completer asks an OpenAI-compatible server for one completion, with the
// body lm-eval's local-completions model sends for generate_until.
type completer struct {
	client *http.Client
	url    string
	apiKey string
	model  string
}

type completionRequest struct {
	Model       string   `json:"model"`
	Prompt      string   `json:"prompt"`
	MaxTokens   int      `json:"max_tokens"`
	Temperature float64  `json:"temperature"`
	Stop        []string `json:"stop"`
	// Seed is lm-eval's fixed 1234, so servers that sample anyway sample
	// the same way every run.
	Seed int `json:"seed"`
}

// attempts: lm-eval's API models retry a failed request (max_retries 3);
// a transient 5xx or dropped connection should not void a long run.
const attempts = 3

func (c completer) complete(ctx context.Context, prompt string, t Task) (string, error) {
	body, err := json.Marshal(completionRequest{Model: c.model, Prompt: prompt, MaxTokens: t.MaxTokens, Stop: t.Until, Seed: 1234})
	if err != nil {
		return "", err
	}
	var last error
	for try := range attempts {
		if try > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(try) * 250 * time.Millisecond):
			}
		}
		text, retry, err := c.post(ctx, body)
		if err == nil || !retry {
			return text, err
		}
		last = err
	}
	return "", fmt.Errorf("%d attempts: %w", attempts, last)
}

// post sends one request; retry says whether another try may succeed.
func (c completer) post(ctx context.Context, body []byte) (text string, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return "", ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", true, err
	}
	if resp.StatusCode != http.StatusOK {
		retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		return "", retry, fmt.Errorf("POST %s: %s: %s", c.url, resp.Status, strings.TrimSpace(string(raw)))
	}
	var out struct {
		Choices []struct {
			Text string `json:"text"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", false, fmt.Errorf("POST %s: decode the completion: %w", c.url, err)
	}
	if len(out.Choices) == 0 {
		return "", false, fmt.Errorf("POST %s: the completion has no choices", c.url)
	}
	return out.Choices[0].Text, false, nil
}
