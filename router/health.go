package router

import (
	"context"
	"io"
	"net/http"
	"sync"
)

// serveHealth is 200 only when every engine's /health is: an orchestrator
// waiting for the deployment must not send load while a pool is missing.
func (rt *Router) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	var (
		mu   sync.Mutex
		down = map[string]string{}
		wg   sync.WaitGroup
	)
	for _, p := range rt.pools() {
		for _, b := range p.backends {
			wg.Go(func() {
				status := ""
				resp, err := rt.probe(ctx, b, "/health")
				switch {
				case err != nil:
					status = err.Error()
				case resp.StatusCode != http.StatusOK:
					status = resp.Status
				}
				if resp != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if status != "" {
					mu.Lock()
					down[b.url] = status
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(down) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unhealthy", "unhealthy_backends": down})
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serveModels answers with an answering engine's list: the router serves
// what its decode engines (or workers) serve.
func (rt *Router) serveModels(w http.ResponseWriter, r *http.Request) {
	b := rt.generators().acquire()
	defer b.release()
	resp, err := rt.probe(r.Context(), b, "/v1/models")
	if err != nil {
		b.errors.Add(1)
		rt.writeBackendError(w, r, &backendError{backend: b, err: err})
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err != nil || resp.StatusCode != http.StatusOK {
		b.errors.Add(1)
		rt.writeBackendError(w, r, &backendError{backend: b, status: resp.StatusCode, body: body, err: err})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
