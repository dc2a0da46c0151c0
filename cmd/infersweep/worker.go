package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
)

func newWorkerCommand(g *globalFlags) *cobra.Command {
	var role, pool, node, backend string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a control worker or one node of a hardware pool",
		Long: `worker joins the Temporal service at INFERSWEEP_TEMPORAL_* and the lake at
INFERSWEEP_S3_* (see 'infersweep config').

  --role control                 plans sweeps and commits their manifests
  --pool LABEL --node NAME       one node of the pool for runner label LABEL:
                                 polls hw-LABEL and hw-LABEL.NAME and starts
                                 engines on this host (--backend local)

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
			if backend != "local" {
				return usageError{fmt.Errorf("--backend %q: only local is available in this build (docker and slurm are not implemented yet)", backend)}
			}
			return runWorker(cmd.Context(), cmd.ErrOrStderr(), g, role, pool, node)
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "control")
	cmd.Flags().StringVar(&pool, "pool", "", "runner label of this node's pool")
	cmd.Flags().StringVar(&node, "node", "", "this node's name (unique in its pool)")
	cmd.Flags().StringVar(&backend, "backend", "local", "how engines are started: local")
	return cmd
}

func runWorker(ctx context.Context, logOut io.Writer, g *globalFlags, role, pool, node string) error {
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
		running, err = startNode(c, lake, pool, node, logger)
	}
	if err != nil {
		return err
	}
	defer running.stop()
	what := "control worker"
	if role == "" {
		what = fmt.Sprintf("node %s of pool %s (queues %s, %s)", node, pool, sweep.TaskQueue(pool), workers.NodeQueue(pool, node))
	}
	fmt.Fprintf(logOut, "%s running against %s, lake s3://%s; Ctrl-C to stop\n", what, tcfg.Address, lake.Store().Bucket())
	<-ctx.Done()
	return nil
}
