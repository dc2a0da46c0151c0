package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/evals"
	"github.com/infersweep/infersweep/loadgen"
)

type evalFlags struct {
	cfg         evals.Config
	task        string
	api         string
	maxModelLen int
	maxTokens   int
	data        string
	fewshotData string
	numFewshot  int
	samplesOut  string
	waitReady   time.Duration
}

func newEvalCommand(g *globalFlags) *cobra.Command {
	f := &evalFlags{}
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score a served model's accuracy on a task, as InferenceX runs lm-evaluation-harness",
		Long: `eval runs a task (gsm8k, gpqa) against an OpenAI-compatible server as upstream
InferenceX runs lm-eval, and names the dataset by its SHA-256: with --api chat
(the default) upstream's task prompts go to /v1/chat/completions, the few-shot
examples as user and assistant turns drawn as lm-eval's default sampler draws
them from --fewshot-data (its train split), with max_tokens from upstream's
budget (the context less 4096, or half of 4096 or less, at most 16384). With
--api completions stock lm-eval's gsm8k prompt goes to /v1/completions with the
first k lines of --fewshot-data and max_tokens 256, to reproduce stock lm-eval
numbers. Filters, exact_match rules and standard errors are lm-eval's. Datasets
are your JSONL files in the task's published shape.
Exit status: 0 scored, 2 bad flags or a malformed dataset line, 1 a failed run.`,
		Example: `  # 5-shot GSM8K against a local vLLM as upstream runs it, every sample kept
  infersweep eval --base-url http://127.0.0.1:8000 --model meta-llama/Llama-3.1-8B-Instruct \
    --task gsm8k --data gsm8k-test.jsonl --fewshot-data gsm8k-train.jsonl --samples-out samples.jsonl

  # the same with stock lm-eval's prompt and budget (local-completions)
  infersweep eval --api completions --data gsm8k-test.jsonl --fewshot-data gsm8k-train.jsonl

  # the generated arithmetic set against the simulated engine, as JSON
  infersweep eval generate --n 200 --seed 1 > set.jsonl
  infersweep eval generate --n 5 --seed 2 > shots.jsonl
  infersweep eval --data set.jsonl --fewshot-data shots.jsonl --limit 100 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEval(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cfg.BaseURL, "base-url", "http://127.0.0.1:8000", "server address")
	fl.StringVar(&f.cfg.Model, "model", "", "model name to request (default: the first one the server lists)")
	fl.StringVar(&f.cfg.APIKey, "api-key", os.Getenv("OPENAI_API_KEY"), "bearer token (default $OPENAI_API_KEY)")
	fl.StringVar(&f.task, "task", "gsm8k", "task: "+strings.Join(evals.TaskNames(), ", "))
	fl.StringVar(&f.api, "api", string(evals.APIChat), "chat: upstream InferenceX's prompts to /v1/chat/completions; completions: stock lm-eval's to /v1/completions")
	fl.IntVar(&f.maxModelLen, "max-model-len", 0, "the context upstream's chat budget is taken from (default: the max_model_len the server lists, else 16384)")
	fl.IntVar(&f.maxTokens, "max-tokens", 0, "generation budget per request (default: upstream's budget for chat, 256 for completions)")
	fl.StringVar(&f.data, "data", "", "the documents to score, JSONL in the task's shape (required)")
	fl.StringVar(&f.fewshotData, "fewshot-data", "", "few-shot examples, JSONL in the task's shape (gsm8k's train split)")
	fl.IntVar(&f.numFewshot, "num-fewshot", -1, "few-shot examples per prompt (default: the task's, 5 for gsm8k)")
	fl.IntVar(&f.cfg.Limit, "limit", 0, "score only the first N documents (0: all)")
	fl.IntVar(&f.cfg.Concurrency, "concurrency", 64, "requests in flight at most")
	fl.StringVar(&f.samplesOut, "samples-out", "", "write one JSON line per sample here")
	fl.DurationVar(&f.waitReady, "wait-ready", 0, "first wait this long for /health to answer 200")
	cmd.AddCommand(newEvalGenerateCommand())
	return cmd
}

// resolve reads the task and datasets; every error is the caller's.
func (f *evalFlags) resolve() error {
	api, err := evals.ParseAPI(f.api)
	if err != nil {
		return fmt.Errorf("--%w", err)
	}
	task, ok := evals.Lookup(f.task, api)
	if !ok {
		return fmt.Errorf("--task %q: want one of %s", f.task, strings.Join(evals.TaskNames(), ", "))
	}
	if f.numFewshot >= 0 {
		task.NumFewshot = f.numFewshot
	}
	switch {
	case f.maxTokens < 0:
		return fmt.Errorf("--max-tokens %d: want at least 1 (or 0, the API's default)", f.maxTokens)
	case f.maxModelLen < 0:
		return fmt.Errorf("--max-model-len %d: want at least 1 (or 0, the server's)", f.maxModelLen)
	case f.maxModelLen > 0 && api == evals.APICompletions:
		return errors.New("--max-model-len sets the chat budget; with --api completions pass --max-tokens")
	case f.maxTokens > 0:
		task.MaxTokens = f.maxTokens
	}
	f.cfg.Task = task
	if f.data == "" {
		return errors.New("--data is required: a JSONL file of the task's documents")
	}
	if f.cfg.Concurrency < 1 {
		return fmt.Errorf("--concurrency %d: want at least 1", f.cfg.Concurrency)
	}
	if f.cfg.Data, err = task.ReadDataset(f.data); err != nil {
		return err
	}
	if task.NumFewshot > 0 {
		if f.fewshotData == "" {
			return fmt.Errorf("--fewshot-data is required: %s is %d-shot (or pass --num-fewshot 0)", task.Name, task.NumFewshot)
		}
		if f.cfg.Fewshot, err = task.ReadDataset(f.fewshotData); err != nil {
			return err
		}
		if n := len(f.cfg.Fewshot.Docs); n < task.NumFewshot {
			return fmt.Errorf("--fewshot-data %s has %d documents, %s needs %d", f.fewshotData, n, task.Name, task.NumFewshot)
		}
	}
	return nil
}

func runEval(ctx context.Context, out, errOut io.Writer, g *globalFlags, f *evalFlags) error {
	asJSON, err := g.jsonOutput()
	if err != nil {
		return err
	}
	if err := f.resolve(); err != nil {
		return usageError{err}
	}
	if f.cfg.Logger, err = g.logger(errOut); err != nil {
		return err
	}
	if f.cfg.Model, err = loadgen.FindModel(ctx, f.cfg.BaseURL, f.cfg.Model, f.waitReady); err != nil {
		return err
	}
	if f.cfg.Task.API == evals.APIChat && f.maxTokens == 0 {
		f.cfg.Task.MaxTokens = evals.MaxTokensFor(f.contextLength(ctx))
	}
	if onTerminal(errOut) {
		bar := countBar(errOut, "scoring", "samples", time.Now())
		f.cfg.OnProgress = func(done, total int) { bar(done, total, "") }
	}
	res, err := evals.Run(ctx, f.cfg)
	if f.cfg.OnProgress != nil {
		clearBar(errOut)
	}
	if err != nil {
		return err
	}
	if f.samplesOut != "" {
		if err := writeSamples(f.samplesOut, res.Samples); err != nil {
			return err
		}
	}
	if asJSON {
		return writeJSON(out, res)
	}
	return printEval(out, res)
}

// contextLength is the context the chat budget is taken from: the
// flag's, else the server's, else upstream's default. The server's is
// what upstream's EVAL_MAX_MODEL_LEN is, the length it started it with.
func (f *evalFlags) contextLength(ctx context.Context) int {
	if f.maxModelLen > 0 {
		return f.maxModelLen
	}
	n, err := evals.ServedMaxModelLen(ctx, nil, f.cfg.BaseURL, f.cfg.APIKey, f.cfg.Model)
	if err != nil {
		f.cfg.Logger.WarnContext(ctx, "no served context length; using upstream's default", "error", err, "max_model_len", evals.DefaultMaxModelLen)
	}
	if n <= 0 {
		return evals.DefaultMaxModelLen
	}
	return n
}

func printEval(out io.Writer, res evals.Result) error {
	fmt.Fprintf(out, "task %s, model %s, n %d, %d-shot, %s\n", res.Task, res.Model, res.N, res.NumFewshot, res.Duration.Truncate(time.Millisecond))
	fmt.Fprintf(out, "api %s, prompts %s, max_tokens %d, stop %q\n", res.API, res.PromptFormat, res.MaxTokens, res.Stop)
	fmt.Fprintf(out, "data %s sha256:%s\n", res.Data.Path, res.Data.SHA256)
	if res.Fewshot != nil {
		fmt.Fprintf(out, "fewshot %s sha256:%s\n", res.Fewshot.Path, res.Fewshot.SHA256)
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "METRIC\tFILTER\tVALUE\tSTDERR")
	for _, s := range res.Scores {
		stderr := "n/a"
		if s.Stderr != nil {
			stderr = fmt.Sprintf("± %.4f", *s.Stderr)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%s\n", s.Metric, s.Filter, s.Value, stderr)
	}
	return tw.Flush()
}

func writeSamples(path string, samples []evals.Sample) (err error) {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, file.Close()) }()
	enc := json.NewEncoder(file)
	for _, s := range samples {
		if err := enc.Encode(s); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

func newEvalGenerateCommand() *cobra.Command {
	var n int
	var seed uint64
	var task string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a generated arithmetic word-problem set in GSM8K's (or GPQA's) shape (JSONL)",
		Long: `generate writes multi-step arithmetic word problems with worked answers ending
"#### N", the same set for the same seed; with --task gpqa the same problems as
four-option questions in GPQA's published shape. The simulated engine
(infersweep engine sim with an accuracy) answers them, so evals run without a GPU.`,
		Example: "  infersweep eval generate --n 200 --seed 1 > set.jsonl\n  infersweep eval generate --task gpqa --n 40 --seed 3 > gpqa.jsonl",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 {
				return usageError{fmt.Errorf("--n %d: want at least 1", n)}
			}
			var docs []any
			switch task {
			case "gsm8k":
				for _, d := range evals.GenerateArithmetic(seed, n) {
					docs = append(docs, d)
				}
			case "gpqa":
				for _, d := range evals.GenerateGPQA(seed, n) {
					docs = append(docs, d)
				}
			default:
				return usageError{fmt.Errorf("--task %q: want gsm8k or gpqa", task)}
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			for _, d := range docs {
				if err := enc.Encode(d); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&n, "n", 200, "problems to write")
	cmd.Flags().StringVar(&task, "task", "gsm8k", "the shape: gsm8k or gpqa")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed: the same seed writes the same set")
	return cmd
}
