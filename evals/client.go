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

// completer asks an OpenAI-compatible server for one generation, with
// the body lm-eval's local-completions or local-chat-completions model
// sends for generate_until.
type completer struct {
	client    *http.Client
	url       string
	apiKey    string
	model     string
	api       API
	maxTokens int
	stop      []string
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

// request is one document's body and the prompt text its sample's hash
// is taken over: the text prompt, or the chat history's JSON.
func (c completer) request(t Task, shots []Doc, doc Doc) (body []byte, prompt string, err error) {
	if c.api == APIChat {
		msgs := t.Messages(shots, doc)
		return chatBody(msgs, c.model, c.maxTokens, c.stop), messagesJSON(msgs), nil
	}
	prompt = t.Prompt(shots, doc)
	body, err = json.Marshal(completionRequest{Model: c.model, Prompt: prompt, MaxTokens: c.maxTokens, Stop: c.stop, Seed: 1234})
	return body, prompt, err
}

func (c completer) complete(ctx context.Context, body []byte) (string, error) {
	attempts := c.api.attempts()
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
	parse := parseCompletion
	if c.api == APIChat {
		parse = parseChat
	}
	if text, err = parse(raw); err != nil {
		return "", false, fmt.Errorf("POST %s: %w", c.url, err)
	}
	return text, false, nil
}
