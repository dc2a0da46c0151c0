package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/sweepctl"
	"github.com/infersweep/infersweep/workflows"
)

func newPoolCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pool",
		Short: "See a hardware pool's nodes tonight, and release a quarantined one",
		Example: `  infersweep pool status sim-h100
  infersweep pool release sim-h100 sim-h100-0 --reason "reseated the GPU"`,
	}
	cmd.AddCommand(newPoolStatusCommand(g), newPoolReleaseCommand(g))
	return cmd
}

// runningPools finds the running pool workflows of a runner label; a
// malformed label is the caller's to fix.
func runningPools(ctx context.Context, c client.Client, label string) ([]sweepctl.PoolRun, error) {
	runs, err := sweepctl.RunningPools(ctx, c, label)
	if errors.Is(err, sweepctl.ErrBadLabel) {
		return nil, usageError{err}
	}
	return runs, err
}

func newPoolStatusCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status POOL",
		Short: "Each node of a pool in every running sweep: free, running a point, or quarantined, and the faults charged tonight",
		Long: `status asks every running sweep's pool workflow for POOL (a runner label,
or its pool name: cluster:<name> is cluster.<name>) what its nodes are doing:
free, running a point, or quarantined; and the faults charged to each
tonight, with withdrawn charges and operator releases marked.`,
		Example: "  infersweep pool status sim-h100 -o json",
		Args:    cobra.ExactArgs(1),
		RunE: withTemporal(g, func(cmd *cobra.Command, args []string, c client.Client, asJSON bool) error {
			runs, err := runningPools(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), runs)
			}
			return printPoolStatus(cmd.OutOrStdout(), args[0], runs)
		}),
	}
}

func printPoolStatus(out io.Writer, pool string, runs []sweepctl.PoolRun) error {
	if len(runs) == 0 {
		_, err := fmt.Fprintf(out, "pool %s: no running sweep uses it\n", pool)
		return err
	}
	tw := newTable(out)
	for _, run := range runs {
		p := run.Progress
		fmt.Fprintf(tw, "%s: %d/%d done, %d failed, %d skipped\n", run.Workflow, p.Done, p.Planned, p.Failed, p.Skipped)
		for _, n := range sweepctl.NodeStates(p) {
			fmt.Fprintf(tw, "  %s\t%s\n", n.Node, n.State)
			for _, why := range n.Evidence {
				fmt.Fprintf(tw, "\t%s\n", why)
			}
		}
	}
	return tw.Flush()
}

func newPoolReleaseCommand(g *globalFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "release POOL NODE",
		Short: "Lift a node's quarantine in every running sweep, with the reason kept",
		Long: `release signals every running sweep's pool workflow for POOL to take NODE
back: its quarantine is lifted and its charges cleared; the reason is kept
with the node's faults (see pool status).`,
		Example: `  infersweep pool release sim-h100 sim-h100-0 --reason "reseated the GPU"`,
		Args:    cobra.ExactArgs(2),
		RunE: withTemporal(g, func(cmd *cobra.Command, args []string, c client.Client, _ bool) error {
			if reason == "" {
				return usageError{errors.New("--reason: say why the node is fit again (it is kept with its record)")}
			}
			runs, err := runningPools(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			for _, run := range runs {
				if err := c.SignalWorkflow(cmd.Context(), run.Workflow, "", workflows.ReleaseNodeSignal, workflows.ReleaseNode{Node: args[1], Reason: reason}); err != nil {
					return fmt.Errorf("release %s in %s: %w", args[1], run.Workflow, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "released %s in %s\n", args[1], run.Workflow)
			}
			if len(runs) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "pool %s: no running sweep uses it; nothing to release\n", args[0])
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the node is fit again (required)")
	return cmd
}
