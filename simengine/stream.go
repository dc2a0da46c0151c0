package simengine

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// generation writes one request's answer as the scheduler samples tokens.
type generation struct {
	srv          *Server
	w            http.ResponseWriter
	r            *http.Request
	chat         bool
	id           uint64
	prompt       int
	output       int
	text         string // the answer to write, or "" for filler tokens
	finish       string
	stallAt      int
	includeUsage bool
	stream       *Stream
	// kvParams, on a prefill worker's hand-off, tells the decode worker
	// where the KV is.
	kvParams *kvTransferParams
}

// tokenText is what every generated token reads as: the simulator has no
// vocabulary, and clients measure chunks, not words.
const tokenText = " tok"

// streamOut writes SSE chunks shaped like vLLM's, one per sampled token,
// and returns the wall-clock times they were flushed when recording.
func (g *generation) streamOut() []int64 {
	g.w.Header().Set("Content-Type", "text/event-stream")
	g.w.Header().Set("Cache-Control", "no-cache")
	g.w.WriteHeader(http.StatusOK)
	flusher, _ := g.w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	head := g.streamHead()
	var times []int64
	if g.srv.cfg.RecordChunks {
		times = make([]int64, 0, g.output)
	}
	buf := make([]byte, 0, 512)
	written := 0
	for written < g.output {
		select {
		case <-g.r.Context().Done():
			return times
		case <-g.srv.stopped:
			return times
		case <-g.stream.notify:
		}
		sampled := int(g.stream.sampled.Load())
		for written < sampled {
			written++
			if g.stallAt > 0 && written == g.stallAt {
				// Injected stall: keep the connection, send nothing more.
				select {
				case <-g.r.Context().Done():
				case <-g.srv.stopped:
				}
				return times
			}
			buf = g.appendTokenEvent(buf[:0], head, written)
			if _, err := g.w.Write(buf); err != nil {
				return times
			}
			if flusher != nil {
				flusher.Flush()
			}
			if times != nil {
				times = append(times, time.Since(g.srv.start).Nanoseconds())
			}
		}
	}
	_, _ = g.w.Write(g.appendEnd(buf[:0]))
	if flusher != nil {
		flusher.Flush()
	}
	return times
}

// streamHead is how every SSE event of the request begins, up to its text.
func (g *generation) streamHead() string {
	model, _ := json.Marshal(g.srv.cfg.ServedModelName)
	created := strconv.FormatInt(time.Now().Unix(), 10)
	if g.chat {
		return `data: {"id":"chatcmpl-` + strconv.FormatUint(g.id, 10) + `","object":"chat.completion.chunk","created":` + created + `,"model":` + string(model) + `,"choices":[{"index":0,"delta":{"content":"`
	}
	return `data: {"id":"cmpl-` + strconv.FormatUint(g.id, 10) + `","object":"text_completion","created":` + created + `,"model":` + string(model) + `,"choices":[{"index":0,"text":"`
}

// appendTokenEvent appends token n's SSE event (n counts from 1), shaped
// like vLLM's.
func (g *generation) appendTokenEvent(buf []byte, head string, n int) []byte {
	buf = append(buf, head...)
	if g.chat && n == 1 {
		buf = append(buf[:len(buf)-len(`"content":"`)], `"role":"assistant","content":"`...)
	}
	buf = append(buf, g.piece(n)...)
	if g.chat {
		buf = append(buf, `"},"logprobs":null,"finish_reason":`...)
	} else {
		buf = append(buf, `","logprobs":null,"finish_reason":`...)
	}
	if n == g.output {
		buf = append(append(append(buf, '"'), g.finish...), '"')
	} else {
		buf = append(buf, "null"...)
	}
	return append(buf, `,"stop_reason":null}],"usage":null}`+"\n\n"...)
}

// appendEnd appends what follows the last token: the usage event when the
// client asked for it, and [DONE].
func (g *generation) appendEnd(buf []byte) []byte {
	if g.includeUsage {
		usage, _ := json.Marshal(map[string]any{
			"id": "cmpl-" + strconv.FormatUint(g.id, 10), "object": "text_completion", "model": g.srv.cfg.ServedModelName,
			"choices": []any{}, "usage": g.usage(),
		})
		buf = append(append(append(buf, "data: "...), usage...), "\n\n"...)
	}
	return append(buf, "data: [DONE]\n\n"...)
}

func (g *generation) usage() map[string]int {
	return map[string]int{"prompt_tokens": g.prompt, "completion_tokens": g.output, "total_tokens": g.prompt + g.output}
}

// respondWhole waits for the last token and answers in one JSON body.
func (g *generation) respondWhole() {
	for !g.stream.finished.Load() {
		select {
		case <-g.r.Context().Done():
			return
		case <-g.srv.stopped:
			return
		case <-g.stream.notify:
		}
	}
	text := g.text
	if text == "" {
		text = strings.Repeat(tokenText, g.output)
	}
	choice := map[string]any{"index": 0, "text": text, "finish_reason": g.finish}
	object := "text_completion"
	if g.chat {
		choice = map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": text}, "finish_reason": g.finish}
		object = "chat.completion"
	}
	body := map[string]any{
		"id": "cmpl-" + strconv.FormatUint(g.id, 10), "object": object, "created": time.Now().Unix(),
		"model": g.srv.cfg.ServedModelName, "choices": []any{choice}, "usage": g.usage(),
	}
	if g.kvParams != nil {
		body["kv_transfer_params"] = g.kvParams
	}
	writeJSON(g.w, http.StatusOK, body)
}
