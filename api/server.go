package api

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// Lake is what the API reads: what an analysis reads plus the stored
// regressions and eval rows.
type Lake interface {
	analysis.Lake
	analysis.EvalLake
	Regressions(ctx context.Context, ref results.SweepRef) ([]results.RegressionRow, error)
}

// Config steers a server; its zero value serves without a token, with the
// default analysis options, logging nowhere.
type Config struct {
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every path but /healthz.
	Token    string
	Analysis analysis.Options
	Logger   *slog.Logger
	// IndexMaxAge is how stale the index of sweeps may be before a request
	// lists the lake again (default 10 s): a new sweep shows up within it.
	IndexMaxAge time.Duration
}

//go:embed openapi.json
var openAPIDocument []byte

// Server answers the API; build it with New.
type Server struct {
	handler http.Handler
	lake    *cachedLake
	opt     analysis.Options
	logger  *slog.Logger
	// columnCache holds each sweep's dashboard columns, encoded.
	columnCache *lru[[]byte]
}

// New serves reports and the JSON API over lake.
func New(lake Lake, cfg Config) *Server {
	maxAge := cfg.IndexMaxAge
	if maxAge <= 0 {
		maxAge = 10 * time.Second
	}
	s := &Server{lake: newCachedLake(lake, maxAge), opt: cfg.Analysis, logger: cfg.Logger,
		columnCache: newLRU[[]byte](columnsCached)}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /{$}", s.latest)
	mux.HandleFunc("GET /sweeps", s.sweepIndex)
	mux.HandleFunc("GET /sweeps/{id}", s.reportPage)
	mux.HandleFunc("GET /dates/{date}", s.datePage)
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})
	mux.HandleFunc("GET /api/v1/sweeps", s.sweeps)
	mux.HandleFunc("GET /api/v1/sweeps/{id}", s.manifest)
	mux.HandleFunc("GET /api/v1/sweeps/{id}/points", s.points)
	mux.HandleFunc("GET /api/v1/sweeps/{id}/frontiers", s.frontiers)
	mux.HandleFunc("GET /api/v1/sweeps/{id}/regressions", s.regressions)
	mux.HandleFunc("GET /api/v1/sweeps/{id}/evals", s.evals)
	mux.HandleFunc("GET /api/v1/history", s.history)
	mux.HandleFunc("GET /api/v1/sweeps/{id}/columns", s.columns)
	mux.HandleFunc("GET /api/v1/export", s.export)
	mux.HandleFunc("GET /api/v1/trend", s.trend)
	mux.HandleFunc("GET /api/v1/compare", s.compare)
	mux.HandleFunc("GET /dashboard", s.dashboardPage)
	mux.Handle("GET /dashboard/static/", dashboardAssets())
	var h http.Handler = mux
	if cfg.Token != "" {
		h = requireToken(cfg.Token, mux)
	}
	s.handler = securityHeaders(h)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reports carry no script; forbid any that an escaping bug let in.
		csp := "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
		if r.URL.Path == "/dashboard" {
			// The dashboard runs the binary's own scripts and reads the
			// API; still nothing from elsewhere, and no inline script.
			csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

func requireToken(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="infersweep"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token (INFERSWEEP_API_TOKEN)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, apiError{err.Error()})
}

// arrayIndent is the indent of JSON answers, by level.
const arrayIndent = "  "

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", arrayIndent)
	_ = enc.Encode(v)
}

// fail answers an error from the lake: an unknown sweep is a 404, the
// rest a 502 (the lake, not the request, is at fault), logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, results.ErrNoSweep) {
		writeError(w, http.StatusNotFound, err)
		return
	}
	s.logger.Error("api request failed", "path", r.URL.Path, "error", err)
	writeError(w, http.StatusBadGateway, fmt.Errorf("reading the lake: %w", err))
}
