package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/chaos"
)

func newChaosCommand(g *globalFlags) *cobra.Command {
	o := chaos.Options{}
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Run a sweep under injected faults and check nothing is lost, duplicated or leaked",
		Long: `chaos starts a fresh dev stack (state in a temporary directory), runs simulated
pools as separate worker processes, and sweeps --points points while it:
  - SIGKILLs a random pool worker about every --kill-every and restarts it;
  - makes engines fail at startup (10% of engine starts), crash mid-run (5%),
    stall a stream (2%) and answer HTTP 500 (2%), every kind at least once;
  - makes the S3 store answer 500 to 5% of requests, half after the write;
  - stops the Temporal server (and the store) once mid-sweep and restarts it
    on the same state.
Then it checks what a benchmark must never do: every planned point is in the
lake exactly once (measured, or failed with its error class), the manifest
matches the objects, no engine process outlives the run, no worker panicked,
nodes that kept failing were quarantined. With --baseline (the default) the
same sweep first runs without faults, and the wall-time ratio is printed.
Exit 1 when any promise is broken.`,
		Example: `  infersweep chaos
  infersweep chaos --points 200 --seed 7 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			if o.Points < 5 {
				return usageError{fmt.Errorf("--points %d: want at least 5", o.Points)}
			}
			if o.Logger, err = g.logger(cmd.ErrOrStderr()); err != nil {
				return err
			}
			if o.Binary, err = os.Executable(); err != nil {
				return err
			}
			o.Progress = cmd.ErrOrStderr()
			rep, err := chaos.Execute(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				err = writeJSON(cmd.OutOrStdout(), rep)
			} else {
				err = chaos.Print(cmd.OutOrStdout(), rep)
			}
			if err != nil {
				return err
			}
			if problems := rep.Problems(); len(problems) > 0 {
				return fmt.Errorf("chaos: %d broken promise(s): %s", len(problems), strings.Join(problems, "; "))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Points, "points", 60, "points to plan (60: the CI profile; 200: the full one)")
	cmd.Flags().Uint64Var(&o.Seed, "seed", 1, "seed for kills, S3 faults and engine faults")
	cmd.Flags().DurationVar(&o.KillEvery, "kill-every", 10*time.Second, "mean time between worker SIGKILLs")
	cmd.Flags().Float64Var(&o.TimeScale, "time-scale", 20, "simulated engines run this much faster than real time")
	cmd.Flags().BoolVar(&o.Baseline, "baseline", true, "first run the same sweep without faults, for the wall-time ratio")
	return cmd
}
