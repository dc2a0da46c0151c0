package evals

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// API is the endpoint a prompt is sent to and the lm-eval model that
// sends it there. Upstream InferenceX (benchmarks/benchmark_lib.sh,
// run_lm_eval) runs lm-eval 0.4.9.2 as local-chat-completions with
// --apply_chat_template; stock lm-eval setups run local-completions. The
// two score differently, so every result names the one it used.
type API string

const (
	// APIChat is upstream's: the few-shot examples as user and assistant
	// turns (lm-eval's --apply_chat_template turns fewshot_as_multiturn on
	// by default), POSTed to /v1/chat/completions with upstream's budget.
	APIChat API = "chat"
	// APICompletions is stock lm-eval's local-completions: one text
	// prompt to /v1/completions and max_gen_toks 256.
	APICompletions API = "completions"
)

// APINames are the APIs ParseAPI accepts, the default first.
func APINames() []string { return []string{string(APIChat), string(APICompletions)} }

// ParseAPI reads an API's name; empty is the default, upstream's chat.
func ParseAPI(s string) (API, error) {
	if s == "" {
		return APIChat, nil
	}
	if !slices.Contains(APINames(), s) {
		return "", fmt.Errorf("api %q: want one of %s", s, strings.Join(APINames(), ", "))
	}
	return API(s), nil
}

func (a API) path() string {
	if a == APICompletions {
		return "/v1/completions"
	}
	return "/v1/chat/completions"
}

// attempts: lm-eval's API models try a request max_retries times before
// the run fails; upstream passes max_retries=5, stock lm-eval's default
// is 3. A transient 5xx or dropped connection should not void a long run.
func (a API) attempts() int {
	if a == APICompletions {
		return 3
	}
	return 5
}

// DefaultMaxModelLen is upstream's EVAL_MAX_MODEL_LEN where nothing sets it.
const DefaultMaxModelLen = 16384

// StockMaxTokens is lm-eval's max_gen_toks for API models, what stock
// local-completions asks for when neither the task nor the command sets
// a budget.
const StockMaxTokens = 256

// MaxTokensFor is upstream's generation budget for a context of
// maxModelLen tokens (run_lm_eval): all but 4096 tokens, which it keeps
// for the prompt, or half of a context of 4096 or less; at most 16384,
// so a TensorRT-LLM engine does not reserve KV cache it will not use.
func MaxTokensFor(maxModelLen int) int {
	out := maxModelLen / 2
	if maxModelLen > 4096 {
		out = maxModelLen - 4096
	}
	return min(out, 16384)
}

// DefaultMaxTokens is what an API asks for unless told otherwise:
// upstream's budget for its default context under chat, stock lm-eval's
// 256 under completions.
func (a API) DefaultMaxTokens() int {
	if a == APICompletions {
		return StockMaxTokens
	}
	return MaxTokensFor(DefaultMaxModelLen)
}

// eosString is upstream's eos_string model argument.
const eosString = "</s>"

// stopSequences is the stop list lm-eval's API models send for a task's
// until: handle_stop_sequences appends the eos string, but only on the
// sequential path (num_concurrent 1); the concurrent path builds the
// payload without it. Chat payloads keep the first four, the most the
// OpenAI API takes.
func stopSequences(api API, until []string, concurrency int) []string {
	stop := slices.Clone(until)
	if concurrency <= 1 && !slices.Contains(stop, eosString) {
		stop = append(stop, eosString)
	}
	if api == APIChat && len(stop) > 4 {
		stop = stop[:4]
	}
	return stop
}

// Message is one turn of a chat prompt.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Messages is the chat history lm-eval's fewshot_context builds with
// --apply_chat_template and fewshot_as_multiturn, upstream's setting:
// each example a user turn (its doc_to_text, no target delimiter) and an
// assistant turn (its answer, no few-shot delimiter), then the question
// as the last user turn. No system turn: upstream passes no
// --system_instruction and its task files set no description.
func (t Task) Messages(fewshot []Doc, doc Doc) []Message {
	msgs := make([]Message, 0, 2*len(fewshot)+1)
	for _, ex := range fewshot {
		msgs = append(msgs, Message{Role: "user", Content: t.text(ex)}, Message{Role: "assistant", Content: ex.Answer})
	}
	return append(msgs, Message{Role: "user", Content: t.text(doc)})
}

// chatBody is LocalChatCompletion's payload for one generate_until
// request, byte for byte as lm-eval's aiohttp session sends it (Python's
// json.dumps): messages, model, max_tokens, temperature, the stop list and
// seed 1234, then what is left of the generation kwargs, upstream's
// --gen_kwargs top_p=1 (temperature=0 and max_tokens from there too,
// integers as its command line parses them; do_sample and until are
// consumed).
func chatBody(messages []Message, model string, maxTokens int, stop []string) []byte {
	var b strings.Builder
	b.WriteString(`{"messages": `)
	writeMessages(&b, messages, true)
	b.WriteString(`, "model": `)
	writePyString(&b, model, true)
	fmt.Fprintf(&b, `, "max_tokens": %d, "temperature": 0, "stop": [`, maxTokens)
	for i, s := range stop {
		if i > 0 {
			b.WriteString(", ")
		}
		writePyString(&b, s, true)
	}
	b.WriteString(`], "seed": 1234, "top_p": 1}`)
	return []byte(b.String())
}

// messagesJSON is the chat history as lm-eval holds it (JsonChatStr,
// upstream's patch: json.dumps of the role and content dicts, non-ASCII
// kept), what a chat sample's prompt hash is taken over.
func messagesJSON(messages []Message) string {
	var b strings.Builder
	writeMessages(&b, messages, false)
	return b.String()
}

func writeMessages(b *strings.Builder, messages []Message, ensureASCII bool) {
	b.WriteString("[")
	for i, m := range messages {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`{"role": `)
		writePyString(b, m.Role, ensureASCII)
		b.WriteString(`, "content": `)
		writePyString(b, m.Content, ensureASCII)
		b.WriteString("}")
	}
	b.WriteString("]")
}

// parseChat reads a chat completion's text as upstream's patched
// parse_generations does: the first choice's message content, or its
// reasoning_content where the content is empty (a reasoning parser that
// put the whole reply there), or "" where neither is there.
func parseChat(raw []byte) (string, error) {
	var out struct {
		Choices []struct {
			Message struct {
				Content          json.RawMessage `json:"content"`
				ReasoningContent *string         `json:"reasoning_content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("decode the chat completion: %w", err)
	}
	if len(out.Choices) == 0 {
		return "", fmt.Errorf("the chat completion has no choices")
	}
	msg := out.Choices[0].Message
	var content string
	switch c := strings.TrimSpace(string(msg.Content)); c {
	case "", "null", "[]", `""`:
	default:
		if err := json.Unmarshal(msg.Content, &content); err != nil {
			return "", fmt.Errorf("the chat completion's content is %.40s, not a string", c)
		}
	}
	if content == "" && msg.ReasoningContent != nil {
		content = *msg.ReasoningContent
	}
	return content, nil
}

// parseCompletion reads a text completion's first choice, as lm-eval's
// local-completions does.
func parseCompletion(raw []byte) (string, error) {
	var out struct {
		Choices []struct {
			Text string `json:"text"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("decode the completion: %w", err)
	}
	if len(out.Choices) == 0 {
		return "", fmt.Errorf("the completion has no choices")
	}
	return out.Choices[0].Text, nil
}
