package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// globalFlags are shared by every subcommand.
type globalFlags struct {
	logLevel  string
	logFormat string
	output    string
}

func newRootCommand() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "infersweep",
		Short: "Benchmark LLM inference engines continuously, durably, on Temporal",
		Long: `infersweep sweeps inference engines (vLLM, SGLang, TensorRT-LLM, Dynamo) across
hardware, models, sequence lengths, parallelism and concurrency, stores every
result as Parquet in S3, and shows how the Pareto frontier of throughput per GPU
against interactivity moves night after night.

Configuration comes from INFERSWEEP_* environment variables; see 'infersweep config'.`,
		Example: `  # start Temporal, its Web UI and an S3 store on this machine
  infersweep dev

  # show the configuration a worker would use
  infersweep config -o json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text, or json for log collectors")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newDevCommand(g), newConfigCommand(g), newVersionCommand(g), newLoadgenCommand(g), newEngineCommand(g), newSweepCommand(g), newResultsCommand(g), newDemoCommand(g), newWorkerCommand(g), newReportCommand(g), newServeCommand(g), newScheduleCommand(g), newProbeCommand(), newChaosCommand(g), newPoolCommand(g), newImageCommand(g), newRecipeCommand(g), newEvalCommand(g), newTraceCommand(g))
	return root
}

func (g *globalFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want text or json", g.logFormat)}
}

func (g *globalFlags) jsonOutput() (bool, error) {
	switch g.output {
	case "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, usageError{fmt.Errorf("--output %q: want text or json", g.output)}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newTable aligns tab-separated columns; Flush writes them.
func newTable(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
}

// isUnknownCommand recognises cobra's error for a mistyped subcommand,
// which it returns as a plain error.
func isUnknownCommand(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command")
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}
