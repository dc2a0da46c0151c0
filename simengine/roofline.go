package simengine

import (
	"math"
	"time"
)

// Calibration holds the efficiencies and fixed costs no datasheet gives.
// The defaults put Llama-3.1-8B BF16 on one H100 at ≈ 6 ms per decode step
// at batch 1 and ≈ 28 ms for a 1,024-token prefill, as measured on vLLM.
type Calibration struct {
	MFU float64 // achieved ÷ peak tensor FLOP/s
	MBU float64 // achieved ÷ peak HBM bandwidth
	// StepOverhead is the scheduler, sampling and launch cost per step.
	StepOverhead time.Duration
	// LayerOverhead is the per-layer cost a step pays whatever its size.
	LayerOverhead time.Duration
	// AllReduceLatency is the fixed cost of one all-reduce across TP ranks.
	AllReduceLatency time.Duration
}

// DefaultCalibration is what the sim uses unless told otherwise.
func DefaultCalibration() Calibration {
	return Calibration{MFU: 0.6, MBU: 0.8, StepOverhead: 800 * time.Microsecond, LayerOverhead: 4 * time.Microsecond, AllReduceLatency: 8 * time.Microsecond}
}

// roofline prices one engine step on one replica of TP GPUs.
type roofline struct {
	model     Model
	hw        Hardware
	precision Precision
	tp        int
	cal       Calibration

	peakFLOPS     float64 // per GPU, at the precision's compute format
	bytesPerSec   float64 // per GPU
	kvBytesPerTok float64 // all layers, whole model (before TP split)
}

func newRoofline(m Model, hw Hardware, p Precision, tp int, cal Calibration) roofline {
	peak := hw.TFLOPS[p]
	// Without hardware support (FP4 on Hopper), the math runs one format up.
	for _, fallback := range []Precision{FP8, BF16} {
		if peak == 0 {
			peak = hw.TFLOPS[fallback]
		}
	}
	return roofline{
		model: m, hw: hw, precision: p, tp: tp, cal: cal,
		peakFLOPS:     peak * 1e12,
		bytesPerSec:   hw.HBMTBs * 1e12,
		kvBytesPerTok: float64(m.KVElemsPerTokenLayer*m.Layers) * p.kvBytes(),
	}
}

// weightBytesPerGPU is what the weights occupy on each GPU.
func (r roofline) weightBytesPerGPU() float64 {
	return r.model.TotalParamsB * 1e9 * r.precision.weightBytes() / float64(r.tp)
}

// kvBytesPerTokenPerGPU is one cached token's footprint on each GPU.
func (r roofline) kvBytesPerTokenPerGPU() float64 {
	if r.model.KVReplicated {
		return r.kvBytesPerTok
	}
	return r.kvBytesPerTok / float64(r.tp)
}

// work is one request's share of a step: n new tokens on top of ctx
// tokens already cached.
type work struct {
	n   int
	ctx int
}

// stepCost is a step's duration and how busy it kept the GPUs.
type stepCost struct {
	duration time.Duration
	// utilization is the roofline-bound time over the step time, 0..1.
	utilization float64
}

func (r roofline) step(batch []work) stepCost {
	var tokens, kvRead, attnPairs float64
	for _, w := range batch {
		n, ctx := float64(w.n), float64(w.ctx)
		tokens += n
		// Each new token reads the cache before it and the new ones up to
		// itself (causal attention).
		pairs := n*ctx + n*(n+1)/2
		attnPairs += pairs
		kvRead += ctx + n
	}
	m := r.model
	flops := 2*m.ActiveParamsB*1e9*tokens + attnPairs*m.AttnFLOPsPerCtxTokenLayer*float64(m.Layers)
	flopsPerGPU := flops / float64(r.tp)

	weightBytes := r.weightBytesPerGPU()
	if m.Experts > 0 {
		// A MoE step reads only the experts its tokens were routed to:
		// with T tokens each picking k of E, an expert is idle with
		// probability (1 − k/E)^T.
		touched := 1 - math.Pow(1-float64(m.TopK)/float64(m.Experts), tokens)
		dense := (m.TotalParamsB - m.ExpertParamsB) * 1e9
		experts := m.ExpertParamsB * 1e9 * touched
		weightBytes = (dense + experts) * r.precision.weightBytes() / float64(r.tp)
	}
	bytesPerGPU := weightBytes + kvRead*r.kvBytesPerTokenPerGPU()

	compute := flopsPerGPU / (r.peakFLOPS * r.cal.MFU)
	memory := bytesPerGPU / (r.bytesPerSec * r.cal.MBU)
	bound := math.Max(compute, memory)

	var allReduce float64
	if r.tp > 1 && r.hw.LinkGBs > 0 {
		// Two all-reduces per layer (after attention and after the MLP) of
		// the BF16 activations, ring algorithm.
		size := tokens * float64(m.Hidden) * 2
		ring := 2 * float64(r.tp-1) / float64(r.tp) * size / (r.hw.LinkGBs * 1e9)
		allReduce = 2 * float64(m.Layers) * (r.cal.AllReduceLatency.Seconds() + ring)
	}
	fixed := r.cal.StepOverhead.Seconds() + float64(m.Layers)*r.cal.LayerOverhead.Seconds()
	total := fixed + bound + allReduce
	return stepCost{duration: time.Duration(total * float64(time.Second)), utilization: bound / total}
}
