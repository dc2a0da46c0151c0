package results

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
)

// TableEvals holds a point's graded accuracy scores, one row per task,
// metric and filter (as lm-eval's results table), beside its points row.
const TableEvals = "evals"

// StatusAccuracyFailed is a point that was measured but scored under its
// eval threshold: kept in the lake, left out of frontiers and prices.
const StatusAccuracyFailed = "accuracy-failed"

// Eval row statuses: a task scored, skipped (no dataset configured), or
// one whose run failed; only scored rows carry a value.
const (
	EvalScored  = "scored"
	EvalSkipped = "skipped"
	EvalError   = "error"
)

// EvalRow is one score of one eval task on one point. Value, Stderr,
// Threshold and Pass are null where nothing was scored, never 0.
type EvalRow struct {
	SweepID     string `parquet:"sweep_id,dict" json:"sweep_id"`
	PointID     string `parquet:"point_id" json:"point_id"`
	Model       string `parquet:"model,dict" json:"model"`
	ModelPrefix string `parquet:"model_prefix,dict" json:"model_prefix"`
	Framework   string `parquet:"framework,dict" json:"framework"`
	Precision   string `parquet:"precision,dict" json:"precision"`
	Runner      string `parquet:"runner,dict" json:"runner"`
	Conc        int32  `parquet:"conc" json:"conc"`
	// Task is ours (gsm8k, gpqa); LMEvalTask the lm-eval task it follows.
	Task       string `parquet:"task,dict" json:"task"`
	LMEvalTask string `parquet:"lm_eval_task,dict" json:"lm_eval_task"`
	Metric     string `parquet:"metric,dict" json:"metric"`
	Filter     string `parquet:"filter,dict" json:"filter"`
	Status     string `parquet:"status,dict" json:"status"`
	// Note says why a row was skipped or failed.
	Note            string   `parquet:"note" json:"note,omitempty"`
	Value           *float64 `parquet:"value,optional" json:"value"`
	Stderr          *float64 `parquet:"stderr,optional" json:"stderr"`
	N               int32    `parquet:"n" json:"n"`
	NumFewshot      int32    `parquet:"num_fewshot" json:"num_fewshot"`
	Threshold       *float64 `parquet:"threshold,optional" json:"threshold"`
	ThresholdSource string   `parquet:"threshold_source,dict" json:"threshold_source,omitempty"`
	Pass            *bool    `parquet:"pass,optional" json:"pass"`
	Dataset         string   `parquet:"dataset,dict" json:"dataset"`
	DatasetSHA256   string   `parquet:"dataset_sha256,dict" json:"dataset_sha256"`
	FewshotSHA256   string   `parquet:"fewshot_sha256,dict" json:"fewshot_sha256,omitempty"`
	Limit           int32    `parquet:"limit" json:"limit"`
	// API, PromptFormat and MaxTokens say how the eval asked: "chat"
	// (upstream's) or "completions" (stock lm-eval's), the task file its
	// prompts follow ("inferencex" or "lm-eval") and the generation
	// budget. Rows written before they were recorded read "" for the
	// first two: those asked stock lm-eval's prompt through completions.
	API          string `parquet:"api,dict" json:"api"`
	PromptFormat string `parquet:"prompt_format,dict" json:"prompt_format"`
	MaxTokens    int32  `parquet:"max_tokens" json:"max_tokens"`
	// RecipeFingerprint and LaunchFingerprint say what served the eval.
	RecipeFingerprint string    `parquet:"recipe_fingerprint,dict" json:"recipe_fingerprint"`
	LaunchFingerprint string    `parquet:"launch_fingerprint,dict" json:"launch_fingerprint,omitempty"`
	Start             time.Time `parquet:"start,timestamp(microsecond)" json:"start"`
	DurationS         float64   `parquet:"duration_s" json:"duration_s"`
}

// Failed is a scored row under its threshold.
func (r EvalRow) Failed() bool { return r.Pass != nil && !*r.Pass }

// Evals reads the eval rows of every point of m that has them, in the
// manifest's order.
func (l *Lake) Evals(ctx context.Context, m Manifest) ([]EvalRow, error) {
	perPoint := make([][]EvalRow, len(m.Points))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(pointReaders)
	for i, p := range m.Points {
		key, ok := p.Keys[TableEvals]
		if !ok {
			continue
		}
		g.Go(func() error {
			got, err := readTable[EvalRow](ctx, l.store, key)
			perPoint[i] = got
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(perPoint...), nil
}

// StagePoint writes a measured point's per-request and server-metric
// tables before its evals run, so the throughput measurement is in the
// lake while the eval takes its time; CommitPoint, with Staged set,
// writes the evals and the points row, the commit. Until then a reader
// sees nothing, and a retried point overwrites what was staged. adopted
// is CommitPoint's: an earlier attempt committed the point.
func (l *Lake) StagePoint(ctx context.Context, m MeasuredPoint) (mp ManifestPoint, adopted bool, err error) {
	files, err := m.loadFiles()
	if err != nil {
		return ManifestPoint{}, false, err
	}
	return l.commit(ctx, m.Date, m.Row, files)
}
