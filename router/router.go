// Package router is the frontend of a vLLM deployment: an HTTP reverse
// proxy with vLLM's OpenAI API that spreads requests over engines. Given
// prefill and decode engines it runs disaggregated serving the way vLLM's
// NixlConnector proxy does (a max_tokens 1 prefill with do_remote_decode,
// then the original request with the prefill's kv_transfer_params to a
// decode engine); given workers only, it balances them by least
// outstanding requests.
package router

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxBodyBytes caps a request body: prompts of a million tokens fit, a
// runaway client does not take the router's memory.
const MaxBodyBytes = 32 << 20

// healthTimeout bounds /health: an engine that hangs counts as down
// rather than hanging the orchestrator's readiness probe.
const healthTimeout = 5 * time.Second

// Config is the engines behind the router: Prefill and Decode together
// (disaggregated), or Workers alone (aggregated).
type Config struct {
	Prefill, Decode, Workers []string
	// Client sends to the engines; nil is a client without a timeout,
	// since streams last as long as their answers.
	Client *http.Client
	Logger *slog.Logger
}

// Router is the proxy; its zero value is not usable, build it with New.
type Router struct {
	client                   *http.Client
	log                      *slog.Logger
	prefill, decode, workers *pool
}

// New checks cfg: every URL absolute http(s), and one mode only.
func New(cfg Config) (*Router, error) {
	disagg := len(cfg.Prefill) > 0 || len(cfg.Decode) > 0
	switch {
	case disagg && len(cfg.Workers) > 0:
		return nil, errors.New("--workers cannot be mixed with --prefill/--decode: pass workers for aggregated serving, or prefill and decode engines for disaggregated")
	case disagg && (len(cfg.Prefill) == 0 || len(cfg.Decode) == 0):
		return nil, errors.New("disaggregated serving needs both --prefill and --decode engines")
	case !disagg && len(cfg.Workers) == 0:
		return nil, errors.New("no engines: pass --prefill and --decode, or --workers")
	}
	for _, list := range [][]string{cfg.Prefill, cfg.Decode, cfg.Workers} {
		for i, raw := range list {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("engine URL %q: want http://host:port", raw)
			}
			list[i] = strings.TrimRight(raw, "/")
		}
	}
	rt := &Router{client: cfg.Client, log: cfg.Logger}
	if rt.client == nil {
		rt.client = &http.Client{}
	}
	if rt.log == nil {
		rt.log = slog.New(slog.DiscardHandler)
	}
	if disagg {
		rt.prefill, rt.decode = newPool("prefill", cfg.Prefill), newPool("decode", cfg.Decode)
	} else {
		rt.workers = newPool("worker", cfg.Workers)
	}
	return rt, nil
}

// pools are the router's engines, prefill first.
func (rt *Router) pools() []*pool {
	if rt.workers != nil {
		return []*pool{rt.workers}
	}
	return []*pool{rt.prefill, rt.decode}
}

// generators are the engines that answer clients: decode or workers.
func (rt *Router) generators() *pool {
	if rt.workers != nil {
		return rt.workers
	}
	return rt.decode
}

// Handler serves the router's API.
func (rt *Router) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", rt.serveGenerate)
	mux.HandleFunc("POST /v1/chat/completions", rt.serveGenerate)
	mux.HandleFunc("GET /v1/models", rt.serveModels)
	mux.HandleFunc("GET /health", rt.serveHealth)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		writeMetrics(w, rt.pools())
		readings := rt.readBackends(r.Context())
		writePower(w, readings.power)
		writeCounters(w, readings.counters)
	})
	return mux
}
