package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/infersweep/infersweep/evals"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// Evals run in RunLoad on the engine that is already up for an eval
// point, after its load, as upstream's benchmark scripts run lm-eval
// after benchmark_serving: no workflow step of their own, so a sweep's
// history and its retries are those of any other point. Their settings
// come from the sweep's plan in the lake, which every worker can read.

// evalCache keeps what points read once per worker: the settings of
// recent sweeps' plans, the eval datasets and the agentic traces they
// name (each named in every row by its bytes' digest, so a cached one is
// the same data).
type evalCache struct {
	mu       sync.Mutex
	settings map[string]sweep.Settings // by plan key
	data     map[string]evals.Dataset  // by task and name
	traces   map[string]replayTrace    // by settings (agenticTraceKey)
}

// cachedEvalEntries bounds each map: a worker serves few sweeps at once.
const cachedEvalEntries = 16

func cachePut[V any](m *map[string]V, key string, v V) {
	if *m == nil || len(*m) >= cachedEvalEntries {
		*m = map[string]V{}
	}
	(*m)[key] = v
}

// planSettings are the settings the sweep was planned with, from its
// stored plan.
func (a *Activities) planSettings(ctx context.Context, date, sweepID string) (sweep.Settings, error) {
	key := results.PlanKey(date, sweepID)
	a.evalsCache.mu.Lock()
	s, ok := a.evalsCache.settings[key]
	a.evalsCache.mu.Unlock()
	if ok {
		return s, nil
	}
	plan, err := readPlan(ctx, a.Lake, key)
	if err != nil {
		return sweep.Settings{}, err
	}
	a.evalsCache.mu.Lock()
	defer a.evalsCache.mu.Unlock()
	cachePut(&a.evalsCache.settings, key, plan.Settings)
	return plan.Settings, nil
}

// dataset reads a task's file as specs are read (a path, or lake:<key>),
// or a shipped set (builtin:<name>).
func (a *Activities) dataset(ctx context.Context, task evals.Task, name string) (evals.Dataset, error) {
	key := task.Name + "\x00" + name
	a.evalsCache.mu.Lock()
	ds, ok := a.evalsCache.data[key]
	a.evalsCache.mu.Unlock()
	if ok {
		return ds, nil
	}
	raw, ok := evals.Builtin(name)
	if !ok {
		var err error
		if raw, err = a.specReader(ctx)(name); err != nil {
			return evals.Dataset{}, fmt.Errorf("read %s: %w", name, err)
		}
	}
	ds, err := task.ParseDataset(name, raw)
	if err != nil {
		return evals.Dataset{}, err
	}
	a.evalsCache.mu.Lock()
	defer a.evalsCache.mu.Unlock()
	cachePut(&a.evalsCache.data, key, ds)
	return ds, nil
}

// EvalMaxTokens is upstream's generation budget (run_lm_eval,
// evals.MaxTokensFor) for the point's eval context, what
// compute_eval_context_length gives: for an eval-only point its
// "context-length expansion", ISL+OSL+256; otherwise the point's
// max-model-len. Where upstream then asks the model's config for its
// native length, which no worker here knows, ISL+OSL+256 stands in: the
// engine serves the benchmark, so it serves that much.
func EvalMaxTokens(p sweep.Point) int {
	ctx := p.EvalMaxModelLen()
	if !p.EvalOnly && p.MaxModelLen > 0 {
		ctx = p.MaxModelLen
	}
	if ctx <= 0 {
		ctx = evals.DefaultMaxModelLen // upstream's EVAL_MAX_MODEL_LEN fallback
	}
	return evals.MaxTokensFor(ctx)
}

// evalTaskFor is the task as the settings ask for it on the point: the
// API's prompts, and the settings' budget, else upstream's for the
// point under chat (stock lm-eval's 256 under completions).
func evalTaskFor(name string, settings sweep.EvalSettings, p sweep.Point) (evals.Task, bool) {
	api, err := evals.ParseAPI(settings.API)
	if err != nil {
		return evals.Task{}, false // validated when planned
	}
	task, ok := evals.Lookup(name, api)
	switch {
	case !ok:
	case settings.MaxTokens > 0:
		task.MaxTokens = settings.MaxTokens
	case api == evals.APIChat:
		task.MaxTokens = EvalMaxTokens(p)
	}
	return task, ok
}

// evaluate runs every configured task against the point's engine and
// returns its rows, sorted by task. A task without data, or whose run
// failed, gets a row that says so and no score.
func (a *Activities) evaluate(ctx context.Context, in LoadInput) ([]results.EvalRow, error) {
	planned, err := a.planSettings(ctx, in.Date, in.SweepID)
	if err != nil {
		return nil, err
	}
	settings := planned.Evals
	stopBeat := heartbeatEvery(ctx, 2*time.Second, "running evals")
	defer stopBeat()
	var rows []results.EvalRow
	for _, name := range slices.Sorted(maps.Keys(settings.Tasks)) {
		task, ok := evalTaskFor(name, settings, in.Point)
		if !ok {
			continue // validated when planned; a newer worker's task name
		}
		rows = append(rows, a.evalTask(ctx, in, settings, task)...)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return rows, nil
}

func (a *Activities) evalTask(ctx context.Context, in LoadInput, settings sweep.EvalSettings, task evals.Task) []results.EvalRow {
	p := in.Point
	conf := settings.Tasks[task.Name]
	base := results.EvalRow{SweepID: in.SweepID, PointID: p.ID, Model: p.Model, ModelPrefix: p.ModelPrefix, Framework: p.Framework,
		Precision: p.Precision, Runner: p.Runner, Conc: int32(p.Conc), Task: task.Name, LMEvalTask: task.LMEvalName, Metric: "exact_match",
		API: string(task.API), PromptFormat: task.Format,
		NumFewshot: int32(task.NumFewshot), Dataset: conf.Data, Limit: int32(settings.Limit), MaxTokens: int32(task.MaxTokens),
		RecipeFingerprint: p.RecipeFingerprint, Start: time.Now().UTC()}
	if p.Launch != nil {
		base.LaunchFingerprint = p.Launch.Fingerprint
	}
	if conf.Data == "" {
		base.Status, base.Note = results.EvalSkipped, fmt.Sprintf("no dataset configured: set evals.tasks.%s.data in the settings", task.Name)
		return []results.EvalRow{base}
	}
	res, err := a.runTask(ctx, in, settings, task, conf)
	base.DurationS = time.Since(base.Start).Seconds()
	if err != nil {
		base.Status, base.Note = results.EvalError, err.Error()
		a.logger().Warn("eval failed", "sweep", in.SweepID, "point", p.ID, "task", task.Name, "error", err)
		return []results.EvalRow{base}
	}
	base.Status, base.N, base.DatasetSHA256 = results.EvalScored, int32(res.N), res.Data.SHA256
	if res.Fewshot != nil {
		base.FewshotSHA256 = res.Fewshot.SHA256
	}
	threshold, source := settings.Thresholds.For(p.ModelPrefix, task.Name, task.LMEvalName)
	rows := make([]results.EvalRow, 0, len(res.Scores))
	for _, s := range res.Scores {
		row := base
		pass := s.Value >= threshold
		row.Filter, row.Value, row.Stderr, row.Threshold, row.ThresholdSource, row.Pass = s.Filter, &s.Value, s.Stderr, &threshold, source, &pass
		rows = append(rows, row)
	}
	a.logger().Info("eval scored", "sweep", in.SweepID, "point", p.ID, "task", task.Name, "n", res.N, "scores", res.Scores, "threshold", threshold)
	return rows
}

func (a *Activities) runTask(ctx context.Context, in LoadInput, settings sweep.EvalSettings, task evals.Task, conf sweep.EvalTask) (evals.Result, error) {
	data, err := a.dataset(ctx, task, conf.Data)
	if err != nil {
		return evals.Result{}, err
	}
	var shots evals.Dataset
	if task.NumFewshot > 0 {
		if conf.Fewshot == "" {
			return evals.Result{}, errors.New("no few-shot file: set evals.tasks." + task.Name + ".fewshot in the settings")
		}
		if shots, err = a.dataset(ctx, task, conf.Fewshot); err != nil {
			return evals.Result{}, err
		}
	}
	return evals.Run(ctx, evals.Config{
		BaseURL: in.Engine.BaseURL, Model: in.Point.Model, Task: task, Data: data, Fewshot: shots, Limit: settings.Limit,
		// Upstream's EVAL_CONCURRENT_REQUESTS defaults to the point's CONC.
		Concurrency: max(in.Point.Conc, 1), Logger: a.logger(),
		OnProgress: func(done, total int) {
			activity.RecordHeartbeat(ctx, fmt.Sprintf("eval %s %d/%d", task.Name, done, total))
		},
	})
}

// accuracyStatus is the point's status once its evals are in: a
// succeeded point with a score under its threshold is accuracy-failed.
func accuracyStatus(status string, rows []results.EvalRow) string {
	if status == "succeeded" && slices.ContainsFunc(rows, results.EvalRow.Failed) {
		return results.StatusAccuracyFailed
	}
	return status
}
