package evals

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ServedMaxModelLen is the context the server lists for model in
// /v1/models (vLLM and SGLang report max_model_len there), or 0 where it
// lists none. Upstream sets EVAL_MAX_MODEL_LEN to the context it started
// the server with, so the served context is what its budget is taken
// from when a run does not say.
func ServedMaxModelLen(ctx context.Context, client *http.Client, baseURL, apiKey, model string) (int, error) {
	if client == nil {
		client = http.DefaultClient
	}
	url := strings.TrimRight(baseURL, "/") + "/v1/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var list struct {
		Data []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	for _, m := range list.Data {
		if m.ID == model {
			return m.MaxModelLen, nil
		}
	}
	return 0, nil
}
