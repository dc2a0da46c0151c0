package loadgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// API is the OpenAI-compatible endpoint a run drives.
type API string

const (
	APICompletions API = "completions"
	APIChat        API = "chat"
)

// Path is the URL path of the endpoint.
func (a API) Path() string {
	if a == APIChat {
		return "/v1/chat/completions"
	}
	return "/v1/completions"
}

// RangeMode says how --random-range-ratio spreads lengths around the target.
type RangeMode string

const (
	// RangeInferenceMAX samples uniformly in [r·L, L], as InferenceMAX's
	// client does: r = 0.8 averages 0.9·L.
	RangeInferenceMAX RangeMode = "inferencemax"
	// RangeVLLM samples uniformly in [L·(1−r), L·(1+r)], as current vLLM does.
	RangeVLLM RangeMode = "vllm"
)

// Workload describes the random prompts of a run.
type Workload struct {
	Model      string
	API        API
	InputLen   int
	OutputLen  int
	RangeRatio float64
	RangeMode  RangeMode
	// PrefixLen tokens at the start of every prompt are shared, for
	// prefix-cache workloads. The rest is unique per request.
	PrefixLen int
	// Token ids are drawn from [VocabMin, VocabMax): the defaults stay clear
	// of byte-fallback ids at the bottom and special tokens at the top of
	// Llama-3, DeepSeek and gpt-oss vocabularies.
	VocabMin, VocabMax int
	Seed               uint64
}

// DefaultWorkload fills the fields a user rarely sets.
func DefaultWorkload() Workload {
	return Workload{API: APICompletions, InputLen: 1024, OutputLen: 1024, RangeRatio: 1, RangeMode: RangeInferenceMAX, VocabMin: 1000, VocabMax: 30000}
}

// Validate names the first field that cannot work.
func (w Workload) Validate() error {
	switch {
	case w.Model == "":
		return fmt.Errorf("model is empty")
	case w.API != APICompletions && w.API != APIChat:
		return fmt.Errorf("api %q: want completions or chat", w.API)
	case w.InputLen < 1:
		return fmt.Errorf("random-input-len %d: want at least 1", w.InputLen)
	case w.OutputLen < 1:
		return fmt.Errorf("random-output-len %d: want at least 1", w.OutputLen)
	case w.RangeMode != RangeInferenceMAX && w.RangeMode != RangeVLLM:
		return fmt.Errorf("range-mode %q: want inferencemax or vllm", w.RangeMode)
	case w.RangeRatio < 0 || (w.RangeMode == RangeInferenceMAX && w.RangeRatio > 1) || (w.RangeMode == RangeVLLM && w.RangeRatio >= 1):
		return fmt.Errorf("random-range-ratio %g: want 0 ≤ r ≤ 1 for inferencemax, 0 ≤ r < 1 for vllm", w.RangeRatio)
	case w.PrefixLen < 0 || w.PrefixLen+uniqueTokens > w.lengthBounds(w.InputLen).lo:
		return fmt.Errorf("random-prefix-len %d: must leave at least %d unique tokens in the shortest prompt (%d)", w.PrefixLen, uniqueTokens, w.lengthBounds(w.InputLen).lo)
	case w.VocabMin < 0 || w.VocabMax-w.VocabMin < 256:
		return fmt.Errorf("vocab range [%d, %d): want at least 256 ids", w.VocabMin, w.VocabMax)
	}
	return nil
}

type bounds struct{ lo, hi int }

func (w Workload) lengthBounds(l int) bounds {
	var b bounds
	if w.RangeMode == RangeVLLM {
		b = bounds{int(float64(l) * (1 - w.RangeRatio)), int(float64(l) * (1 + w.RangeRatio))}
	} else {
		b = bounds{int(float64(l) * w.RangeRatio), l}
	}
	b.lo = max(b.lo, 1)
	return b
}

// uniqueTokens ids right after the shared prefix encode the request's
// index, so no two prompts share more than the prefix: prefix caching
// cannot flatter a run.
const uniqueTokens = 2

// Prompt is one request, its body built before any clock starts.
type Prompt struct {
	Index        int
	InputTokens  int // tokens sent (chat: approximated, see chatWords)
	OutputTokens int // max_tokens, with ignore_eos
	Body         []byte
}

// Prompts builds n prompts, numbered from first. The same workload and
// seed give the same prompts; warmups use numbers after the measured ones.
func (w Workload) Prompts(first, n int) ([]Prompt, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	// The shared prefix has its own stream; each prompt draws from a
	// stream of its own index, so prompt i is the same whatever n is.
	shared := rand.New(rand.NewPCG(w.Seed, 0))
	prefix := make([]int, w.PrefixLen)
	for i := range prefix {
		prefix[i] = w.VocabMin + shared.IntN(w.VocabMax-w.VocabMin)
	}
	in, out := w.lengthBounds(w.InputLen), w.lengthBounds(w.OutputLen)
	prompts := make([]Prompt, n)
	for k := range prompts {
		idx := first + k
		r := rand.New(rand.NewPCG(w.Seed, uint64(idx)+1))
		inLen := in.lo + r.IntN(in.hi-in.lo+1)
		outLen := out.lo + r.IntN(out.hi-out.lo+1)
		body, err := w.body(prefix, idx, inLen, outLen, r)
		if err != nil {
			return nil, err
		}
		prompts[k] = Prompt{Index: idx, InputTokens: inLen, OutputTokens: outLen, Body: body}
	}
	return prompts, nil
}

func (w Workload) tokenIDs(prefix []int, idx, n int, r *rand.Rand) []int {
	span := w.VocabMax - w.VocabMin
	ids := make([]int, n)
	copy(ids, prefix)
	ids[len(prefix)] = w.VocabMin + idx%span
	ids[len(prefix)+1] = w.VocabMin + (idx/span)%span
	for i := len(prefix) + uniqueTokens; i < n; i++ {
		ids[i] = w.VocabMin + r.IntN(span)
	}
	return ids
}

type chatRequest struct {
	Model         string         `json:"model"`
	Messages      []chatMessage  `json:"messages"`
	MaxTokens     int            `json:"max_tokens"`
	IgnoreEOS     bool           `json:"ignore_eos"`
	Temperature   float64        `json:"temperature"`
	Stream        bool           `json:"stream"`
	StreamOptions map[string]any `json:"stream_options"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func (w Workload) body(prefix []int, idx, inLen, outLen int, r *rand.Rand) ([]byte, error) {
	ids := w.tokenIDs(prefix, idx, inLen, r)
	if w.API == APIChat {
		// TRT-LLM rejects stream_options unless stream is true; both are set.
		return json.Marshal(chatRequest{
			Model: w.Model, Messages: []chatMessage{{Role: "user", Content: chatText(ids, len(prefix))}},
			MaxTokens: outLen, IgnoreEOS: true, Stream: true, StreamOptions: map[string]any{"include_usage": true},
		})
	}
	return completionBody(w.Model, ids, outLen)
}

// chatWords are common English words that Llama-3, DeepSeek and gpt-oss
// tokenizers each encode as one token when preceded by a space. Chat
// prompts are built word by word from token ids, so a prompt of n ids is
// approximately n tokens plus the chat template's few; the server's usage
// chunk reports the exact count, and that is what the summary uses.
var chatWords = strings.Fields(`the of and to in is was for on that with as by at from his
her are be this have not an or had but were which they one their has been its all
would there more when will who can also first after two new other time over into
some year only most made these may any about then them out than many such where
while years through should both each between world under those people three city
state during before second since part called work later well known life used being
family found another same group game early because around until against several
season name music high film team number made both best three school long played
war became government member four area small still great order last village best
house local north based five began million however march south public among often
high west five general side main river point line water right level early light`)

func chatText(ids []int, uniqueAt int) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i >= uniqueAt && i < uniqueAt+uniqueTokens {
			// The index-encoding ids keep chat prompts unique too.
			b.WriteString(strconv.Itoa(id))
			continue
		}
		b.WriteString(chatWords[id%len(chatWords)])
	}
	return b.String()
}
