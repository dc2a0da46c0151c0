package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/infersweep/infersweep/analysis"
)

// check refuses what the demo cannot do before anything starts (exit 2).
func (f *demoFlags) check() error {
	if err := f.filterFlags.resolve(); err != nil {
		return err
	}
	if !f.simulate {
		return nil
	}
	if len(f.specs) == 0 {
		return usageError{errors.New("--simulate needs --spec: the master config whose night to preview")}
	}
	if f.filters.RunnerNodeFilter != "" {
		// It pins rows to named real nodes; the simulated pools have
		// nodes of their own.
		return usageError{errors.New("--runner-node-filter pins points to real nodes and cannot be simulated; filter with --runner-type")}
	}
	return nil
}

// printNightCost says what the simulated night would take on the real
// fleet, pool by pool.
func printNightCost(out io.Writer, pools []analysis.PoolCost) error {
	fmt.Fprintln(out, "\nthe night on the real fleet (simulated load only; engine start, model load and warm-up are not modelled, so they are counted, not timed):")
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "POOL\tPOINTS\tENGINE STARTS\tGPU-HOURS\tNODE-HOURS\tJOB-HOURS\tRUNNERS\tNIGHT ≥ (h)")
	for _, c := range append(pools, analysis.NightTotal(pools)) {
		fleet, night := "unknown", "-"
		if c.FleetRunners > 0 {
			fleet, night = fmt.Sprint(c.FleetRunners), fmt.Sprintf("%.3g", c.NightHours)
		}
		points := fmt.Sprint(c.Points)
		if c.Unmeasured > 0 {
			points = fmt.Sprintf("%d (%d unmeasured)", c.Points, c.Unmeasured)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.3g\t%.3g\t%.3g\t%s\t%s\n", c.Pool, points, c.EngineStarts, c.GPUHours, c.NodeHours, c.JobHours, fleet, night)
	}
	return tw.Flush()
}
