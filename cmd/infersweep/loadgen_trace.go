package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/infersweep/infersweep/loadgen"
)

// replayFlags are loadgen's flags for a trace replay.
type replayFlags struct {
	trace         string
	format        string
	blockSize     int
	sessions      int
	warmupPerLane int
	maxIdleGap    time.Duration
	startFraction string
	gpus          int
}

// randomOnly are loadgen's flags that describe random prompts or their
// schedule, which a trace replaces.
var randomOnly = []string{"random-input-len", "random-output-len", "random-range-ratio", "range-mode", "random-prefix-len", "num-prompts", "request-rate", "burstiness", "num-warmups"}

func (f *replayFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.trace, "trace", "", "replay agentic sessions from this JSONL trace instead of random prompts")
	fl.StringVar(&f.format, "trace-format", string(loadgen.TraceAuto), "auto, mooncake (AIPerf's mooncake_trace) or infersweep")
	fl.IntVar(&f.blockSize, "block-size", loadgen.DefaultBlockSize, "tokens per mooncake hash_id (AIPerf's --isl-block-size)")
	fl.IntVar(&f.sessions, "sessions", 0, "trace replay: sessions in progress at once (default --max-concurrency)")
	fl.IntVar(&f.warmupPerLane, "warmup-per-lane", 1, "trace replay: requests per lane left out before the measured window opens")
	fl.DurationVar(&f.maxIdleGap, "max-idle-gap", time.Minute, "trace replay: cap on every idle gap between turns (0: as recorded)")
	fl.StringVar(&f.startFraction, "start-fraction", "0.25:0.75", "trace replay: each lane's first session starts at a turn drawn from LO:HI of its length (0: from the start)")
	fl.IntVar(&f.gpus, "gpus", 0, "trace replay: GPUs serving, for tokens/s per GPU")
}

func parseStartFraction(s string) ([2]float64, error) {
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		hi = lo
	}
	a, errA := strconv.ParseFloat(lo, 64)
	b, errB := strconv.ParseFloat(hi, 64)
	if errA != nil || errB != nil || !(a >= 0 && a <= b && b < 1) {
		return [2]float64{}, fmt.Errorf("--start-fraction %q: want LO:HI with 0 ≤ LO ≤ HI < 1, e.g. 0.25:0.75, or 0", s)
	}
	return [2]float64{a, b}, nil
}

// replayConfig checks the flags and reads the trace.
func (f *loadgenFlags) replayConfig(cmd *cobra.Command) (loadgen.ReplayConfig, error) {
	for _, name := range randomOnly {
		if cmd.Flags().Changed(name) {
			return loadgen.ReplayConfig{}, fmt.Errorf("--%s describes random prompts; a --trace gives its own lengths and schedule", name)
		}
	}
	if err := f.resolve(); err != nil {
		return loadgen.ReplayConfig{}, err
	}
	r := &f.replay
	start, err := parseStartFraction(r.startFraction)
	if err != nil {
		return loadgen.ReplayConfig{}, err
	}
	tr, err := loadgen.ReadTraceFile(r.trace, loadgen.TraceFormat(r.format), r.blockSize)
	if err != nil {
		return loadgen.ReplayConfig{}, fmt.Errorf("--trace: %w", err)
	}
	c := f.cfg
	sessions := r.sessions
	if sessions == 0 {
		sessions = c.MaxConcurrency
	}
	scrape := c.ScrapeMetrics || !cmd.Flags().Changed("scrape-metrics")
	return loadgen.ReplayConfig{
		BaseURL: c.BaseURL, APIKey: c.APIKey, Workload: c.Workload, Trace: tr, Sessions: sessions, Duration: c.Duration,
		WarmupPerLane: r.warmupPerLane, MaxIdleGap: r.maxIdleGap, StartFraction: start,
		RequestTimeout: c.RequestTimeout, StallTimeout: c.StallTimeout, Goodput: c.Goodput, TimeScale: c.TimeScale,
		ScrapeMetrics: scrape, GPUs: r.gpus, Metadata: c.Metadata,
	}, nil
}

// runReplay is loadgen --trace: the same output, result file and exit
// codes as a random load.
func runReplay(cmd *cobra.Command, g *globalFlags, f *loadgenFlags) error {
	ctx, out, errOut := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	asJSON, err := g.jsonOutput()
	if err != nil {
		return err
	}
	cfg, err := f.replayConfig(cmd)
	if err != nil {
		return usageError{err}
	}
	if cfg.Workload.Model, err = loadgen.FindModel(ctx, cfg.BaseURL, cfg.Workload.Model, f.waitReady); err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	cfg.OnProgress = progressBar(errOut)
	return f.report(out, errOut, asJSON, cfg.OnProgress != nil, func() (*loadgen.Result, error) { return loadgen.Replay(ctx, cfg) })
}
