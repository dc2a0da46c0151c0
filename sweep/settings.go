package sweep

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/infersweep/infersweep/specyaml"
)

// Settings are infersweep's own knobs, kept out of the master configs so
// those stay valid for InferenceMAX's tools.
type Settings struct {
	Workload WorkloadSettings          `yaml:"workload" json:"workload"`
	Goodput  GoodputSettings           `yaml:"goodput" json:"goodput"`
	Hardware map[string]HardwareCost   `yaml:"hardware" json:"hardware"`
	Retry    RetrySettings             `yaml:"retry" json:"retry"`
	Pools    map[string]PoolSettings   `yaml:"pools" json:"pools"`
	Engines  map[string]EngineSettings `yaml:"engines" json:"engines"`
	Analysis AnalysisSettings          `yaml:"analysis" json:"analysis"`
	Evals    EvalSettings              `yaml:"evals" json:"evals"`
	Agentic  AgenticSettings           `yaml:"agentic" json:"agentic"`
	// NodeHardware says what one node of a runner label (or of a GPU
	// SKU) has where runners.yaml has no hardware entry for the label.
	NodeHardware map[string]RunnerHardware `yaml:"node-hardware" json:"node_hardware"`
}

// AnalysisSettings steer the analysis at the end of each sweep; zero
// values take the analysis defaults (10, 20, 50, 100 tok/s/user; 7 nights;
// hyperscaler prices).
type AnalysisSettings struct {
	// Targets are interactivities (tok/s/user) where series are priced
	// and compared with earlier nights.
	Targets        []float64 `yaml:"targets" json:"targets"`
	BaselineNights int       `yaml:"baseline-nights" json:"baseline_nights"`
	Tier           string    `yaml:"tier" json:"tier"`
}

// WorkloadSettings are the load generator's defaults for every point.
type WorkloadSettings struct {
	RandomRangeRatio float64 `yaml:"random-range-ratio" json:"random_range_ratio"`
	RangeMode        string  `yaml:"range-mode" json:"range_mode"`
	PromptsPerConc   int     `yaml:"prompts-per-conc" json:"prompts_per_conc"`
	WarmupsPerConc   int     `yaml:"warmups-per-conc" json:"warmups_per_conc"`
	RequestRate      string  `yaml:"request-rate" json:"request_rate"`
	Seed             uint64  `yaml:"seed" json:"seed"`
	// MaxFailureRate fails a point when a larger share of its requests
	// failed. A pointer so that 0 (no failure allowed) can be set while
	// unset, as in sweeps planned before the setting existed, means
	// DefaultMaxFailureRate.
	MaxFailureRate *float64 `yaml:"max-failure-rate" json:"max_failure_rate,omitempty"`
}

// DefaultMaxFailureRate is InferenceX's rule: benchmark_serving.py fails a
// run when more than 5% of its requests did not complete.
const DefaultMaxFailureRate = 0.05

// FailureRateLimit is the share of a point's requests that may fail
// before the point is failed.
func (w WorkloadSettings) FailureRateLimit() float64 {
	if w.MaxFailureRate == nil {
		return DefaultMaxFailureRate
	}
	return *w.MaxFailureRate
}

// GoodputSettings are SLOs in milliseconds; zero means unconstrained.
type GoodputSettings struct {
	TTFTms float64 `yaml:"ttft-ms" json:"ttft_ms"`
	TPOTms float64 `yaml:"tpot-ms" json:"tpot_ms"`
	E2ELms float64 `yaml:"e2el-ms" json:"e2el_ms"`
}

// HardwareCost prices a GPU-hour in three tiers and says its all-in power.
type HardwareCost struct {
	Hyperscaler float64 `yaml:"hyperscaler-usd-per-gpu-hour" json:"hyperscaler_usd_per_gpu_hour"`
	Neocloud    float64 `yaml:"neocloud-usd-per-gpu-hour" json:"neocloud_usd_per_gpu_hour"`
	Rental3Y    float64 `yaml:"rental-3y-usd-per-gpu-hour" json:"rental_3y_usd_per_gpu_hour"`
	KWPerGPU    float64 `yaml:"all-in-kw-per-gpu" json:"all_in_kw_per_gpu"`
}

// RetrySettings bound how hard a sweep tries.
type RetrySettings struct {
	PointAttempts int           `yaml:"point-attempts" json:"point_attempts"`
	StartTimeout  time.Duration `yaml:"start-timeout" json:"start_timeout"`
	LoadTimeout   time.Duration `yaml:"load-timeout" json:"load_timeout"`
	// FailedWindow is how long a pool whose points failed on node faults
	// waits for a retry-failed signal before recording them; 0: it does
	// not wait (a signal while it still runs is honoured).
	FailedWindow time.Duration `yaml:"failed-window" json:"failed_window"`
}

// PoolSettings size a runner label's pool; 0 capacity means one point per
// node in runners.yaml.
type PoolSettings struct {
	Capacity int `yaml:"capacity" json:"capacity"`
}

// EngineSettings add arguments and environment to an engine's launch, or
// replace its image, per framework or per entry name (an entry's win):
// planning renders them into the launch, so its fingerprint covers them.
type EngineSettings struct {
	Args  []string          `yaml:"args" json:"args"`
	Env   map[string]string `yaml:"env" json:"env"`
	Image string            `yaml:"image" json:"image,omitempty"`
}

// EngineFor is what the settings add to p's engine: its entry's settings,
// else its framework's.
func (s Settings) EngineFor(p Point) EngineSettings {
	if e, ok := s.Engines[p.Entry]; ok {
		return e
	}
	return s.Engines[p.Framework]
}

// DefaultSettings are InferenceMAX's workload conventions and its published
// cost and power figures (H100, B200, GB200, MI355X); other hardware has
// no price until one is configured.
func DefaultSettings() Settings {
	return Settings{
		Workload: WorkloadSettings{RandomRangeRatio: 0.8, RangeMode: "inferencemax", PromptsPerConc: 10, WarmupsPerConc: 2, RequestRate: "inf"},
		Hardware: map[string]HardwareCost{
			"h100":   {Hyperscaler: 1.30, Neocloud: 1.69, Rental3Y: 1.30, KWPerGPU: 1.73},
			"b200":   {Hyperscaler: 1.95, Neocloud: 2.34, Rental3Y: 2.90, KWPerGPU: 2.17},
			"gb200":  {Hyperscaler: 2.21, Neocloud: 2.75, Rental3Y: 3.30, KWPerGPU: 2.10},
			"mi355x": {Hyperscaler: 1.48, Neocloud: 1.90, Rental3Y: 2.10, KWPerGPU: 2.65},
		},
		Retry:        RetrySettings{PointAttempts: 3, StartTimeout: 30 * time.Minute, LoadTimeout: 2 * time.Hour},
		NodeHardware: DefaultNodeHardware(),
		Evals:        DefaultEvalSettings(),
		Agentic:      DefaultAgenticSettings(),
	}
}

// ParseSettings reads a settings file over the defaults; unknown fields
// are errors. Every problem is reported, each at the line it is on (a
// wrong default at the line of the section that leaves it out).
func ParseSettings(file string, data []byte) (Settings, Errors) {
	s := DefaultSettings()
	var errs Errors
	r := specyaml.Reporter{File: file, Errs: &errs}
	root := r.OptionalDocument(data)
	if root == nil {
		return s, errs
	}
	nodes := r.Decode(root, "", &s)
	bad := func(path, format string, args ...any) { r.At(nodes.Of(path), path, format, args...) }
	s.Workload.check(bad)
	s.Analysis.check(bad)
	s.Evals.check(bad)
	s.Agentic.check(bad)
	if s.Retry.PointAttempts < 1 {
		bad("retry.point-attempts", "%d: want at least 1", s.Retry.PointAttempts)
	}
	return s, errs
}

// reportFunc reports a problem with the field at path.
type reportFunc func(path, format string, args ...any)

func (w WorkloadSettings) check(bad reportFunc) {
	if w.RangeMode != "inferencemax" && w.RangeMode != "vllm" {
		bad("workload.range-mode", "%q: want inferencemax or vllm", w.RangeMode)
	}
	if w.RandomRangeRatio < 0 || w.RandomRangeRatio > 1 {
		bad("workload.random-range-ratio", "%g: want 0 to 1", w.RandomRangeRatio)
	}
	if w.PromptsPerConc < 1 {
		bad("workload.prompts-per-conc", "%d: want at least 1", w.PromptsPerConc)
	}
	if r := w.MaxFailureRate; r != nil && !(*r >= 0 && *r <= 1) {
		bad("workload.max-failure-rate", "%g: want a fraction from 0 (no failure allowed) to 1 (never fail a point for its failures); InferenceX uses 0.05", *r)
	}
	if w.RequestRate != "inf" {
		if rate, err := strconv.ParseFloat(w.RequestRate, 64); err != nil || rate <= 0 || math.IsNaN(rate) {
			bad("workload.request-rate", "%q: want inf or a positive rate", w.RequestRate)
		}
	}
}

func (a AnalysisSettings) check(bad reportFunc) {
	for i, t := range a.Targets {
		if !(t > 0) || math.IsInf(t, 0) {
			bad(fmt.Sprintf("analysis.targets[%d]", i), "%g: want a positive interactivity (tok/s/user)", t)
		}
	}
	if a.BaselineNights < 0 {
		bad("analysis.baseline-nights", "%d: want 0 (the default, 7) or more", a.BaselineNights)
	}
	if tier := a.Tier; tier != "" && tier != "hyperscaler" && tier != "neocloud" && tier != "rental-3y" {
		bad("analysis.tier", "%q: want hyperscaler, neocloud or rental-3y", tier)
	}
}
