package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/simengine"
	"github.com/infersweep/infersweep/simengine/calibrate"
	"github.com/infersweep/infersweep/sweep"
)

// Calibration targets the issue (#22) set: what a simulator people can
// believe must reach over the published table.
const (
	targetMedianAbsErr = 0.25
	targetMaxAbsErr    = 0.50
)

func newEngineCalibrateCommand(g *globalFlags) *cobra.Command {
	var (
		table, root, write string
		fit                bool
		rounds             int
	)
	cmd := &cobra.Command{
		Use:   "calibrate",
		Short: "Compare the simulated engine with published InferenceMAX results (and fit it)",
		Long: `calibrate runs the simulated engine (analytically, as 'engine predict' does)
over the search space upstream's master configs give each published series'
model, hardware and precision, takes the Pareto frontier, reads it at the
published interactivities with a monotone (Steffen) spline and prints the
simulated and published throughput per GPU, the error of each point and the
median and largest |error| against the targets (25%, 50%).

--fit tunes the calibration (MFU; bandwidth efficiency, per-layer overhead
and FP4 efficiency per hardware; step overhead and efficiency per framework)
by coordinate descent with golden-section searches, minimising the median
|log error| plus each point's excess beyond ln 1.4, prints the fitted values
and writes them to --write (the calibration.yaml the catalogue embeds;
rebuild to use it). A fit takes minutes.`,
		Example: `  infersweep engine calibrate
  infersweep engine calibrate --fit --write simengine/calibration.yaml
  infersweep engine calibrate --table my-published.yaml -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			if table == "" {
				table = root + "/simengine/testdata/published.yaml"
				if _, err := os.Stat(table); err != nil {
					// The table and upstream's snapshot are the repository's
					// data, not the binary's: an installed binary needs --root.
					return usageError{fmt.Errorf("no published table at %s: calibrate reads a checkout of the infersweep repository; run it there or pass --root DIR", table)}
				}
			}
			ev, err := loadEvaluator(root, table)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			cal := simengine.FittedCalibration()
			if fit {
				if cal, err = runFit(out, ev, cal, rounds, write); err != nil {
					return err
				}
			}
			ev.Quick = false
			sum, err := ev.Evaluate(cal)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(out, calibrationJSON(sum))
			}
			return printCalibration(out, sum)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&table, "table", "", "published results (default: <root>/simengine/testdata/published.yaml)")
	fl.StringVar(&root, "root", ".", "repository root holding sweep/testdata/upstream and simengine/testdata")
	fl.BoolVar(&fit, "fit", false, "tune the calibration to the table and write it to --write")
	fl.StringVar(&write, "write", "simengine/calibration.yaml", "where --fit writes the fitted calibration")
	fl.IntVar(&rounds, "rounds", 2, "coordinate-descent passes of --fit")
	return cmd
}

func loadEvaluator(root, table string) (*calibrate.Evaluator, error) {
	t, err := calibrate.LoadTable(table)
	if err != nil {
		return nil, usageError{fmt.Errorf("--table: %w", err)}
	}
	plan, err := sweep.LoadPlan(calibrate.Sources(root), sweep.Filters{})
	if err != nil {
		return nil, usageError{fmt.Errorf("upstream master configs under --root %s: %w", root, err)}
	}
	return calibrate.NewEvaluator(plan, t)
}

// runFit fits, prints each parameter as it settles and writes the file.
func runFit(out io.Writer, ev *calibrate.Evaluator, start simengine.CalibrationFile, rounds int, write string) (simengine.CalibrationFile, error) {
	ev.Quick = true
	fmt.Fprintln(out, "fitting (coordinate descent, golden section per parameter):")
	fitted, sum, err := ev.Fit(start, calibrate.FitOptions{Rounds: rounds, Iterations: 8,
		Progress: func(p calibrate.Param, v, obj float64) {
			fmt.Fprintf(out, "  %-40s %10.4g   objective %.4f\n", p.Name, v, obj)
		}})
	if err != nil {
		return start, err
	}
	fitted = roundCalibration(fitted)
	// The comment quotes what the test and the table see: the rounded
	// values over full runs, not the fit's quick ones.
	ev.Quick = false
	if sum, err = ev.Evaluate(fitted); err != nil {
		return start, err
	}
	fitted.Comment = fmt.Sprintf("written by 'infersweep engine calibrate --fit --rounds %d' against simengine/testdata/published.yaml: median |error| %.1f%%, max %.1f%%",
		rounds, 100*sum.MedianAbsErr, 100*sum.MaxAbsErr)
	data, err := yaml.Marshal(fitted)
	if err != nil {
		return fitted, err
	}
	if err := os.WriteFile(write, data, 0o644); err != nil {
		return fitted, fmt.Errorf("--write: %w", err)
	}
	fmt.Fprintf(out, "wrote %s (rebuild infersweep to embed it)\n\n", write)
	return fitted, nil
}

// roundCalibration keeps three significant digits: more would be noise
// of the search, and a reviewer reads the file's diff.
func roundCalibration(f simengine.CalibrationFile) simengine.CalibrationFile {
	r := func(v float64) float64 {
		if v == 0 {
			return 0
		}
		scale := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(v))))
		return math.Round(v*scale) / scale
	}
	entry := func(e simengine.CalibrationEntry) simengine.CalibrationEntry {
		return simengine.CalibrationEntry{MFU: r(e.MFU), MBU: r(e.MBU), StepOverheadUs: r(e.StepOverheadUs),
			LayerOverheadUs: r(e.LayerOverheadUs), FP4Efficiency: r(e.FP4Efficiency), Efficiency: r(e.Efficiency)}
	}
	f.Default = entry(f.Default)
	f.Hardware, f.Frameworks = maps.Clone(f.Hardware), maps.Clone(f.Frameworks)
	for k, v := range f.Hardware {
		f.Hardware[k] = entry(v)
	}
	for k, v := range f.Frameworks {
		f.Frameworks[k] = entry(v)
	}
	return f
}

type calibrationRow struct {
	Series string `json:"series"`
	calibrate.PointResult
}

type calibrationReport struct {
	Points       []calibrationRow `json:"points"`
	MedianAbsErr float64          `json:"median_abs_error"`
	MaxAbsErr    float64          `json:"max_abs_error"`
	WithinTarget bool             `json:"within_target"`
}

func calibrationJSON(sum calibrate.Summary) calibrationReport {
	rep := calibrationReport{MedianAbsErr: sum.MedianAbsErr, MaxAbsErr: sum.MaxAbsErr,
		WithinTarget: sum.MedianAbsErr <= targetMedianAbsErr && sum.MaxAbsErr <= targetMaxAbsErr}
	for _, r := range sum.Results {
		for _, p := range r.Points {
			rep.Points = append(rep.Points, calibrationRow{r.Series.Name(), p})
		}
	}
	return rep
}

func printCalibration(out io.Writer, sum calibrate.Summary) error {
	fmt.Fprintln(out, "simulated vs published total tok/s/GPU (published: InferenceMAX dashboard, interpolated by the publisher)")
	tw := newTable(out)
	fmt.Fprintln(tw, "series\ttok/s/user\tpublished\tsimulated\terror\tconfigs")
	for _, r := range sum.Results {
		for _, p := range r.Points {
			sim := fmt.Sprintf("%.0f", p.Simulated)
			if !p.Reached {
				sim = "unreached"
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t%+.1f%%\t%d\n", r.Series.Name(), p.Interactivity, p.Published, sim, 100*p.Err, r.Configs)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := func(v, target float64) string {
		return map[bool]string{true: "within", false: "OUTSIDE"}[v <= target]
	}
	fmt.Fprintf(out, "median |error| %.1f%% (target ≤ %.0f%%: %s)\nmax |error|    %.1f%% (target ≤ %.0f%%: %s)\n",
		100*sum.MedianAbsErr, 100*targetMedianAbsErr, verdict(sum.MedianAbsErr, targetMedianAbsErr),
		100*sum.MaxAbsErr, 100*targetMaxAbsErr, verdict(sum.MaxAbsErr, targetMaxAbsErr))
	return nil
}
