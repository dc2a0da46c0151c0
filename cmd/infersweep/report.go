package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

func newReportCommand(g *globalFlags) *cobra.Command {
	var tier string
	var targets []float64
	var settingsFile string
	cmd := &cobra.Command{
		Use:   "report SWEEP",
		Short: "Frontiers and cost per token of a sweep, from the lake",
		Long: `report reads a committed sweep's points and prints, per model, precision and
sequence lengths: each (runner, framework) series' Pareto frontier of throughput
per GPU (tok/s/GPU) against interactivity (1000 / median TPOT, tok/s/user), and
the cheapest series at target interactivities, interpolated along the frontiers
with a monotone (Steffen) spline, priced per million tokens. Prices and power
per GPU come from the settings (defaults: InferenceMAX's published figures for
H100, B200, GB200, MI355X; other hardware has no price unless configured).
Times are in the sweep's time basis (simulated for the demo).`,
		Example: "  infersweep report demo-2026-11-27-784db2\n  infersweep report SWEEP --tier neocloud --targets 20,50 -o json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			t := analysis.Tier(tier)
			if t != analysis.TierHyperscaler && t != analysis.TierNeocloud && t != analysis.TierRental3Y {
				return usageError{fmt.Errorf("--tier %q: want hyperscaler, neocloud or rental-3y", tier)}
			}
			settings := sweep.DefaultSettings()
			if settingsFile != "" {
				data, err := os.ReadFile(settingsFile)
				if err != nil {
					return usageError{err}
				}
				var errs sweep.Errors
				if settings, errs = sweep.ParseSettings(settingsFile, data); errs.Err() != nil {
					return usageError{errs.Err()}
				}
			}
			ctx := cmd.Context()
			lake, err := openLake(ctx)
			if err != nil {
				return err
			}
			m, rows, err := lake.SweepPoints(ctx, args[0])
			if err != nil {
				return err
			}
			groups := analysis.Analyze(rows, settings.Hardware, t, targets)
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, groups)
			}
			printReport(out, m, rows, groups)
			return nil
		},
	}
	cmd.Flags().StringVar(&tier, "tier", string(analysis.TierHyperscaler), "price tier: hyperscaler, neocloud or rental-3y")
	cmd.Flags().Float64SliceVar(&targets, "targets", analysis.DefaultTargets, "interactivities (tok/s/user) to compare at")
	cmd.Flags().StringVar(&settingsFile, "settings", "", "settings with prices and power per hardware")
	return cmd
}

// printReport shows frontiers and the cheapest series per group.
func printReport(out io.Writer, m results.Manifest, rows []results.PointRow, groups []analysis.Group) {
	basis := ""
	if len(rows) > 0 {
		basis = rows[0].TimeBasis
	}
	fmt.Fprintf(out, "sweep %s (%s), %d points; times and rates: %s\n", m.SweepID, m.Date, len(rows), basis)
	for _, grp := range groups {
		fmt.Fprintf(out, "\n%s %s, %s/%s\n", grp.Model, grp.Precision, sweep.SeqLenName(grp.ISL), sweep.SeqLenName(grp.OSL))
		for _, s := range grp.Series {
			parts := make([]string, len(s.Frontier))
			for i, p := range s.Frontier {
				parts[i] = fmt.Sprintf("%.0f@%.1f", p.Y, p.X)
			}
			fmt.Fprintf(out, "  %-22s %2d points, frontier (tok/s/GPU@tok/s/user): %s\n", s.Key, s.Points, strings.Join(parts, "  "))
		}
		for _, c := range grp.Cheapest {
			if len(c.Offers) == 0 {
				fmt.Fprintf(out, "  at %g tok/s/user: no priced series reaches it\n", c.Interactivity)
				continue
			}
			best := c.Offers[0]
			fmt.Fprintf(out, "  at %g tok/s/user: cheapest %s, $%.3f per million tokens (%s), %.0f tok/s/GPU\n", c.Interactivity, best.Series, best.USDPerMTok, c.Tier, best.TputPerGPU)
		}
	}
}
