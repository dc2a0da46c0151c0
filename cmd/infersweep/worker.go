package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
)

func newWorkerCommand(g *globalFlags) *cobra.Command {
	var role, pool, node, metricsAddr string
	var backend backendFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a control worker or one node of a hardware pool",
		Long: `worker joins the Temporal service at INFERSWEEP_TEMPORAL_* and the lake at
INFERSWEEP_S3_* (see 'infersweep config').

  --role control                 plans sweeps and commits their manifests
  --pool LABEL --node NAME       one node of the pool for runner label LABEL:
                                 polls hw-LABEL and hw-LABEL.NAME and starts
                                 engines: --backend local (child processes of
                                 this worker, killed with it), docker (containers
                                 labelled infersweep.node=NAME), or slurm (jobs
                                 commented infersweep.node=NAME); a restarted
                                 worker removes what its node left running

Stopping a worker (SIGTERM, Ctrl-C) waits for teardowns in flight.

--metrics-addr serves /metrics (Prometheus: the Temporal SDK's temporal_*
series and infersweep_points_total, infersweep_engine_startup_seconds,
infersweep_load_seconds, infersweep_point_retries_total,
infersweep_quarantined_nodes) and /healthz.

INFERSWEEP_WORKER_DEPLOYMENT turns on Temporal worker versioning: the worker
polls as version <deployment>.<this build's version>, and sweeps stay pinned to
the build that started them (make a new version current with
'temporal worker deployment set-current-version'; see deploy/README.md).`,
		Example: `  infersweep worker --role control --metrics-addr :9464 --log-format json
  infersweep worker --pool h100 --node h100-cw_00 --backend local
  infersweep worker --pool sim-h100 --node n0 --backend docker --sim-image infersweep/sim:dev
  infersweep worker --pool sim-h100 --node n1 --backend slurm --slurm-partition local --slurm-log-dir /shared/logs`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case role == "control" && pool == "":
			case role == "" && pool != "" && node != "":
			default:
				return usageError{errors.New("pass --role control, or --pool LABEL --node NAME")}
			}
			if pool != "" {
				// Points name pools: a cluster:<name> label is pool cluster.<name>.
				if err := sweep.CheckLabel(sweep.RunnerLabel(sweep.PoolName(pool))); err != nil {
					return usageError{fmt.Errorf("--pool: %w", err)}
				}
				pool = sweep.PoolName(pool)
			}
			launcher, err := backend.launcher(cmd.Context(), cmd.ErrOrStderr(), false)
			if err != nil {
				return err
			}
			return runWorker(cmd.Context(), cmd.ErrOrStderr(), g, workers.Process{Pool: pool, Node: node, MetricsAddr: metricsAddr}, launcher)
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "control")
	cmd.Flags().StringVar(&pool, "pool", "", "runner label of this node's pool (cluster:<name> or its pool name cluster.<name>)")
	cmd.Flags().StringVar(&node, "node", "", "this node's name (unique in its pool)")
	backend.register(cmd.Flags())
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve /metrics and /healthz on this host:port (e.g. :9464)")
	return cmd
}

func runWorker(ctx context.Context, logOut io.Writer, g *globalFlags, p workers.Process, launcher activities.Launcher) error {
	logger, err := g.logger(logOut)
	if err != nil {
		return err
	}
	tcfg, err := workers.LoadTemporalConfig()
	if err != nil {
		return usageError{err}
	}
	lake, err := openLake(ctx)
	if err != nil {
		return err
	}
	setup := workerSetup(lake, logger)
	setup.Launcher = launcher
	return workers.Run(ctx, tcfg, setup, p, func() {
		fmt.Fprintf(logOut, "%s running against %s, lake s3://%s; Ctrl-C to stop\n", p.What(), tcfg.Address, lake.Store().Bucket())
	})
}

// workerSetup is what this build's workers share: rows name the build
// and commit that measured them.
func workerSetup(lake *results.Lake, logger *slog.Logger) workers.Setup {
	v := workers.ReadVersion()
	return workers.Setup{Lake: lake, Logger: logger, Version: v.Version + " " + v.Commit}
}
