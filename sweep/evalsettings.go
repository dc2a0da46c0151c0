package sweep

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// EvalSettings say what the accuracy evals of a sweep's eval points read
// and what they must score.
type EvalSettings struct {
	// Tasks name each task's dataset and few-shot file: a path on the
	// worker, a key in the lake ("lake:<key>", as specs are read) or a
	// shipped set ("builtin:arithmetic-200.jsonl"). Every task listed
	// runs on every eval point; one with no data is recorded as skipped,
	// never scored.
	Tasks map[string]EvalTask `yaml:"tasks" json:"tasks"`
	// Limit scores only the first Limit documents of each task (lm-eval's
	// --limit, after process_docs); 0 scores them all, as upstream does.
	Limit int `yaml:"limit" json:"limit"`
	// API is how the evals ask: "chat", upstream's (lm-eval's
	// local-chat-completions with its chat template and upstream's task
	// files), or "completions", stock lm-eval's prompt to /v1/completions,
	// to reproduce stock numbers. Empty is chat.
	API string `yaml:"api" json:"api,omitempty"`
	// MaxTokens, where set, is every request's generation budget. 0 is
	// upstream's budget from each point's context under chat, and stock
	// lm-eval's 256 under completions.
	MaxTokens  int        `yaml:"max_tokens" json:"max_tokens,omitempty"`
	Thresholds Thresholds `yaml:"thresholds" json:"thresholds"`
}

// EvalTask is one task's data.
type EvalTask struct {
	Data    string `yaml:"data" json:"data"`
	Fewshot string `yaml:"fewshot" json:"fewshot,omitempty"`
}

// EvalTaskNames are the tasks package evals runs.
var EvalTaskNames = []string{"gsm8k", "gpqa"}

// EvalAPIs are the APIs package evals asks through, the default first.
var EvalAPIs = []string{"chat", "completions"}

// Thresholds are the lowest scores an eval may have, per task, with
// overrides per model prefix (the master configs' model-prefix), as
// upstream's utils/evals/thresholds.yaml has them.
type Thresholds struct {
	Default map[string]float64            `yaml:"default" json:"default"`
	Models  map[string]map[string]float64 `yaml:"models" json:"models,omitempty"`
}

// FallbackThreshold is upstream's validate_scores.py --min-score: the
// threshold of a task that neither the model nor the defaults name.
const FallbackThreshold = 0.85

// For resolves a task's threshold most specific first, as upstream's
// resolve_threshold: the model prefix's, the default, then the fallback.
// names are the task's names (ours, and the lm-eval task name upstream
// keys it by); source says which entry answered.
func (t Thresholds) For(modelPrefix string, names ...string) (threshold float64, source string) {
	for _, name := range names {
		if v, ok := t.Models[modelPrefix][name]; ok && modelPrefix != "" {
			return v, "models." + modelPrefix + "." + name
		}
	}
	for _, name := range names {
		if v, ok := t.Default[name]; ok {
			return v, "default." + name
		}
	}
	return FallbackThreshold, "fallback"
}

// DefaultEvalSettings point GSM8K at the shipped arithmetic set, which
// the simulated engine answers, so a demo sweep scores its evals end to
// end; GPQA has no data until one is configured. Thresholds are
// upstream's (InferenceX utils/evals/thresholds.yaml at 843c625, Apache
// License 2.0, Copyright SemiAnalysis), with its GPQA key
// gpqa_diamond_cot_n_shot named gpqa here.
func DefaultEvalSettings() EvalSettings {
	return EvalSettings{
		API: EvalAPIs[0],
		Tasks: map[string]EvalTask{
			"gsm8k": {Data: "builtin:arithmetic-200.jsonl", Fewshot: "builtin:arithmetic-fewshot.jsonl"},
			"gpqa":  {},
		},
		Thresholds: Thresholds{
			Default: map[string]float64{"gsm8k": 0.90, "gpqa": 0.30},
			Models: map[string]map[string]float64{
				"dsr1": {"gsm8k": 0.91}, "dsv4": {"gsm8k": 0.91}, "glm5": {"gsm8k": 0.94}, "glm5.1": {"gsm8k": 0.93},
				"gptoss": {"gsm8k": 0.91}, "kimik2.5": {"gsm8k": 0.90}, "minimaxm2.5": {"gsm8k": 0.92}, "qwen3.5": {"gsm8k": 0.94},
			},
		},
	}
}

func (e EvalSettings) check(bad reportFunc) {
	for _, name := range slices.Sorted(maps.Keys(e.Tasks)) {
		if !slices.Contains(EvalTaskNames, name) {
			bad("evals.tasks."+name, "unknown task %q: want one of %v", name, EvalTaskNames)
		}
	}
	if e.Limit < 0 {
		bad("evals.limit", "%d: want 0 (every document) or more", e.Limit)
	}
	if e.API != "" && !slices.Contains(EvalAPIs, e.API) {
		bad("evals.api", "%q: want one of %v", e.API, EvalAPIs)
	}
	if e.MaxTokens < 0 {
		bad("evals.max_tokens", "%d: want 0 (the API's default budget) or more", e.MaxTokens)
	}
	checkScores := func(path string, m map[string]float64) {
		for _, task := range slices.Sorted(maps.Keys(m)) {
			if v := m[task]; !(v >= 0 && v <= 1) || math.IsNaN(v) {
				bad(path+"."+task, "%g: want a score from 0 to 1", v)
			}
		}
	}
	checkScores("evals.thresholds.default", e.Thresholds.Default)
	for _, model := range slices.Sorted(maps.Keys(e.Thresholds.Models)) {
		checkScores(fmt.Sprintf("evals.thresholds.models.%s", model), e.Thresholds.Models[model])
	}
}
