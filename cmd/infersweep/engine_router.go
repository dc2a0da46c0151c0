package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/router"
)

func newEngineRouterCommand(g *globalFlags) *cobra.Command {
	var (
		cfg  router.Config
		host string
		port int
	)
	cmd := &cobra.Command{
		Use:   "router",
		Short: "Serve a vLLM-style frontend over prefill/decode engines or aggregated workers",
		Long: `router is an HTTP reverse proxy with vLLM's OpenAI API (/v1/completions,
/v1/chat/completions, streamed or not, /v1/models, /health, /metrics).

With --prefill and --decode it serves disaggregated, as vLLM's NixlConnector
proxy does: each request is first sent to the prefill engine with the fewest
requests in flight (max_tokens 1, no stream, kv_transfer_params
{"do_remote_decode": true}), then, with the kv_transfer_params of its answer, to
the least busy decode engine, whose answer streams back to the client. With
--workers only it balances aggregated engines by least outstanding requests.

/health is 200 only when every engine's is. Engine errors keep their status when
the client is at fault (4xx) and become 502, naming the engine, otherwise.
/metrics counts requests per engine and, where the engines report power per GPU
(vllm:gpu_power_watts, as the simulator does), their mean and each role's.`,
		Example: `  infersweep engine router --prefill http://10.0.0.1:8000,http://10.0.0.2:8000 --decode http://10.0.0.3:8000 --port 9000

  # aggregated: two ordinary engines
  infersweep engine router --workers http://127.0.0.1:8001,http://127.0.0.1:8002 --port 8000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg.Logger = logger
			rt, err := router.New(cfg)
			if err != nil {
				return usageError{err}
			}
			return runRouter(cmd.Context(), cmd.OutOrStdout(), logger, rt, net.JoinHostPort(host, strconv.Itoa(port)))
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&cfg.Prefill, "prefill", nil, "prefill engines' base URLs, comma-separated")
	fl.StringSliceVar(&cfg.Decode, "decode", nil, "decode engines' base URLs, comma-separated")
	fl.StringSliceVar(&cfg.Workers, "workers", nil, "aggregated engines' base URLs, comma-separated (instead of --prefill/--decode)")
	fl.StringVar(&host, "host", "127.0.0.1", "address to listen on")
	fl.IntVar(&port, "port", 8000, "port to listen on")
	return cmd
}

// runRouter serves until ctx ends, then lets streams in flight finish for
// a few seconds: a benchmark's last requests should not be cut off.
func runRouter(ctx context.Context, out io.Writer, logger *slog.Logger, rt *router.Router, addr string) error {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return usageError{fmt.Errorf("listen on %s: %w (pass --port with a free port)", addr, err)}
	}
	srv := &http.Server{Handler: rt.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(listener) }()
	fmt.Fprintf(out, "router on http://%s\n", listener.Addr())
	logger.Info("router listening", "addr", listener.Addr().String())
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
