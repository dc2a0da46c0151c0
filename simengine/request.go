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

// promptTokens counts the prompt's tokens and, when hash is set, keys
// its full blocks for the prefix cache: token ids as vLLM hashes them,
// text (a chat's messages, role and content in order) by its bytes as a
// stand-in, so a turn that repeats the earlier turns shares their blocks.
func promptTokens(req *generateRequest, chat, hash bool) (int, []uint64, error) {
	if chat {
		if len(req.Messages) == 0 {
			return 0, nil, errors.New("messages must not be empty")
		}
		n := 3
		var text []byte
		for _, m := range req.Messages {
			n += 4 + textTokens(m.Content)
			if hash {
				text = append(append(append(append(text, m.Role...), '\n'), m.Content...), '\n')
			}
		}
		if !hash {
			return n, nil, nil
		}
		return n, hashTextBlocks(text, n/BlockSize), nil
	}
	if len(req.Prompt) == 0 {
		return 0, nil, errors.New("prompt is required")
	}
	var text string
	if err := json.Unmarshal(req.Prompt, &text); err == nil {
		n := textTokens(text)
		if !hash {
			return n, nil, nil
		}
		return n, hashTextBlocks([]byte(text), n/BlockSize), nil
	}
	var ids []int
	if err := json.Unmarshal(req.Prompt, &ids); err == nil {
		if len(ids) == 0 {
			return 0, nil, errors.New("prompt must not be empty")
		}
		if !hash {
			return len(ids), nil, nil
		}
		return len(ids), HashTokenBlocks(ids), nil
	}
	return 0, nil, errors.New("prompt must be a string or a list of token ids (batched prompts are not simulated)")
}

// readGenerateRequest decodes and checks a completion request the way
// vLLM does, answering with vLLM's error when it refuses one, so that
// clients see the same failures as against a real engine. It returns the
// prompt's length and the completion's limit in tokens, and the prompt's
// block hashes when the prefix cache is on.
func (s *Server) readGenerateRequest(w http.ResponseWriter, r *http.Request, chat bool) (req generateRequest, prompt, maxTokens int, hashes []uint64, ok bool) {
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", "invalid JSON body: "+err.Error())
		return req, 0, 0, nil, false
	}
	// Reading to EOF lets net/http watch the connection, so a client (or
	// router) that goes away cancels r's context and frees the sequence.
	_, _ = io.Copy(io.Discard, r.Body)
	if req.Model != s.cfg.ServedModelName {
		writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return req, 0, 0, nil, false
	}
	prompt, hashes, err := promptTokens(&req, chat, !s.cfg.Engine.NoPrefixCaching)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", err.Error())
		return req, 0, 0, nil, false
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
		return req, 0, 0, nil, false
	}
	if prompt+maxTokens > maxLen {
		writeError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf(
			"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			maxLen, prompt+maxTokens, prompt, maxTokens))
		return req, 0, 0, nil, false
	}
	return req, prompt, maxTokens, hashes, true
}
