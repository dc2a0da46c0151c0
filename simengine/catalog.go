package simengine

import (
	"fmt"
	"slices"
	"strings"
	"time"
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
	// ScaleUpGPUs is how many GPUs share the scale-up link (8 in an HGX
	// or MI300-series node, 72 in an NVL72 rack); collectives over more
	// ranks than that cross the scale-out network instead.
	ScaleUpGPUs int
	// Fabric names the scale-up link, for people reading a prediction.
	Fabric string
	// CollectiveLatency is one small-message all-reduce over 8 ranks of
	// the scale-up link: what every TP layer pays at decode batch sizes,
	// whatever the bytes.
	CollectiveLatency time.Duration
}

// Model is the architecture facts the roofline needs.
type Model struct {
	Name string
	// Prefixes are upstream's model-prefix values for this model, and
	// Aliases the Hugging Face names (lower case, without quantisation
	// suffixes) its master configs use.
	Prefixes, Aliases []string
	TotalParamsB      float64 // billions
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
	// KVLayers is how many layers keep a cache that grows with context:
	// all of them for a plain transformer, fewer for hybrids whose other
	// layers hold a fixed-size state (linear attention) or a short
	// sliding window. 0 means Layers.
	KVLayers int
	// Heads, KVHeads and Vocab are the config.json figures, kept for
	// readers and for checks; the step model uses the derived fields.
	Heads, KVHeads, Vocab int
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

// LookupHardware finds a catalogue entry by name (case-insensitive).
func LookupHardware(name string) (Hardware, error) {
	for _, h := range hardwareCatalog {
		if strings.EqualFold(h.Name, name) {
			return h, nil
		}
	}
	return Hardware{}, fmt.Errorf("hardware %q is not in the catalogue (have %s)", name, strings.Join(HardwareNames(), ", "))
}

// LookupModel finds a catalogue entry by name, upstream model-prefix or
// Hugging Face id (case-insensitive): the id's last part, less the
// suffixes that name a checkpoint's quantisation or revision (-FP8,
// -NVFP4-v2, -MXFP4-Preview, -Instruct …), so that every model an
// upstream master config names resolves without listing each checkpoint.
func LookupModel(name string) (Model, error) {
	short := baseModelName(name)
	for _, m := range modelCatalog {
		if short == m.Name || slices.Contains(m.Aliases, short) || slices.Contains(m.Prefixes, short) {
			return m, nil
		}
	}
	return Model{}, fmt.Errorf("model %q is not in the catalogue (have %s)", name, strings.Join(ModelNames(), ", "))
}

// checkpointSuffixes are the words upstream's checkpoint names append to a
// model's name; they change the weights' format, not the architecture.
var checkpointSuffixes = []string{"instruct", "fp8", "fp4", "nvfp4", "mxfp4", "mxfp8", "preview", "v2", "kv"}

func baseModelName(name string) string {
	short := strings.ToLower(name[strings.LastIndex(name, "/")+1:])
	for {
		i := strings.LastIndex(short, "-")
		if i < 0 || !slices.Contains(checkpointSuffixes, short[i+1:]) {
			return short
		}
		short = short[:i]
	}
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

// kvLayers is how many layers' caches grow with context.
func (m Model) kvLayers() int {
	if m.KVLayers > 0 {
		return m.KVLayers
	}
	return m.Layers
}
