package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/sweep"
)

type loadgenFlags struct {
	cfg         loadgen.Config
	endpoint    string
	rangeMode   string
	requestRate string
	goodput     string
	resultFile  string
	metadata    []string
	maxFailures float64
	waitReady   time.Duration
	replay      replayFlags
}

func newLoadgenCommand(g *globalFlags) *cobra.Command {
	f := &loadgenFlags{cfg: loadgen.Config{Workload: loadgen.DefaultWorkload()}}
	cmd := &cobra.Command{
		Use:   "loadgen",
		Short: "Drive an OpenAI-compatible engine with streaming load and measure it",
		Long: `loadgen sends random prompts to an OpenAI-compatible server (vLLM, SGLang,
TensorRT-LLM, the simulated engine) over streaming SSE and reports vLLM
benchmark_serving's metrics under its JSON key names.

Prompts are token-id arrays (exact input lengths, no tokenizer), unique per
request, seeded. Lengths are uniform in [r·L, L] (--range-mode inferencemax, as
InferenceMAX) or [L(1−r), L(1+r)] (--range-mode vllm); the actual means are
always reported.

Closed loop (default): --max-concurrency requests in flight, --request-rate inf.
Open loop: --request-rate R with gamma(--burstiness) gaps, optionally capped by
--max-concurrency. Warmups (default 2 × concurrency) are left out of every figure.

TTFT is the first chunk with non-empty choices; ITL is every gap between such
chunks (per chunk, pooled); TPOT = (E2EL − TTFT)/(output tokens − 1). With
--time-scale s (an engine simulated s times faster than real time), every time
and rate is reported in simulated units and the summary says so.

The result file carries every key InferenceX's utils/process_result.py reads:
figures that were not measured are left out (the summary lists them), never
null. --metadata KEY=VALUE adds top-level keys, as benchmark_serving.py's.

With --trace FILE it replays agentic sessions instead (see 'Agentic traces' in
README.md): --sessions sessions at once, each turn sending the whole
conversation so far plus its new input after the recorded idle gap (capped by
--max-idle-gap), for --duration after --warmup-per-lane requests per lane. The
summary adds TTFT/TPOT/ITL/E2EL by turn bucket, session throughput, and the
prefix-cache hit rate as the client estimates it and as the engine reports it.

Exit status: 0 when at most --max-failure-rate of the requests failed; 1 when
more did (InferenceX's 5% rule; the result file is written first, as
benchmark_serving.py does), or the run could not start; 2 for bad flags.`,
		Example: `  # InferenceMAX's 1k/1k point at concurrency 64 against a local vLLM
  infersweep loadgen --base-url http://127.0.0.1:8000 --random-input-len 1024 \
    --random-output-len 1024 --random-range-ratio 0.8 --max-concurrency 64

  # open loop at 20 req/s, SLOs for goodput, summary as JSON
  infersweep loadgen --request-rate 20 --max-concurrency 256 --goodput "ttft:500 tpot:50" -o json

  # replay 16 coding-agent sessions at a time for 5 minutes
  infersweep trace synth --sessions 200 --out-file agent.jsonl
  infersweep loadgen --trace agent.jsonl --sessions 16 --duration 5m --result-file agent.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.replay.trace != "" {
				return runReplay(cmd, g, f)
			}
			return runLoadgen(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g, f)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func (f *loadgenFlags) register(fl *pflag.FlagSet) {
	c, w := &f.cfg, &f.cfg.Workload
	fl.StringVar(&c.BaseURL, "base-url", "http://127.0.0.1:8000", "server address")
	fl.StringVar(&w.Model, "model", "", "model name to request (default: the first one the server lists)")
	fl.StringVar(&f.endpoint, "endpoint", "/v1/completions", "/v1/completions or /v1/chat/completions")
	fl.IntVar(&w.InputLen, "random-input-len", w.InputLen, "target input length L, tokens")
	fl.IntVar(&w.OutputLen, "random-output-len", w.OutputLen, "target output length L, tokens (max_tokens, with ignore_eos)")
	fl.Float64Var(&w.RangeRatio, "random-range-ratio", w.RangeRatio, "length spread r (see --range-mode)")
	fl.StringVar(&f.rangeMode, "range-mode", string(loadgen.RangeInferenceMAX), "inferencemax: [r·L, L]; vllm: [L(1−r), L(1+r)]")
	fl.IntVar(&w.PrefixLen, "random-prefix-len", 0, "tokens shared by every prompt, for prefix-cache workloads")
	fl.IntVar(&w.VocabMin, "vocab-min", w.VocabMin, "lowest token id drawn")
	fl.IntVar(&w.VocabMax, "vocab-max", w.VocabMax, "token ids are drawn below this")
	fl.Uint64Var(&w.Seed, "seed", 0, "seed for prompts and arrivals")
	fl.IntVar(&c.NumPrompts, "num-prompts", 0, "measured requests (default 10 × max-concurrency)")
	fl.IntVar(&c.MaxConcurrency, "max-concurrency", 0, "requests in flight at most (required for a closed loop)")
	fl.StringVar(&f.requestRate, "request-rate", "inf", "requests/s, or inf for a closed loop")
	fl.Float64Var(&c.Burstiness, "burstiness", 1, "gamma shape of arrival gaps: 1 Poisson, <1 burstier")
	fl.IntVar(&c.NumWarmups, "num-warmups", -1, "unmeasured requests first (default 2 × max-concurrency)")
	fl.DurationVar(&c.Duration, "duration", 0, "stop sending new requests after this long (0: no bound)")
	fl.DurationVar(&c.RequestTimeout, "request-timeout", 30*time.Minute, "bound on one request")
	fl.DurationVar(&c.StallTimeout, "stall-timeout", time.Minute, "bound on the silence between two chunks of a stream")
	fl.StringVar(&f.goodput, "goodput", "", `SLOs in ms for goodput, e.g. "ttft:500 tpot:50 e2el:20000"`)
	fl.Float64Var(&c.TimeScale, "time-scale", 1, "the engine runs this many times faster than real time (simulated engine)")
	fl.BoolVar(&c.ScrapeMetrics, "scrape-metrics", false, "poll the server's Prometheus /metrics once a second")
	fl.StringVar(&f.resultFile, "result-file", "", "write the summary JSON (vLLM and InferenceX key names) here")
	fl.StringArrayVar(&f.metadata, "metadata", nil, "KEY=VALUE written as a top-level key of the result (repeat for more), as benchmark_serving.py --metadata")
	fl.Float64Var(&f.maxFailures, "max-failure-rate", sweep.DefaultMaxFailureRate, "exit 1 when a larger share of the requests failed (a fraction)")
	fl.DurationVar(&f.waitReady, "wait-ready", 0, "first wait this long for /health to answer 200")
	fl.StringVar(&c.APIKey, "api-key", os.Getenv("OPENAI_API_KEY"), "bearer token (default $OPENAI_API_KEY)")
	f.replay.register(fl)
}

func (f *loadgenFlags) resolve() error {
	switch f.endpoint {
	case "/v1/completions":
		f.cfg.Workload.API = loadgen.APICompletions
	case "/v1/chat/completions":
		f.cfg.Workload.API = loadgen.APIChat
	default:
		return fmt.Errorf("--endpoint %q: want /v1/completions or /v1/chat/completions", f.endpoint)
	}
	f.cfg.Workload.RangeMode = loadgen.RangeMode(f.rangeMode)
	if !(f.maxFailures >= 0 && f.maxFailures <= 1) {
		return fmt.Errorf("--max-failure-rate %g: want a fraction from 0 to 1; InferenceX uses %g", f.maxFailures, sweep.DefaultMaxFailureRate)
	}
	var err error
	if f.cfg.RequestRate, err = loadgen.ParseRequestRate(f.requestRate); err != nil {
		return fmt.Errorf("--request-rate %w", err)
	}
	if f.cfg.Goodput, err = loadgen.ParseSLO(f.goodput); err != nil {
		return fmt.Errorf("--goodput: %w", err)
	}
	if f.cfg.Metadata, err = loadgen.ParseMetadata(f.metadata); err != nil {
		return fmt.Errorf("--metadata %w", err)
	}
	return nil
}

func runLoadgen(ctx context.Context, out, errOut io.Writer, g *globalFlags, f *loadgenFlags) error {
	asJSON, err := g.jsonOutput()
	if err != nil {
		return err
	}
	if err := f.resolve(); err != nil {
		return usageError{err}
	}
	if f.cfg.Workload.Model, err = loadgen.FindModel(ctx, f.cfg.BaseURL, f.cfg.Workload.Model, f.waitReady); err != nil {
		return err
	}
	cfg := f.cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	cfg.OnProgress = progressBar(errOut)
	return f.report(out, errOut, asJSON, cfg.OnProgress != nil, func() (*loadgen.Result, error) { return loadgen.Run(ctx, cfg) })
}

// progressBar draws on a terminal only; nil elsewhere.
func progressBar(errOut io.Writer) func(loadgen.Progress) {
	if onTerminal(errOut) {
		return loadgen.ProgressBar(errOut)
	}
	return nil
}

// report runs a load (random or replayed) and says what it measured: the
// summary on stderr, JSON on stdout with -o json, the result file, and
// an exit code a script can trust (failed requests past
// --max-failure-rate fail it).
func (f *loadgenFlags) report(out, errOut io.Writer, asJSON, progress bool, run func() (*loadgen.Result, error)) error {
	res, runErr := run()
	if res == nil {
		return runErr
	}
	if progress {
		fmt.Fprintln(errOut)
	}
	if f.resultFile != "" {
		if err := res.Summary.WriteFile(f.resultFile); err != nil {
			return err
		}
	}
	res.Summary.WriteText(errOut)
	if asJSON {
		if err := writeJSON(out, res.Summary); err != nil {
			return err
		}
	}
	if errors.Is(runErr, loadgen.ErrAllFailed) {
		return fmt.Errorf("%w (%d requests): first reason: %s", runErr, res.Summary.Failed, res.Summary.FirstError())
	}
	if runErr != nil {
		return runErr
	}
	if err := res.Summary.CheckFailureRate(f.maxFailures); err != nil {
		return fmt.Errorf("%w (raise --max-failure-rate to accept it): first reason: %s", err, res.Summary.FirstError())
	}
	return nil
}
