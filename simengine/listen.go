package simengine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"time"
)

// Serve answers the engine's HTTP API on listener while the engine runs,
// until ctx ends (a clean shutdown) or the engine dies (a crash, a failed
// startup: its connections go down with it), then logs how well the
// engine kept its step schedule.
func (s *Server) Serve(ctx context.Context, listener net.Listener) error {
	httpSrv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	// Hijacked streams hand their connections back through the listener
	// (direct.go).
	relisten := newReuseListener(listener)
	httpSrv.ConnState = relisten.connState
	s.direct.relisten = relisten
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(relisten) }()
	runErr := s.Run(ctx)
	s.logStepLag()
	if runErr != nil {
		_ = httpSrv.Close()
		s.cfg.Logger.Error("engine died", "error", runErr)
		return runErr
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(shutdownCtx)
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logStepLag reports how well the engine kept its step schedule: steps
// that end late stretch every latency the clients measure.
func (s *Server) logStepLag() {
	lags := s.StepLag()
	if len(lags) == 0 {
		return
	}
	slices.Sort(lags)
	s.cfg.Logger.Info("step schedule", "steps", len(lags), "p50_lag", lags[len(lags)/2], "p99_lag", lags[len(lags)*99/100], "max_lag", lags[len(lags)-1])
}
