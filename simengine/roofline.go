package simengine

import (
	"math"
	"time"
)

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
		kvBytesPerTok: float64(m.KVElemsPerTokenLayer*m.kvLayers()) * p.kvBytes(),
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

// Shape constants of the step model. No datasheet gives them; they are
// the assumptions the calibration's fitted efficiencies sit on top of,
// chosen from how the kernels behave rather than fitted point by point.
const (
	// gemmHalfRows: a GEMM with this many rows (tokens) reaches half
	// its large-batch FLOP/s; tensor-core tiles are 64–128 rows tall, so a
	// decode batch of a few tokens leaves most of each tile idle.
	gemmHalfRows = 32
	// smallBatchBandwidth is the fraction of the large-batch bandwidth a
	// batch-1 decode's weight reads reach (GEMV-shaped kernels issue too
	// few loads to saturate HBM); bandwidthRampTokens is the e-folding
	// batch of the ramp to full efficiency.
	smallBatchBandwidth = 0.9
	bandwidthRampTokens = 16
)

func (r roofline) step(batch []work) stepCost {
	var tokens, kvRead, attnPairs float64
	for _, w := range batch {
		n, ctx := float64(w.n), float64(w.ctx)
		tokens += n
		// Each new token reads the cache before it and the new ones up to
		// itself (causal attention).
		attnPairs += n*ctx + n*(n+1)/2
		kvRead += ctx + n
	}
	m := r.model
	touched, imbalance := r.routing(tokens)

	denseActive := m.ActiveParamsB - r.activeExpertParamsB()
	flops := 2*(denseActive+r.activeExpertParamsB()*imbalance)*1e9*tokens + attnPairs*m.AttnFLOPsPerCtxTokenLayer*float64(m.kvLayers())
	// Under TP every GPU multiplies all T tokens by its slice of the
	// weights: the GEMMs have T rows whatever TP is.
	compute := flops / float64(r.tp) / (r.peakFLOPS * r.cal.MFU * tokens / (tokens + gemmHalfRows))

	dense, experts := r.weightParams(touched)
	bwEff := r.cal.MBU * (1 - (1-smallBatchBandwidth)*math.Exp(-tokens/bandwidthRampTokens))
	memory := (dense+experts)*r.precision.weightBytes()/(r.bytesPerSec*bwEff) +
		kvRead*r.kvBytesPerTokenPerGPU()/(r.bytesPerSec*r.cal.MBU)
	bound := math.Max(compute, memory)

	comm := r.communication(tokens, imbalance)
	fixed := r.cal.StepOverhead.Seconds() + float64(m.Layers)*r.cal.LayerOverhead.Seconds()
	total := fixed + bound + comm
	return stepCost{duration: time.Duration(total * float64(time.Second)), utilization: bound / total}
}

// activeExpertParamsB is the routed experts' share of a token's active
// parameters (top-k of them), in billions.
func (r roofline) activeExpertParamsB() float64 {
	m := r.model
	if m.Experts == 0 {
		return 0
	}
	return m.ExpertParamsB * float64(m.TopK) / float64(m.Experts)
}

// routing is, for a MoE step of T tokens, the fraction of experts the
// batch touches and the expert-parallel imbalance: the busiest of ep GPUs
// gets more than its share of the T·k routed copies. With uniform routing
// the loads are close to Poisson with mean μ = T·k/ep, and the expected
// maximum of ep of them is about μ + sqrt(2 μ ln ep) (the Gaussian
// extreme-value bound), so the step waits for 1 + sqrt(2 ln ep / μ) times
// the mean, never more than ep (everything on one GPU). Real routers skew
// further (DeepSeek-V3 §3.4 balances experts with redundant copies for
// that reason); the fitted efficiencies absorb the rest.
func (r roofline) routing(tokens float64) (touched, imbalance float64) {
	m := r.model
	if m.Experts == 0 {
		return 1, 1
	}
	// With T tokens each picking k of E, an expert is idle with
	// probability (1 − k/E)^T.
	touched = 1 - math.Pow(1-float64(m.TopK)/float64(m.Experts), tokens)
	if r.ep <= 1 || tokens <= 0 {
		return touched, 1
	}
	ep := float64(r.ep)
	mean := tokens * float64(m.TopK) / ep
	return touched, math.Min(ep, 1+math.Sqrt(2*math.Log(ep)/mean))
}

// communication is a step's time on the scale-up link, in seconds: per
// layer, each collective's latency plus its bytes over the link. TP
// attention ends each layer's attention in an all-reduce, DP attention
// needs none (its rank owns its requests) but gathers tokens for a dense
// or TP-sliced MLP and scatters them back; the MLP ends in an all-reduce,
// or under EP in an all-to-all that sends each token to its top-k
// experts' GPUs in FP8 (dispatch) and brings the results back in BF16
// (combine), as DeepEP does.
func (r roofline) communication(tokens, imbalance float64) float64 {
	if r.tp <= 1 {
		return 0
	}
	m := r.model
	link, lat := r.link()
	// Ring all-reduce of the BF16 activations.
	allReduce := lat + 2*float64(r.tp-1)/float64(r.tp)*tokens*float64(m.Hidden)*2/link
	var perLayer float64
	switch {
	case r.ep > 1 && m.Experts > 0:
		// Each rank dispatches its tp-th of the tokens; (ep−1)/ep of the
		// copies leave the GPU, 1 byte out and 2 bytes back per element,
		// and the busiest GPU receives imbalance times its share.
		sent := tokens / float64(r.tp) * float64(m.TopK) * float64(m.Hidden) * float64(r.ep-1) / float64(r.ep) * imbalance
		perLayer = 2*lat + sent*(1+2)/link
	case r.dpAttn:
		perLayer = lat + allReduce // all-gather, then reduce-scatter
	default:
		perLayer = allReduce
	}
	if !r.dpAttn {
		perLayer += allReduce
	}
	return float64(m.Layers) * perLayer
}

// link is the bandwidth (bytes/s) and latency (s) of one collective over
// the replica's tp ranks. The latency grows with the tree's depth: a
// 2-rank all-reduce costs about two thirds of an 8-rank one. Ranks beyond
// the scale-up domain cross InfiniBand, which then bounds the bandwidth
// and adds its own latency.
func (r roofline) link() (bytesPerSec, seconds float64) {
	base := r.cal.AllReduceLatency
	if base == 0 {
		base = r.hw.CollectiveLatency
	}
	n := float64(r.tp)
	seconds = base.Seconds() * (0.5 + 0.5*math.Log2(n)/3)
	bytesPerSec = r.hw.LinkGBs * 1e9
	if r.hw.ScaleUpGPUs > 0 && r.tp > r.hw.ScaleUpGPUs {
		seconds += scaleOutLatency.Seconds()
		bytesPerSec = math.Min(bytesPerSec, scaleOutGBs*1e9)
	}
	return bytesPerSec, seconds
}
