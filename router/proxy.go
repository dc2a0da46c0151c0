package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// forwardedHeaders are the client's headers an engine may need.
var forwardedHeaders = []string{"Authorization", "X-Request-Id"}

func (rt *Router) serveGenerate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", tooBig.Limit))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "read request body: "+err.Error())
		return
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	if rt.workers == nil {
		params, err := rt.prefillFirst(r, req)
		if err != nil {
			rt.writeBackendError(w, r, err)
			return
		}
		req["kv_transfer_params"] = params
		if body, err = json.Marshal(req); err != nil {
			writeError(w, http.StatusInternalServerError, "encode decode request: "+err.Error())
			return
		}
	}
	b := rt.generators().acquire()
	defer b.release()
	if err := rt.forward(w, r, b, body); err != nil {
		rt.writeBackendError(w, r, err)
	}
}

// prefillFirst runs the prompt on a prefill engine as vLLM's proxy does:
// one token, no stream, and do_remote_decode so the engine keeps the KV
// for a decode engine; it returns the kv_transfer_params of the answer.
func (rt *Router) prefillFirst(r *http.Request, req map[string]json.RawMessage) (json.RawMessage, error) {
	pre := make(map[string]json.RawMessage, len(req)+2)
	for k, v := range req {
		pre[k] = v
	}
	pre["max_tokens"] = json.RawMessage("1")
	if _, ok := pre["max_completion_tokens"]; ok {
		pre["max_completion_tokens"] = json.RawMessage("1")
	}
	pre["stream"] = json.RawMessage("false")
	delete(pre, "stream_options")
	pre["kv_transfer_params"] = json.RawMessage(`{"do_remote_decode":true,"do_remote_prefill":false,"remote_engine_id":null,"remote_block_ids":null,"remote_host":null,"remote_port":null}`)
	body, err := json.Marshal(pre)
	if err != nil {
		return nil, err
	}
	b := rt.prefill.acquire()
	defer b.release()
	resp, err := rt.send(r, b, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err != nil {
		b.errors.Add(1)
		return nil, &backendError{backend: b, err: err}
	}
	if resp.StatusCode != http.StatusOK {
		b.errors.Add(1)
		return nil, &backendError{backend: b, status: resp.StatusCode, body: answer}
	}
	var out struct {
		KVTransferParams json.RawMessage `json:"kv_transfer_params"`
	}
	if err := json.Unmarshal(answer, &out); err != nil || len(out.KVTransferParams) == 0 || string(out.KVTransferParams) == "null" {
		b.errors.Add(1)
		return nil, &backendError{backend: b, err: errors.New("answered without kv_transfer_params: is it an engine with --role prefill (vLLM: a kv_producer connector)?")}
	}
	return out.KVTransferParams, nil
}

// send posts body to the same path on backend b, cancelled with the
// client's request.
func (rt *Router) send(r *http.Request, b *backend, body []byte) (*http.Response, error) {
	out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, b.url+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header.Set("Content-Type", "application/json")
	for _, h := range forwardedHeaders {
		if v := r.Header.Get(h); v != "" {
			out.Header.Set(h, v)
		}
	}
	resp, err := rt.client.Do(out)
	if err != nil {
		b.errors.Add(1)
		return nil, &backendError{backend: b, err: err}
	}
	return resp, nil
}

// forward sends body to b and copies the answer back as it arrives,
// flushing each read so SSE chunks reach the client when the engine
// wrote them.
func (rt *Router) forward(w http.ResponseWriter, r *http.Request, b *backend, body []byte) error {
	resp, err := rt.send(r, b, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		b.errors.Add(1)
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return &backendError{backend: b, status: resp.StatusCode, body: answer}
	}
	for _, h := range []string{"Content-Type", "Cache-Control"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, readErr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return nil // the client went away; its context cancels the engine's request
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if readErr == io.EOF {
			return nil
		}
		if readErr != nil {
			// Headers are gone: all that is left is to cut the stream.
			b.errors.Add(1)
			rt.log.Warn("backend stream broke", "backend", b.url, "error", readErr)
			return nil
		}
	}
}

// backendError is an engine that failed a request: unreachable (err) or
// answering an error status with body.
type backendError struct {
	backend *backend
	status  int
	body    []byte
	err     error
}

func (e *backendError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s backend %s: %v", e.backend.role, e.backend.url, e.err)
	}
	msg := string(e.body)
	var parsed struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(e.body, &parsed) == nil && parsed.Message != "" {
		msg = parsed.Message
	}
	return fmt.Sprintf("%s backend %s answered %d: %s", e.backend.role, e.backend.url, e.status, msg)
}

// writeBackendError answers with the engine's status for a client error
// (4xx, the client must fix its request) and 502 naming the engine for
// anything else.
func (rt *Router) writeBackendError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		rt.log.Debug("client went away", "path", r.URL.Path, "error", err)
		return
	}
	var be *backendError
	if errors.As(err, &be) && be.status >= 400 && be.status < 500 {
		rt.log.Info("backend refused request", "backend", be.backend.url, "status", be.status)
		if json.Valid(be.body) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(be.status)
			_, _ = w.Write(be.body)
			return
		}
		writeError(w, be.status, err.Error())
		return
	}
	rt.log.Warn("backend failed", "error", err)
	writeError(w, http.StatusBadGateway, err.Error())
}

// writeError answers in the OpenAI/vLLM error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "error", "message": msg, "type": http.StatusText(status), "param": nil, "code": status})
}

// probe GETs path on b with a bounded wait.
func (rt *Router) probe(ctx context.Context, b *backend, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url+path, nil)
	if err != nil {
		return nil, err
	}
	return rt.client.Do(req)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
