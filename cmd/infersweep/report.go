package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/api"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

func newReportCommand(g *globalFlags) *cobra.Command {
	var tier, settingsFile, outFile, dashboardFile string
	var targets []float64
	var nights int
	var settings sweep.Settings
	cmd := &cobra.Command{
		Use:   "report SWEEP",
		Short: "Frontiers, regressions and cost per token of a sweep, from the lake",
		Long: `report reads a committed sweep's points and prints, per model, precision and
sequence lengths: each (runner, framework) series' Pareto frontier of throughput
per GPU (tok/s/GPU) against interactivity (1000 / median TPOT, tok/s/user), the
cheapest series at target interactivities, interpolated along the frontiers
with a monotone (Steffen) spline and priced per million tokens, and each
series' change at those targets against the median of the last --nights
earlier sweeps (regression beyond max(5%, 3 x MAD noise)). Prices and power per
GPU come from the settings (defaults: InferenceMAX's published figures for
H100, B200, GB200, MI355X; other hardware has no price unless configured).
Times are in the sweep's time basis (simulated for the demo).

--out writes the self-contained HTML report (charts, trends, regressions,
failures, run health) instead; it opens from file:// and prints.

--dashboard writes the interactive dashboard (as infersweep serve answers
it at /dashboard) as one self-contained file with its data inlined: the
sweep and the earlier nights a trend covers, their plotted points, the
sweep compared with each of them, its groups' trends at --targets and
every field of its points on hover. Its download button exports CSV of
the plotted fields; Parquet and other trend targets need serve.`,
		Example: `  infersweep report demo-2026-11-27-784db2
  infersweep report SWEEP --out report.html
  infersweep report SWEEP --dashboard dashboard.html --targets 20,50
  infersweep report SWEEP --tier neocloud --targets 20,50 -o json`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(*cobra.Command, []string) error {
			if t := analysis.Tier(tier); t != analysis.TierHyperscaler && t != analysis.TierNeocloud && t != analysis.TierRental3Y {
				return usageError{fmt.Errorf("--tier %q: want hyperscaler, neocloud or rental-3y", tier)}
			}
			var err error
			if settings, err = sweep.ReadSettings(settingsFile); err != nil {
				return usageError{err}
			}
			if outFile != "" && dashboardFile != "" {
				return usageError{fmt.Errorf("--out and --dashboard: write one file at a time")}
			}
			return nil
		},
		RunE: withLake(g, func(cmd *cobra.Command, args []string, lake *results.Lake, asJSON bool) error {
			opt := analysis.Options{Costs: settings.Hardware, Tier: analysis.Tier(tier), Targets: targets, BaselineNights: nights}
			if dashboardFile != "" {
				return writeDashboardFile(cmd, dashboardFile, lake, args[0], opt)
			}
			rep, err := analysis.Build(cmd.Context(), lake, args[0], opt)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case outFile != "":
				return writeReportPage(out, outFile, rep)
			case asJSON:
				return writeJSON(out, struct {
					Groups      []analysis.Group      `json:"groups"`
					Regressions []analysis.Regression `json:"regressions"`
					Health      []analysis.PoolHealth `json:"health"`
				}{rep.Groups, rep.Regressions, rep.Health})
			}
			return printReport(out, rep)
		}),
	}
	cmd.Flags().StringVar(&tier, "tier", string(analysis.TierHyperscaler), "price tier: hyperscaler, neocloud or rental-3y")
	cmd.Flags().Float64SliceVar(&targets, "targets", analysis.DefaultTargets, "interactivities (tok/s/user) to compare at")
	cmd.Flags().StringVar(&settingsFile, "settings", "", "settings with prices and power per hardware")
	cmd.Flags().StringVar(&outFile, "out", "", "write the HTML report to this file")
	cmd.Flags().StringVar(&dashboardFile, "dashboard", "", "write the interactive dashboard, data inlined, to this file")
	cmd.Flags().IntVar(&nights, "nights", 7, "earlier sweeps whose median is the regression baseline")
	return cmd
}

// writeReportPage writes the self-contained HTML report to path.
func writeReportPage(out io.Writer, path string, rep *analysis.Report) error {
	var page bytes.Buffer
	if err := analysis.RenderHTML(&page, rep); err != nil {
		return err
	}
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		return err
	}
	abs, _ := filepath.Abs(path)
	_, err := fmt.Fprintf(out, "report: file://%s\n", abs)
	return err
}

// writeDashboardFile writes the self-contained dashboard of a sweep.
func writeDashboardFile(cmd *cobra.Command, path string, lake *results.Lake, sweepID string, opt analysis.Options) error {
	var page bytes.Buffer
	if err := api.WriteDashboard(cmd.Context(), &page, lake, sweepID, api.Config{Analysis: opt}); err != nil {
		return err
	}
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		return err
	}
	abs, _ := filepath.Abs(path)
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "dashboard: file://%s (%d kB)\n", abs, page.Len()/1000)
	return err
}

// printReport shows frontiers, the cheapest series and what moved.
func printReport(w io.Writer, rep *analysis.Report) error {
	out := newTable(w)
	m, rows := rep.Manifest, rep.Rows
	basis := ""
	if len(rows) > 0 {
		basis = rows[0].TimeBasis
	}
	fmt.Fprintf(out, "sweep %s (%s), %d points; times and rates: %s\n", m.SweepID, m.Date, len(rows), basis)
	for _, grp := range rep.Groups {
		fmt.Fprintf(out, "\n%s %s, %s\n", grp.Model, grp.Precision, sweep.WorkloadName(grp.ISL, grp.OSL))
		for _, s := range grp.Series {
			parts := make([]string, len(s.Frontier))
			for i, p := range s.Frontier {
				parts[i] = fmt.Sprintf("%.0f@%.1f", p.Y, p.X)
			}
			fmt.Fprintf(out, "  %s\t%d points, frontier (tok/s/GPU@tok/s/user): %s\n", s.Key, s.Points, strings.Join(parts, "  "))
			if len(s.SessionFrontier) > 0 {
				sessions := make([]string, len(s.SessionFrontier))
				for i, p := range s.SessionFrontier {
					sessions[i] = fmt.Sprintf("%.0f@%.1f", p.Y, p.X/1000)
				}
				fmt.Fprintf(out, "  \t  session frontier (tok/s/GPU@s per session, median): %s\n", strings.Join(sessions, "  "))
			}
		}
		for _, c := range grp.Cheapest {
			if len(c.Offers) == 0 {
				fmt.Fprintf(out, "  at %g tok/s/user: no priced series reaches it\n", c.Interactivity)
				continue
			}
			best := c.Offers[0]
			power := ""
			if best.TokPerSecPerMW != nil && best.JoulesPerToken != nil {
				power = fmt.Sprintf(", %.0f tok/s per all-in MW, %.3f J/token assumed", *best.TokPerSecPerMW, *best.JoulesPerToken)
			}
			fmt.Fprintf(out, "  at %g tok/s/user: cheapest %s, $%.3f per million tokens (%s), %.0f tok/s/GPU%s\n", c.Interactivity, best.Series, best.USDPerMTok, c.Tier, best.TputPerGPU, power)
		}
	}
	moved := 0
	for _, r := range rep.Regressions {
		if r.Verdict == analysis.VerdictSteady || r.Verdict == analysis.VerdictNew {
			continue
		}
		if moved == 0 {
			fmt.Fprintf(out, "\nagainst the median of up to %d earlier sweeps (%d found):\n", rep.Options.BaselineNights, len(rep.History))
		}
		moved++
		change := "frontier no longer reaches it"
		if r.ChangePct != nil {
			change = fmt.Sprintf("%+.1f%% (threshold %.1f%%)", *r.ChangePct, r.ThresholdPct)
		}
		if r.RecipeChanged {
			change += "; the recipe changed since " + r.BaselineSweep
		}
		fmt.Fprintf(out, "  %s\t%s %s %s %s at %g tok/s/user: %s\n", r.Verdict, r.Model, r.Precision, sweep.WorkloadName(r.ISL, r.OSL), r.Series, r.Target, change)
	}
	if moved == 0 {
		fmt.Fprintf(out, "\nno regression or improvement against %d earlier sweep(s)\n", len(rep.History))
	}
	return out.Flush()
}
