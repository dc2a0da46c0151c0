package simengine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

type generateRequest struct {
	Model    string          `json:"model"`
	Prompt   json.RawMessage `json:"prompt"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	IgnoreEOS           bool `json:"ignore_eos"`
	Stream              bool `json:"stream"`
	StreamOptions       struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	KVTransferParams *kvTransferParams `json:"kv_transfer_params"`
}

// Token counts for text, where no tokenizer is at hand: about four
// characters per token (OpenAI's rule of thumb for English), and for chat
// four template tokens per message plus three for the reply header, as
// Llama-3's template spends.
func textTokens(text string) int { return max(1, (len(text)+3)/4) }

func promptTokens(req *generateRequest, chat bool) (int, error) {
	if chat {
		if len(req.Messages) == 0 {
			return 0, errors.New("messages must not be empty")
		}
		n := 3
		for _, m := range req.Messages {
			n += 4 + textTokens(m.Content)
		}
		return n, nil
	}
	if len(req.Prompt) == 0 {
		return 0, errors.New("prompt is required")
	}
	var text string
	if err := json.Unmarshal(req.Prompt, &text); err == nil {
		return textTokens(text), nil
	}
	var ids []int
	if err := json.Unmarshal(req.Prompt, &ids); err == nil {
		if len(ids) == 0 {
			return 0, errors.New("prompt must not be empty")
		}
		return len(ids), nil
	}
	return 0, errors.New("prompt must be a string or a list of token ids (batched prompts are not simulated)")
}

// readGenerateRequest decodes and checks a completion request the way
// vLLM does, answering with vLLM's error when it refuses one, so that
// clients see the same failures as against a real engine. It returns the
// prompt's length and the completion's limit in tokens.
func (s *Server) readGenerateRequest(w http.ResponseWriter, r *http.Request, chat bool) (req generateRequest, prompt, maxTokens int, ok bool) {
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", "invalid JSON body: "+err.Error())
		return req, 0, 0, false
	}
	// Reading to EOF lets net/http watch the connection, so a client (or
	// router) that goes away cancels r's context and frees the sequence.
	_, _ = io.Copy(io.Discard, r.Body)
	if req.Model != s.cfg.ServedModelName {
		writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return req, 0, 0, false
	}
	prompt, err := promptTokens(&req, chat)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", err.Error())
		return req, 0, 0, false
	}
	maxLen := s.cfg.Engine.MaxModelLen
	maxTokens = 16 // vLLM's default for completions
	if chat {
		maxTokens = maxLen - prompt
	}
	for _, v := range []*int{req.MaxTokens, req.MaxCompletionTokens} {
		if v != nil {
			maxTokens = *v
		}
	}
	if maxTokens < 1 {
		writeError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("max_tokens must be at least 1, got %d.", maxTokens))
		return req, 0, 0, false
	}
	if prompt+maxTokens > maxLen {
		writeError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf(
			"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			maxLen, prompt+maxTokens, prompt, maxTokens))
		return req, 0, 0, false
	}
	return req, prompt, maxTokens, true
}
