package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
)

func newWorkerCommand(g *globalFlags) *cobra.Command {
	var role, pool, node, backend, partition, account, mounts string
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

Stopping a worker waits for teardowns in flight.`,
		Example: `  infersweep worker --role control
  infersweep worker --pool h100 --node h100-cw_00 --backend local`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case role == "control" && pool == "":
			case role == "" && pool != "" && node != "":
			default:
				return usageError{errors.New("pass --role control, or --pool LABEL --node NAME")}
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
			return runWorker(cmd.Context(), cmd.ErrOrStderr(), g, role, pool, node, launcher)
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "control")
	cmd.Flags().StringVar(&pool, "pool", "", "runner label of this node's pool")
	cmd.Flags().StringVar(&node, "node", "", "this node's name (unique in its pool)")
	cmd.Flags().StringVar(&backend, "backend", "local", "how engines are started: local (child processes), docker (docker CLI) or slurm (sbatch + pyxis)")
	cmd.Flags().StringVar(&partition, "slurm-partition", "", "Slurm partition for engine jobs")
	cmd.Flags().StringVar(&account, "slurm-account", "", "Slurm account for engine jobs")
	cmd.Flags().StringVar(&mounts, "container-mounts", "", "pyxis --container-mounts for engine jobs, e.g. /models:/models")
	return cmd
}

func runWorker(ctx context.Context, logOut io.Writer, g *globalFlags, role, pool, node string, launcher activities.Launcher) error {
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
	c, err := workers.Dial(ctx, tcfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	var running fleet
	if role == "control" {
		running, err = startControl(c, lake, logger)
	} else {
		running, err = startNode(c, lake, pool, node, logger, launcher)
	}
	if err != nil {
		return err
	}
	defer running.stop()
	what := "control worker"
	if role == "" {
		what = fmt.Sprintf("node %s of pool %s (queues %s, %s)", node, pool, sweep.TaskQueue(pool), sweep.NodeQueue(pool, node))
	}
	fmt.Fprintf(logOut, "%s running against %s, lake s3://%s; Ctrl-C to stop\n", what, tcfg.Address, lake.Store().Bucket())
	<-ctx.Done()
	return nil
}
