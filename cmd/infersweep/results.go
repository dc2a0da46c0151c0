package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/results"
)

func newResultsCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "results",
		Short: "Browse, export and mirror the results lake (Parquet on S3)",
		Long: `results reads the lake at INFERSWEEP_S3_* (see 'infersweep config'): one Parquet
file per point per table (points, requests, server_metrics) under Hive partitions
dt=YYYY-MM-DD/hardware=<label>, and a manifest per sweep written last. Only
sweeps with a manifest are shown unless --running is given.`,
		Example: `  infersweep results ls --from 2026-11-01
  infersweep results export SWEEP --format csv --to ./out`,
	}
	cmd.AddCommand(newResultsLsCommand(g), newResultsShowCommand(g), newResultsExportCommand(g), newResultsPullCommand(g))
	return cmd
}

func openLake(ctx context.Context) (*results.Lake, error) {
	cfg, err := results.LoadS3Config()
	if err != nil {
		return nil, usageError{err}
	}
	client, err := results.NewS3Client(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return results.NewLake(results.NewStore(client, cfg.Bucket)), nil
}

// withLake is a command body that reads the lake: the output format is
// checked first (a usage error needs no store), then the lake at
// INFERSWEEP_S3_* is opened.
func withLake(g *globalFlags, run func(cmd *cobra.Command, args []string, lake *results.Lake, asJSON bool) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		asJSON, err := g.jsonOutput()
		if err != nil {
			return err
		}
		lake, err := openLake(cmd.Context())
		if err != nil {
			return err
		}
		return run(cmd, args, lake, asJSON)
	}
}

func newResultsLsCommand(g *globalFlags) *cobra.Command {
	var from, to string
	var running bool
	cmd := &cobra.Command{
		Use:     "ls",
		Short:   "List sweeps by date",
		Example: "  infersweep results ls --from 2026-11-01\n  infersweep results ls --running -o json",
		Args:    noArgs,
		RunE: withLake(g, func(cmd *cobra.Command, _ []string, lake *results.Lake, asJSON bool) error {
			refs, err := lake.Sweeps(cmd.Context(), from, to, running)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, refs)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "DATE\tSWEEP\tSTATE")
			for _, r := range refs {
				state := "committed"
				if !r.Committed {
					state = "running or interrupted (no manifest)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Date, r.SweepID, state)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&from, "from", "", "first date, YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "until", "", "last date, YYYY-MM-DD")
	cmd.Flags().BoolVar(&running, "running", false, "include sweeps without a manifest")
	return cmd
}

func newResultsShowCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "show SWEEP",
		Short:   "Show a sweep's points and headline figures",
		Example: "  infersweep results show nightly-2026-11-27\n  infersweep results show nightly-2026-11-27 -o json | jq '.[].tput_per_gpu'",
		Args:    cobra.ExactArgs(1),
		RunE: withLake(g, func(cmd *cobra.Command, args []string, lake *results.Lake, asJSON bool) error {
			m, points, err := lake.SweepPoints(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, points)
			}
			fmt.Fprintf(out, "sweep %s (%s), %s, %d points\n", m.SweepID, m.Date, m.Status, len(m.Points))
			tw := newTable(out)
			fmt.Fprintln(tw, "ENTRY\tRUNNER\tCONC\tTP\ttok/s/GPU\ttok/s/user\tTTFT p50\tSTATUS")
			for _, p := range points {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", p.Entry, p.Runner, p.Conc, p.TP, num(p.TputPerGPU, "%.0f"), num(p.Interactivity, "%.1f"), num(p.TTFT.Median, "%.1f ms"), p.Status)
			}
			return tw.Flush()
		}),
	}
}

// num prints an optional figure, or says it was not measured.
func num(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v)
}

func newResultsExportCommand(g *globalFlags) *cobra.Command {
	var format, dir string
	cmd := &cobra.Command{
		Use:   "export SWEEP",
		Short: "Write a sweep's points as Parquet, CSV or JSON files",
		Long: `export writes SWEEP's point rows to DIR/<sweep>/points.{csv,json}, or with
--format parquet copies every table's files to DIR/<sweep>/<table>/<point>.parquet.`,
		Example: "  infersweep results export nightly-2026-11-27 --format csv --to ./out",
		Args:    cobra.ExactArgs(1),
		PreRunE: func(*cobra.Command, []string) error {
			if format != "parquet" && format != "csv" && format != "json" {
				return usageError{fmt.Errorf("--format %q: want parquet, csv or json", format)}
			}
			return nil
		},
		RunE: withLake(g, func(cmd *cobra.Command, args []string, lake *results.Lake, asJSON bool) error {
			var done func(files, total int)
			if errOut := cmd.ErrOrStderr(); onTerminal(errOut) {
				bar := countBar(errOut, "exporting", "files", time.Now())
				done = func(files, total int) { bar(files, total, "") }
				defer clearBar(errOut)
			}
			n, where, err := lake.Export(cmd.Context(), args[0], format, dir, done)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), struct {
					Sweep  string `json:"sweep"`
					Format string `json:"format"`
					Count  int    `json:"count"` // points, or files with parquet
					Path   string `json:"path"`
				}{args[0], format, n, where})
			}
			what := "points to"
			if format == "parquet" {
				what = "files under"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %d %s %s\n", n, what, where)
			return err
		}),
	}
	cmd.Flags().StringVar(&format, "format", "parquet", "parquet, csv or json")
	cmd.Flags().StringVar(&dir, "to", ".", "directory to write into")
	return cmd
}

func newResultsPullCommand(g *globalFlags) *cobra.Command {
	var dir, from, to string
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Mirror committed sweeps into a local directory with the lake's layout",
		Long: `pull copies every committed sweep's files and manifest into DIR with the same
keys, so DuckDB, Spark or pandas read them offline. The lake is write-once and a
sweep's manifest is copied last, so a sweep whose manifest is already in DIR is
skipped: run it nightly to fetch only the new nights. Files are fetched 16 at a
time and appear whole or not at all.

  SELECT * FROM read_parquet('DIR/v1/points/**/*.parquet', hive_partitioning=true, union_by_name=true)`,
		Example: "  infersweep results pull --to ./lake --from 2026-11-01",
		Args:    noArgs,
		RunE: withLake(g, func(cmd *cobra.Command, _ []string, lake *results.Lake, asJSON bool) error {
			var progress func(results.PullProgress)
			if errOut := cmd.ErrOrStderr(); onTerminal(errOut) {
				bar := countBar(errOut, "pulling", "files", time.Now())
				progress = func(p results.PullProgress) {
					bar(p.Files, p.SweepFiles, fmt.Sprintf("of %s (sweep %d/%d)", p.SweepID, p.SweepsDone+1, p.Sweeps))
				}
				defer clearBar(errOut)
			}
			res, err := lake.Pull(cmd.Context(), dir, from, to, progress)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), struct {
					Dir string `json:"dir"`
					results.PullResult
				}{dir, res})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "pulled %d sweeps (%d already mirrored, skipped), %d files into %s\n", res.Sweeps-res.Skipped, res.Skipped, res.Files, dir)
			return err
		}),
	}
	cmd.Flags().StringVar(&dir, "to", "lake", "directory to mirror into")
	cmd.Flags().StringVar(&from, "from", "", "first date, YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "until", "", "last date, YYYY-MM-DD")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if dir == "" {
			return usageError{errors.New("--to must name a directory")}
		}
		return nil
	}
	return cmd
}
