package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
)

func newWorkerCommand(g *globalFlags) *cobra.Command {
	var role, pool, node, backend, partition, account, mounts, metricsAddr string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a control worker or one node of a hardware pool",
		Long: `worker joins the Temporal service at INFERSWEEP_TEMPORAL_* and the lake at
INFERSWEEP_S3_* (see 'infersweep config').

  --role control                 plans sweeps and commits their manifests
  --pool LABEL --node NAME       one node of the pool for runner label LABEL:
                                 polls hw-LABEL and hw-LABEL.NAME and starts
                                 engines: --backend local (child processes of
                                 this worker, killed with it), docker, or slurm

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
  infersweep worker --pool h100 --node h100-cw_00 --backend local`,
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
			var launcher activities.Launcher
			switch backend {
			case "local":
			case "docker":
				launcher = &launch.Docker{Exec: launch.ExecRunner{}}
			case "slurm":
				launcher = &launch.Slurm{Exec: launch.ExecRunner{}, Partition: partition, Account: account, ContainerMounts: mounts}
			default:
				return usageError{fmt.Errorf("--backend %q: want local, docker or slurm", backend)}
			}
			return runWorker(cmd.Context(), cmd.ErrOrStderr(), g, workers.Process{Pool: pool, Node: node, Launcher: launcher, MetricsAddr: metricsAddr})
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "control")
	cmd.Flags().StringVar(&pool, "pool", "", "runner label of this node's pool (cluster:<name> or its pool name cluster.<name>)")
	cmd.Flags().StringVar(&node, "node", "", "this node's name (unique in its pool)")
	cmd.Flags().StringVar(&backend, "backend", "local", "how engines are started: local (child processes), docker (docker CLI) or slurm (sbatch + pyxis)")
	cmd.Flags().StringVar(&partition, "slurm-partition", "", "Slurm partition for engine jobs")
	cmd.Flags().StringVar(&account, "slurm-account", "", "Slurm account for engine jobs")
	cmd.Flags().StringVar(&mounts, "container-mounts", "", "pyxis --container-mounts for engine jobs, e.g. /models:/models")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve /metrics and /healthz on this host:port (e.g. :9464)")
	return cmd
}

func runWorker(ctx context.Context, logOut io.Writer, g *globalFlags, p workers.Process) error {
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
	return workers.Run(ctx, tcfg, workerSetup(lake, logger), p, func() {
		fmt.Fprintf(logOut, "%s running against %s, lake s3://%s; Ctrl-C to stop\n", p.What(), tcfg.Address, lake.Store().Bucket())
	})
}

// workerSetup is what this build's workers share: rows name the build
// and commit that measured them.
func workerSetup(lake *results.Lake, logger *slog.Logger) workers.Setup {
	v := workers.ReadVersion()
	return workers.Setup{Lake: lake, Logger: logger, Version: v.Version + " " + v.Commit}
}
