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
	// ep > 1 places whole experts on ep of the tp GPUs (expert
	// parallelism) instead of slicing every expert over tp.
	ep int
	// dpAttn runs attention data-parallel: each of the tp ranks serves
	// its own share of the batch with the whole KV of its requests.
	dpAttn bool

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

// weightBytesPerGPU is what the weights occupy on each GPU. DP attention
// replicates the dense (attention and shared) weights on every rank:
// that is its price, paid in HBM and in bytes read per step.
func (r roofline) weightBytesPerGPU() float64 {
	dense, experts := r.weightParams(1)
	return (dense + experts) * r.precision.weightBytes()
}

// weightParams is the dense and the expert parameters each GPU reads when
// a fraction touched of the experts is in use.
func (r roofline) weightParams(touched float64) (dense, experts float64) {
	m := r.model
	dense = (m.TotalParamsB - m.ExpertParamsB) * 1e9
	if !r.dpAttn {
		dense /= float64(r.tp)
	}
	// Whether sliced over tp or placed whole on ep = tp GPUs, each GPU
	// holds and (in expectation) reads 1/tp of the experts in use.
	return dense, m.ExpertParamsB * 1e9 * touched / float64(r.tp)
}

// kvBytesPerTokenPerGPU is one cached token's footprint on each GPU,
// averaged over the replica. With DP attention a token lives whole on one
// rank, so the replica's tp GPUs hold tp times one GPU's tokens: the
// average is a tp-th, MLA or not.
func (r roofline) kvBytesPerTokenPerGPU() float64 {
	if r.model.KVReplicated && !r.dpAttn {
		return r.kvBytesPerTok
	}
	return r.kvBytesPerTok / float64(r.tp)
}

// kvTransferBytesPerGPU is what one GPU's link carries to move a
// request's KV of n tokens: TP-sharded KV travels in tp shards over tp
// links at once; a replicated (MLA) cache or a DP-attention rank needs
// all of it over its own link.
func (r roofline) kvTransferBytesPerGPU(n int) float64 {
	if r.model.KVReplicated || r.dpAttn {
		return float64(n) * r.kvBytesPerTok
	}
	return float64(n) * r.kvBytesPerTok / float64(r.tp)
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

	touched := 1.0
	if m.Experts > 0 {
		// A MoE step reads only the experts its tokens were routed to:
		// with T tokens each picking k of E, an expert is idle with
		// probability (1 − k/E)^T.
		touched = 1 - math.Pow(1-float64(m.TopK)/float64(m.Experts), tokens)
	}
	dense, experts := r.weightParams(touched)
	bytesPerGPU := (dense+experts)*r.precision.weightBytes() + kvRead*r.kvBytesPerTokenPerGPU()

	compute := flopsPerGPU / (r.peakFLOPS * r.cal.MFU)
	memory := bytesPerGPU / (r.bytesPerSec * r.cal.MBU)
	bound := math.Max(compute, memory)

	comm := r.communication(tokens)
	fixed := r.cal.StepOverhead.Seconds() + float64(m.Layers)*r.cal.LayerOverhead.Seconds()
	total := fixed + bound + comm
	return stepCost{duration: time.Duration(total * float64(time.Second)), utilization: bound / total}
}

// communication is a step's time on the scale-up link, in seconds. TP
// attention ends each layer's attention in an all-reduce, DP attention
// needs none (its rank owns its requests); the MLP ends in an all-reduce,
// or under EP in an all-to-all that sends each token to its top-k
// experts' GPUs in FP8 (dispatch) and brings the results back in BF16
// (combine), as DeepEP does.
func (r roofline) communication(tokens float64) float64 {
	if r.tp <= 1 || r.hw.LinkGBs <= 0 {
		return 0
	}
	m := r.model
	link := r.hw.LinkGBs * 1e9
	lat := r.cal.AllReduceLatency.Seconds()
	// Ring all-reduce of the BF16 activations.
	allReduce := lat + 2*float64(r.tp-1)/float64(r.tp)*tokens*float64(m.Hidden)*2/link
	perLayer := allReduce // the MLP's
	if r.ep > 1 && m.Experts > 0 {
		// Each rank dispatches its tp-th of the tokens; (ep−1)/ep of the
		// copies leave the GPU, 1 byte out and 2 bytes back per element.
		sent := tokens / float64(r.tp) * float64(m.TopK) * float64(m.Hidden) * float64(r.ep-1) / float64(r.ep)
		perLayer = 2*lat + sent*(1+2)/link
	}
	if !r.dpAttn {
		perLayer += allReduce
	}
	return float64(m.Layers) * perLayer
}
