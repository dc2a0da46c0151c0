package main

import (
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/api"
	"github.com/infersweep/infersweep/workers"
)

// apiTokenEnv holds the bearer token serve requires when set.
const apiTokenEnv = "INFERSWEEP_API_TOKEN"

func newServeCommand(g *globalFlags) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve sweep reports and a read-only JSON API over the lake",
		Long: `serve answers, from the lake (INFERSWEEP_S3_*):
  /                       the latest sweep's report (redirect)
  /sweeps                 every sweep; /sweeps/ID one report; /dates/YYYY-MM-DD that night's last
  /dashboard              the interactive dashboard: filters (model, precision, ISL/OSL,
                          hardware, framework, spec decoding, topology, date), throughput per
                          GPU, cost per million tokens, tokens/s per MW or J/token against
                          interactivity or E2E latency, frontiers, trend with regressions,
                          compare mode; the view lives in the URL, so a link shares it
  /api/v1/...             sweeps (paged by cursor), points (filters, format=csv), frontiers,
                          regressions, history, trend, compare, columns (the dashboard's
                          compact points), export (the dashboard's view as CSV or Parquet
                          with derived figures); answered from an index of the lake
  /api/v1/openapi.json    the API's OpenAPI 3 document
  /healthz                liveness
Nothing is written. It listens on loopback unless told otherwise; with
INFERSWEEP_API_TOKEN set every path but /healthz needs
"Authorization: Bearer <token>", and a non-loopback address is refused
without one.`,
		Example: `  infersweep serve            # then open http://127.0.0.1:8080/dashboard
  curl -s localhost:8080/api/v1/sweeps
  curl -sOJ 'localhost:8080/api/v1/export?sweep=SWEEP&format=parquet&model=llama-70b&hardware=h100'
  INFERSWEEP_API_TOKEN=$(openssl rand -hex 16) infersweep serve --addr 0.0.0.0:8080`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			token := os.Getenv(apiTokenEnv)
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usageError{fmt.Errorf("--addr %q: %w", addr, err)}
			}
			if token == "" && !workers.LoopbackHost(host) {
				return usageError{fmt.Errorf("--addr %s is reachable from other machines: set %s so the API needs a bearer token", addr, apiTokenEnv)}
			}
			ctx := cmd.Context()
			lake, err := openLake(ctx)
			if err != nil {
				return err
			}
			listener, err := net.Listen("tcp", addr)
			if err != nil {
				return usageError{fmt.Errorf("--addr %s: %w", addr, err)}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "serving reports and /api/v1 on http://%s (Ctrl-C stops)\n", listener.Addr())
			return api.New(lake, api.Config{Token: token, Logger: logger}).Serve(ctx, listener)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "host:port to listen on")
	return cmd
}
