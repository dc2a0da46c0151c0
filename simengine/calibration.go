package simengine

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Calibration holds the efficiencies and fixed costs no datasheet gives.
// The zero Calibration in an EngineConfig means "the fitted one for this
// hardware, framework and precision" (CalibrationFor).
type Calibration struct {
	MFU float64 // achieved ÷ peak tensor FLOP/s, for GEMMs of many rows
	MBU float64 // achieved ÷ peak HBM bandwidth, for large batches
	// StepOverhead is the scheduler, sampling and launch cost per step:
	// the framework's Python between two forward passes.
	StepOverhead time.Duration
	// LayerOverhead is the per-layer cost a step pays whatever its size:
	// the gaps between a layer's kernels, graph or no graph.
	LayerOverhead time.Duration
	// AllReduceLatency is the fixed cost of one 8-rank collective; 0
	// means the hardware's (Hardware.CollectiveLatency).
	AllReduceLatency time.Duration
}

// calibrationYAML is written by `infersweep engine calibrate --fit`. It
// is embedded YAML rather than generated Go so that the command can
// rewrite it without a code generator or gofmt, a reviewer reads a fit as
// a small diff of numbers, and a test checks that it parses; a rebuild
// picks up a new fit.
//
//go:embed calibration.yaml
var calibrationYAML []byte

// CalibrationFile is calibration.yaml: a default, then per-hardware and
// per-framework values over it. Durations are in microseconds.
type CalibrationFile struct {
	Comment    string                      `yaml:"comment,omitempty"`
	Default    CalibrationEntry            `yaml:"default"`
	Hardware   map[string]CalibrationEntry `yaml:"hardware,omitempty"`
	Frameworks map[string]CalibrationEntry `yaml:"frameworks,omitempty"`
}

// CalibrationEntry is one layer of a calibration; zero fields inherit.
type CalibrationEntry struct {
	MFU             float64 `yaml:"mfu,omitempty"`
	MBU             float64 `yaml:"mbu,omitempty"`
	StepOverheadUs  float64 `yaml:"step_overhead_us,omitempty"`
	LayerOverheadUs float64 `yaml:"layer_overhead_us,omitempty"`
	// FP4Efficiency scales MFU and MBU for FP4 weights on this hardware:
	// younger FP4 kernels reach less of the datasheet than FP8 ones.
	FP4Efficiency float64 `yaml:"fp4_efficiency,omitempty"`
	// Efficiency scales MFU and MBU for a framework: how much of the
	// hardware's achievable bandwidth its kernels reach (a framework
	// entry's; 0 means 1).
	Efficiency float64 `yaml:"efficiency,omitempty"`
}

var fitted = mustParseCalibration(calibrationYAML)

func mustParseCalibration(data []byte) CalibrationFile {
	f, err := ParseCalibrationFile(data)
	if err != nil {
		panic(fmt.Sprintf("simengine/calibration.yaml: %v", err))
	}
	return f
}

// ParseCalibrationFile reads calibration.yaml's format.
func ParseCalibrationFile(data []byte) (CalibrationFile, error) {
	var f CalibrationFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return f, err
	}
	d := f.Default
	if d.MFU <= 0 || d.MBU <= 0 || d.MFU > 1 || d.MBU > 1 {
		return f, fmt.Errorf("default: mfu %g and mbu %g must be in (0, 1]", d.MFU, d.MBU)
	}
	return f, nil
}

// FittedCalibration is the calibration the catalogue loaded.
func FittedCalibration() CalibrationFile { return fitted }

// DefaultCalibration is the fit's default layer: what hardware and
// frameworks the published table does not cover get.
func DefaultCalibration() Calibration { return fitted.For("", "", BF16) }

// CalibrationFor is the fitted calibration of a framework on a hardware
// at a precision.
func CalibrationFor(hardware, framework string, p Precision) Calibration {
	return fitted.For(hardware, framework, p)
}

// For layers the entries: default, then the hardware's, then the
// framework family's step overhead.
func (f CalibrationFile) For(hardware, framework string, p Precision) Calibration {
	e := f.Default
	e.FP4Efficiency = 1
	over := func(o CalibrationEntry) {
		e.MFU = cmpOr(o.MFU, e.MFU)
		e.MBU = cmpOr(o.MBU, e.MBU)
		e.StepOverheadUs = cmpOr(o.StepOverheadUs, e.StepOverheadUs)
		e.LayerOverheadUs = cmpOr(o.LayerOverheadUs, e.LayerOverheadUs)
		e.FP4Efficiency = cmpOr(o.FP4Efficiency, e.FP4Efficiency)
	}
	over(f.Hardware[strings.ToLower(hardware)])
	fw := f.Frameworks[FrameworkFamily(framework)]
	over(CalibrationEntry{StepOverheadUs: fw.StepOverheadUs})
	eff := cmpOr(fw.Efficiency, 1)
	c := Calibration{MFU: e.MFU * eff, MBU: min(1, e.MBU*eff),
		StepOverhead:  time.Duration(e.StepOverheadUs * float64(time.Microsecond)),
		LayerOverhead: time.Duration(e.LayerOverheadUs * float64(time.Microsecond))}
	if p == FP4 {
		c.MFU *= e.FP4Efficiency
		c.MBU *= e.FP4Efficiency
	}
	return c
}

func cmpOr(v, fallback float64) float64 {
	if v != 0 {
		return v
	}
	return fallback
}

// Frameworks are the serving frameworks whose step overhead the
// calibration knows apart; upstream's names map onto them
// (FrameworkFamily).
var Frameworks = []string{"vllm", "sglang", "trt", "atom"}

// FrameworkFamily maps upstream's framework names to the engine that
// runs the steps: dynamo-vllm and llmd-vllm schedule with vLLM,
// dynamo-sglang and sglang-disagg with SGLang, dynamo-trt with
// TensorRT-LLM, atom-disagg with ATOM. "" (and any other) is vllm, the
// sim's own shape.
func FrameworkFamily(name string) string {
	name = strings.ToLower(name)
	name = strings.TrimPrefix(strings.TrimPrefix(name, "dynamo-"), "llmd-")
	name = strings.TrimSuffix(name, "-disagg")
	if slices.Contains(Frameworks, name) {
		return name
	}
	return "vllm"
}
