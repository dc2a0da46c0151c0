package evals

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Config is one evaluation of one task against one server.
type Config struct {
	// BaseURL is the server, e.g. http://127.0.0.1:8000; the task's API
	// path (/v1/chat/completions or /v1/completions) is appended.
	BaseURL string
	APIKey  string // sent as a bearer token when set
	Model   string
	// Task says what is asked and where (Lookup's, MaxTokens as wanted).
	Task Task
	Data Dataset
	// Fewshot supplies the examples, Task.NumFewshot of them before each
	// question, as Task.Sampler picks them.
	Fewshot Dataset
	// Limit scores only the first Limit documents; 0 scores all.
	Limit int
	// Concurrency is the most requests in flight (lm-eval's
	// num_concurrent); 0 means 64. At 1 the stop list also has "</s>",
	// as lm-eval's sequential path adds its eos string.
	Concurrency int
	// Client defaults to one that keeps Concurrency connections open.
	Client *http.Client
	// OnProgress, when set, is called after each sample, never from two
	// goroutines at once.
	OnProgress func(done, total int)
	Logger     *slog.Logger
}

// Sample is one scored document, for --samples-out. PromptSHA256 is
// the text prompt's, or under chat the turns' JSON (role and content,
// as lm-eval holds them).
type Sample struct {
	ID           int               `json:"id"`
	PromptSHA256 string            `json:"prompt_sha256"`
	Response     string            `json:"response"`
	Extracted    map[string]string `json:"extracted"` // by filter name
	Target       string            `json:"target"`
	Correct      map[string]bool   `json:"correct"` // by filter name
}

// Score is one metric under one filter, as lm-eval's results table has
// it. Stderr is the sample standard error of the mean, null below two
// samples.
type Score struct {
	Metric string   `json:"metric"`
	Filter string   `json:"filter"`
	Value  float64  `json:"value"`
	Stderr *float64 `json:"stderr"`
}

// Result is an evaluation's outcome, naming the data it scored and how
// it asked: the API, the task file the prompts follow, the few-shot
// sampler, the generation budget and the stop list sent.
type Result struct {
	Task           string        `json:"task"`
	Model          string        `json:"model"`
	API            API           `json:"api"`
	PromptFormat   string        `json:"prompt_format"`
	FewshotSampler Sampler       `json:"fewshot_sampler,omitempty"`
	MaxTokens      int           `json:"max_tokens"`
	Stop           []string      `json:"stop"`
	N              int           `json:"n"`
	NumFewshot     int           `json:"num_fewshot"`
	Data           Dataset       `json:"data"`
	Fewshot        *Dataset      `json:"fewshot,omitempty"`
	Scores         []Score       `json:"scores"`
	Duration       time.Duration `json:"duration_ns"`
	Samples        []Sample      `json:"-"`
}

func (c Config) withDefaults() (Config, error) {
	if c.Concurrency == 0 {
		c.Concurrency = 64
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.Concurrency}}
	}
	switch {
	case c.Concurrency < 0:
		return c, fmt.Errorf("concurrency %d: want at least 1", c.Concurrency)
	case c.Limit < 0:
		return c, fmt.Errorf("limit %d: want 0 (all) or more", c.Limit)
	case c.Model == "":
		return c, errors.New("model is required")
	case c.Task.API != APIChat && c.Task.API != APICompletions:
		return c, fmt.Errorf("%s: api %q: want one of %s", c.Task.Name, c.Task.API, strings.Join(APINames(), ", "))
	case c.Task.MaxTokens < 1:
		return c, fmt.Errorf("%s: max tokens %d: want at least 1", c.Task.Name, c.Task.MaxTokens)
	case len(c.Fewshot.Docs) < c.Task.NumFewshot:
		return c, fmt.Errorf("%s is %d-shot but the few-shot set has %d documents", c.Task.Name, c.Task.NumFewshot, len(c.Fewshot.Docs))
	}
	return c, nil
}

// Run asks the server for every document's completion, at most
// Concurrency at a time, and scores them. The first request that fails
// after its retries ends the run.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	docs := cfg.Data.Docs
	if cfg.Limit > 0 && cfg.Limit < len(docs) {
		docs = docs[:cfg.Limit]
	}
	// Drawn before any request, in document order, as lm-eval builds its
	// requests before it sends one.
	shots := cfg.Task.fewshots(cfg.Fewshot.Docs, len(docs))
	c := completer{client: cfg.Client, url: strings.TrimRight(cfg.BaseURL, "/") + cfg.Task.API.path(), apiKey: cfg.APIKey,
		model: cfg.Model, api: cfg.Task.API, maxTokens: cfg.Task.MaxTokens, stop: stopSequences(cfg.Task.API, cfg.Task.Until, cfg.Concurrency)}
	started := time.Now()
	samples := make([]Sample, len(docs))
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for i, doc := range docs {
		g.Go(func() error {
			body, prompt, err := c.request(cfg.Task, shots[i], doc)
			if err != nil {
				return fmt.Errorf("document %d: %w", i, err)
			}
			response, err := c.complete(gctx, body)
			if err != nil {
				return fmt.Errorf("document %d: %w", i, err)
			}
			samples[i] = cfg.Task.score(i, prompt, response, doc)
			mu.Lock()
			defer mu.Unlock()
			done++
			if cfg.OnProgress != nil {
				cfg.OnProgress(done, len(docs))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Result{}, err
	}
	res := Result{Task: cfg.Task.Name, Model: cfg.Model, API: c.api, PromptFormat: cfg.Task.Format, MaxTokens: c.maxTokens, Stop: c.stop,
		N: len(docs), NumFewshot: cfg.Task.NumFewshot, Data: cfg.Data,
		Scores: cfg.Task.aggregate(samples), Duration: time.Since(started), Samples: samples}
	if cfg.Task.NumFewshot > 0 {
		res.Fewshot, res.FewshotSampler = &cfg.Fewshot, cfg.Task.Sampler
	}
	cfg.Logger.InfoContext(ctx, "eval finished", "task", res.Task, "api", res.API, "n", res.N, "duration", res.Duration)
	return res, nil
}

// score filters one response every way the task defines and marks it.
func (t Task) score(id int, prompt, response string, doc Doc) Sample {
	sum := sha256.Sum256([]byte(prompt))
	s := Sample{ID: id, PromptSHA256: hex.EncodeToString(sum[:]), Response: response, Target: doc.Answer,
		Extracted: make(map[string]string, len(t.Filters)), Correct: make(map[string]bool, len(t.Filters))}
	for _, f := range t.Filters {
		got := f.Apply(response)
		s.Extracted[f.Name] = got
		s.Correct[f.Name] = t.match(got, doc.Answer)
	}
	return s
}

// aggregate is exact_match's mean and its standard error per filter.
func (t Task) aggregate(samples []Sample) []Score {
	scores := make([]Score, 0, len(t.Filters))
	for _, f := range t.Filters {
		hits := 0
		for _, s := range samples {
			if s.Correct[f.Name] {
				hits++
			}
		}
		mean, stderr := MeanStderr(hits, len(samples))
		scores = append(scores, Score{Metric: "exact_match", Filter: f.Name, Value: mean, Stderr: stderr})
	}
	return scores
}

// MeanStderr is the mean of n zero-or-one scores of which hits are one,
// and lm-eval's mean_stderr: the sample standard deviation (n−1 in the
// denominator) over √n, which for such scores is √(p(1−p)/(n−1)). Below two
// samples the error is undefined (nil).
func MeanStderr(hits, n int) (float64, *float64) {
	if n == 0 {
		return 0, nil
	}
	p := float64(hits) / float64(n)
	if n < 2 {
		return p, nil
	}
	se := math.Sqrt(p * (1 - p) / float64(n-1))
	return p, &se
}
