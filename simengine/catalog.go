package simengine

import (
	"fmt"
	"slices"
	"strings"
)

// Precision is the numeric format of weights (and, below FP8, compute).
type Precision string

const (
	BF16 Precision = "bf16"
	FP8  Precision = "fp8"
	FP4  Precision = "fp4"
)

// weightBytes per parameter. FP4 formats (NVFP4, MXFP4) carry one 8-bit
// scale per 16 or 32 values: 4.25 to 4.5 bits; 4.5 is used.
func (p Precision) weightBytes() float64 {
	switch p {
	case FP8:
		return 1
	case FP4:
		return 4.5 / 8
	}
	return 2
}

// kvBytes per cached element: engines keep the KV cache in FP8 when the
// weights are FP8 or FP4 (vLLM --kv-cache-dtype fp8), else BF16.
func (p Precision) kvBytes() float64 {
	if p == BF16 {
		return 2
	}
	return 1
}

// Hardware is one accelerator's public datasheet figures, per GPU.
type Hardware struct {
	Name string
	// Dense (no sparsity) peak tensor throughput, TFLOP/s; 0 where the
	// precision has no hardware support (it then runs at the next wider one).
	TFLOPS map[Precision]float64
	HBMGB  float64 // memory capacity, GB (1e9 bytes)
	HBMTBs float64 // memory bandwidth, TB/s
	// LinkGBs is the scale-up (NVLink, Infinity Fabric) bandwidth per GPU in
	// one direction, GB/s: what a ring all-reduce can use.
	LinkGBs float64
	// TDPkW is the GPU's board power limit, the ceiling of modeled power.
	TDPkW float64
}

// Model is the architecture facts the roofline needs.
type Model struct {
	Name         string
	TotalParamsB float64 // billions
	// ActiveParamsB are the parameters one token touches: all of them for a
	// dense model, shared + top-k experts for a MoE.
	ActiveParamsB float64
	Layers        int
	Hidden        int
	// KVElemsPerTokenLayer is K+V elements cached per token per layer:
	// 2 · kv_heads · head_dim for GQA; kv_lora_rank + rope_dim for MLA.
	KVElemsPerTokenLayer int
	// AttnFLOPsPerCtxTokenLayer is attention FLOPs per query token per
	// cached token per layer: 4 · q_heads · head_dim for GQA (QKᵀ and AV).
	AttnFLOPsPerCtxTokenLayer float64
	// KVReplicated is true for MLA: every TP rank holds the whole latent
	// cache, so TP does not add KV capacity.
	KVReplicated bool
	// Experts and TopK describe a MoE (0 for dense): how much of the expert
	// weights a batch touches depends on how many tokens it routes.
	Experts, TopK int
	// ExpertParamsB is the part of TotalParamsB inside routed experts.
	ExpertParamsB float64
	MaxModelLen   int
}

// hardwareCatalog: dense tensor TFLOP/s, HBM and links from the vendors'
// datasheets, as of 2025.
var hardwareCatalog = []Hardware{
	// NVIDIA H100 SXM datasheet: 989 TF BF16, 1,979 TF FP8 (dense), 80 GB
	// HBM3 at 3.35 TB/s, NVLink 900 GB/s bidirectional, 700 W.
	{Name: "h100", TFLOPS: map[Precision]float64{BF16: 989, FP8: 1979}, HBMGB: 80, HBMTBs: 3.35, LinkGBs: 450, TDPkW: 0.70},
	// NVIDIA H200 SXM datasheet: H100 compute, 141 GB HBM3e at 4.8 TB/s, 700 W.
	{Name: "h200", TFLOPS: map[Precision]float64{BF16: 989, FP8: 1979}, HBMGB: 141, HBMTBs: 4.8, LinkGBs: 450, TDPkW: 0.70},
	// NVIDIA HGX B200 datasheet: 2.25 PF BF16, 4.5 PF FP8, 9 PF FP4 dense per
	// GPU, 180 GB HBM3e at 7.7 TB/s, NVLink 5 1.8 TB/s bidirectional, 1,000 W.
	{Name: "b200", TFLOPS: map[Precision]float64{BF16: 2250, FP8: 4500, FP4: 9000}, HBMGB: 180, HBMTBs: 7.7, LinkGBs: 900, TDPkW: 1.0},
	// NVIDIA GB200 NVL72 datasheet ÷ 72 GPUs: 2.5 PF BF16, 5 PF FP8, 10 PF
	// FP4 dense, 186 GB HBM3e at 8 TB/s, NVLink 5 1.8 TB/s bidirectional;
	// 1,200 W per GPU.
	{Name: "gb200", TFLOPS: map[Precision]float64{BF16: 2500, FP8: 5000, FP4: 10000}, HBMGB: 186, HBMTBs: 8, LinkGBs: 900, TDPkW: 1.2},
	// AMD Instinct MI300X datasheet: 1,307 TF BF16, 2,615 TF FP8 dense,
	// 192 GB HBM3 at 5.3 TB/s, 7 Infinity Fabric links × 64 GB/s each way,
	// 750 W.
	{Name: "mi300x", TFLOPS: map[Precision]float64{BF16: 1307, FP8: 2615}, HBMGB: 192, HBMTBs: 5.3, LinkGBs: 448, TDPkW: 0.75},
	// AMD Instinct MI325X datasheet: MI300X compute, 256 GB HBM3e at
	// 6 TB/s, 1,000 W.
	{Name: "mi325x", TFLOPS: map[Precision]float64{BF16: 1307, FP8: 2615}, HBMGB: 256, HBMTBs: 6, LinkGBs: 448, TDPkW: 1.0},
	// AMD Instinct MI355X datasheet: 2.5 PF BF16, 5 PF FP8, 10 PF MXFP4
	// dense, 288 GB HBM3e at 8 TB/s, 1,400 W.
	{Name: "mi355x", TFLOPS: map[Precision]float64{BF16: 2500, FP8: 5000, FP4: 10000}, HBMGB: 288, HBMTBs: 8, LinkGBs: 448, TDPkW: 1.4},
}

// modelCatalog: architecture figures from each model's config.json on its
// Hugging Face model card.
var modelCatalog = []Model{
	// meta-llama/Llama-3.3-70B-Instruct: 70.6 B params, 80 layers, hidden
	// 8192, 64 query heads, 8 KV heads, head_dim 128, 128k context.
	{Name: "llama-3.3-70b", TotalParamsB: 70.6, ActiveParamsB: 70.6, Layers: 80, Hidden: 8192,
		KVElemsPerTokenLayer: 2 * 8 * 128, AttnFLOPsPerCtxTokenLayer: 4 * 64 * 128, MaxModelLen: 131072},
	// meta-llama/Llama-3.1-8B-Instruct: 8.03 B params, 32 layers, hidden
	// 4096, 32 query heads, 8 KV heads, head_dim 128.
	{Name: "llama-3.1-8b", TotalParamsB: 8.03, ActiveParamsB: 8.03, Layers: 32, Hidden: 4096,
		KVElemsPerTokenLayer: 2 * 8 * 128, AttnFLOPsPerCtxTokenLayer: 4 * 32 * 128, MaxModelLen: 131072},
	// deepseek-ai/DeepSeek-R1: 671 B total, 37 B active, 61 layers, hidden
	// 7168, MLA with kv_lora_rank 512 + rope 64 cached per token, 128 heads
	// attending in the 512+64 latent space (absorbed); 256 routed experts,
	// top-8, ~654 B of the parameters in routed experts.
	{Name: "deepseek-r1", TotalParamsB: 671, ActiveParamsB: 37, Layers: 61, Hidden: 7168,
		KVElemsPerTokenLayer: 512 + 64, AttnFLOPsPerCtxTokenLayer: 2 * 128 * (576 + 512), KVReplicated: true,
		Experts: 256, TopK: 8, ExpertParamsB: 654, MaxModelLen: 163840},
	// openai/gpt-oss-120b: 116.8 B total, 5.1 B active, 36 layers, hidden
	// 2880, 64 query heads, 8 KV heads, head_dim 64; 128 experts, top-4,
	// ~114.7 B in experts. Half the layers use a 128-token sliding window;
	// the cache is modeled as full for all layers (an overestimate).
	{Name: "gpt-oss-120b", TotalParamsB: 116.8, ActiveParamsB: 5.1, Layers: 36, Hidden: 2880,
		KVElemsPerTokenLayer: 2 * 8 * 64, AttnFLOPsPerCtxTokenLayer: 4 * 64 * 64,
		Experts: 128, TopK: 4, ExpertParamsB: 114.7, MaxModelLen: 131072},
}

// LookupHardware finds a catalogue entry by name (case-insensitive).
func LookupHardware(name string) (Hardware, error) {
	for _, h := range hardwareCatalog {
		if strings.EqualFold(h.Name, name) {
			return h, nil
		}
	}
	return Hardware{}, fmt.Errorf("hardware %q is not in the catalogue (have %s)", name, strings.Join(HardwareNames(), ", "))
}

// LookupModel finds a catalogue entry by name (case-insensitive), also
// accepting a Hugging Face id whose last part matches.
func LookupModel(name string) (Model, error) {
	short := name[strings.LastIndex(name, "/")+1:]
	for _, m := range modelCatalog {
		if strings.EqualFold(m.Name, short) || strings.EqualFold(m.Name, strings.TrimSuffix(strings.ToLower(short), "-instruct")) {
			return m, nil
		}
	}
	return Model{}, fmt.Errorf("model %q is not in the catalogue (have %s)", name, strings.Join(ModelNames(), ", "))
}

// HardwareNames lists the catalogue.
func HardwareNames() []string {
	var names []string
	for _, h := range hardwareCatalog {
		names = append(names, h.Name)
	}
	return names
}

// ModelNames lists the catalogue.
func ModelNames() []string {
	var names []string
	for _, m := range modelCatalog {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	return names
}
