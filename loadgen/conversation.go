package loadgen

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
)

// conversation is one session's context as the engine sees it: the token
// ids of every earlier turn's input and answer, in order, and the
// segments they came from. Each turn's prompt is the previous prompt,
// the previous answer and the new input, so a turn's prompt starts with
// the exact bytes of the one before it.
//
// The server answers in text, and a load generator without a tokenizer
// cannot turn that text back into ids; an answer goes into the next
// prompt as segmentIDs of the key "a/<session>/<turn>" with as many ids
// as the server said it generated (completion_tokens). Replays of one
// trace therefore send identical bytes whatever the engine said, and an
// engine's prefix cache misses on the answer's tokens the first time they
// are sent, as it would on text it did not generate itself.
type conversation struct {
	w    *Workload
	ids  []int
	segs []Segment
	// msgs mirror ids for the chat API: one user message per turn's new
	// input and one assistant message per answer.
	msgs []chatMessage
}

// appendInput adds a turn's new input: its shared segments, then its
// unique tokens under key.
func (c *conversation) appendInput(shared []Segment, key string, unique int) {
	start := len(c.ids)
	for _, s := range shared {
		c.add(s)
	}
	if unique > 0 {
		c.add(Segment{Key: key, Tokens: unique})
	}
	c.msgs = append(c.msgs, chatMessage{Role: "user", Content: words(c.ids[start:])})
}

// appendAnswer adds an answer of n tokens under key.
func (c *conversation) appendAnswer(key string, n int) {
	start := len(c.ids)
	if n > 0 {
		c.add(Segment{Key: key, Tokens: n})
	}
	c.msgs = append(c.msgs, chatMessage{Role: "assistant", Content: words(c.ids[start:])})
}

func (c *conversation) add(s Segment) {
	c.segs = append(c.segs, s)
	c.ids = segmentIDs(c.ids, c.w, s)
}

// segmentIDs appends s's token ids to ids: drawn from a stream seeded by
// the run's seed and the key alone, so a shorter segment of one key is a
// prefix of a longer one.
func segmentIDs(ids []int, w *Workload, s Segment) []int {
	h := fnv.New64a()
	h.Write([]byte(s.Key))
	r := rand.New(rand.NewPCG(w.Seed, h.Sum64()))
	span := w.VocabMax - w.VocabMin
	for range s.Tokens {
		ids = append(ids, w.VocabMin+r.IntN(span))
	}
	return ids
}

// body is the request for the conversation so far.
func (c *conversation) body(maxTokens int) ([]byte, error) {
	w := c.w
	if w.API == APIChat {
		return json.Marshal(chatRequest{
			Model: w.Model, Messages: c.msgs, MaxTokens: maxTokens, IgnoreEOS: true, Stream: true,
			StreamOptions: map[string]any{"include_usage": true},
		})
	}
	return completionBody(w.Model, c.ids, maxTokens)
}

// completionBody writes a token-id prompt by hand: reflection-based
// encoding would cost more than the request at 100k-token contexts, and
// of 100k prompts × 1k ids a minute before a run starts.
func completionBody(model string, ids []int, maxTokens int) ([]byte, error) {
	name, err := json.Marshal(model)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 160+len(name)+6*len(ids))
	b = append(b, `{"model":`...)
	b = append(b, name...)
	b = append(b, `,"prompt":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	b = append(b, `],"max_tokens":`...)
	b = strconv.AppendInt(b, int64(maxTokens), 10)
	b = append(b, `,"ignore_eos":true,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`...)
	return b, nil
}

// words renders ids as chatWords, one word per id, for the chat API.
func words(ids []int) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(chatWords[id%len(chatWords)])
	}
	return b.String()
}

// prefixIndex estimates prefix-cache hits from the client's side: a
// prompt's leading segments that an earlier request of the run already
// sent, after the same segments in the same order, are what an engine
// with an unbounded cache could reuse. Segments are compared whole (a
// mooncake block, a system prompt, a turn's input, an answer), so this is
// an upper bound at segment granularity, before the engine's own block
// rounding and evictions.
type prefixIndex struct {
	mu   sync.Mutex
	seen map[uint64]struct{}
}

func newPrefixIndex() *prefixIndex { return &prefixIndex{seen: map[uint64]struct{}{}} }

// send records a prompt of segs and returns how many of its tokens lead
// with segments sent before.
func (p *prefixIndex) send(segs []Segment) (hit int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := fnv.New64a()
	var buf [20]byte
	matching := true
	for _, s := range segs {
		h.Write([]byte(s.Key))
		h.Write(strconv.AppendInt(buf[:0], int64(s.Tokens), 10))
		h.Write([]byte{0})
		key := h.Sum64()
		if _, ok := p.seen[key]; ok && matching {
			hit += s.Tokens
			continue
		}
		matching = false
		p.seen[key] = struct{}{}
	}
	return hit
}
