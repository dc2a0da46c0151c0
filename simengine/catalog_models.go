package simengine

// modelCatalog: architecture figures from each model's config.json on its
// Hugging Face model card, or its technical report. This catalogue was
// written without network access: figures for models released after the
// author's knowledge are marked "unsure" or "placeholder" and should be
// checked against the card before anyone trusts a prediction for them.
//
// For a MoE, ExpertParamsB = MoE layers × experts × 3 · hidden ·
// moe_intermediate (gate, up, down), from the config's figures.
var modelCatalog = []Model{
	// meta-llama/Llama-3.3-70B-Instruct: 70.6 B params, 80 layers, hidden
	// 8192, 64 query heads, 8 KV heads, head_dim 128, vocab 128,256, 128k
	// context. Upstream's retired "70b" entries ran it.
	{Name: "llama-3.3-70b", Prefixes: []string{"70b", "llama70b"}, TotalParamsB: 70.6, ActiveParamsB: 70.6, Layers: 80, Hidden: 8192,
		Heads: 64, KVHeads: 8, Vocab: 128256,
		KVElemsPerTokenLayer: 2 * 8 * 128, AttnFLOPsPerCtxTokenLayer: 4 * 64 * 128, MaxModelLen: 131072},
	// meta-llama/Llama-3.1-8B-Instruct: 8.03 B params, 32 layers, hidden
	// 4096, 32 query heads, 8 KV heads, head_dim 128, vocab 128,256.
	{Name: "llama-3.1-8b", TotalParamsB: 8.03, ActiveParamsB: 8.03, Layers: 32, Hidden: 4096,
		Heads: 32, KVHeads: 8, Vocab: 128256,
		KVElemsPerTokenLayer: 2 * 8 * 128, AttnFLOPsPerCtxTokenLayer: 4 * 32 * 128, MaxModelLen: 131072},
	// deepseek-ai/DeepSeek-R1(-0528): 671 B total, 37 B active, 61 layers
	// (3 dense, 58 MoE), hidden 7168, MLA with kv_lora_rank 512 + rope 64
	// cached per token, 128 heads attending in the 512+64 latent space
	// (absorbed); 256 routed experts, top-8, + 1 shared; ~654 B in routed
	// experts (58 × 256 × 3 · 7168 · 2048); vocab 129,280.
	{Name: "deepseek-r1", Prefixes: []string{"dsr1"}, Aliases: []string{"deepseek-r1-0528"},
		TotalParamsB: 671, ActiveParamsB: 37, Layers: 61, Hidden: 7168, Heads: 128, Vocab: 129280,
		KVElemsPerTokenLayer: 512 + 64, AttnFLOPsPerCtxTokenLayer: 2 * 128 * (576 + 512), KVReplicated: true,
		Experts: 256, TopK: 8, ExpertParamsB: 654, MaxModelLen: 163840},
	// deepseek-ai/DeepSeek-V4-Pro: PLACEHOLDER. Its architecture was not
	// known to the author (no network); DeepSeek-V3/R1's figures stand in,
	// with the 1M context upstream's agentic runs need (unsure). Check the
	// model card before trusting any DSv4 prediction.
	{Name: "deepseek-v4-pro", Prefixes: []string{"dsv4"}, Aliases: []string{"deepseek-v4"},
		TotalParamsB: 671, ActiveParamsB: 37, Layers: 61, Hidden: 7168, Heads: 128, Vocab: 129280,
		KVElemsPerTokenLayer: 512 + 64, AttnFLOPsPerCtxTokenLayer: 2 * 128 * (576 + 512), KVReplicated: true,
		Experts: 256, TopK: 8, ExpertParamsB: 654, MaxModelLen: 1048576},
	// openai/gpt-oss-120b: 116.8 B total, 5.1 B active, 36 layers, hidden
	// 2880, 64 query heads, 8 KV heads, head_dim 64; 128 experts, top-4,
	// ~114.7 B in experts; vocab 201,088. Layers alternate full attention
	// and a 128-token sliding window: only the 18 full layers' cache grows.
	{Name: "gpt-oss-120b", Prefixes: []string{"gptoss"}, TotalParamsB: 116.8, ActiveParamsB: 5.1, Layers: 36, Hidden: 2880,
		KVLayers: 18, Heads: 64, KVHeads: 8, Vocab: 201088,
		KVElemsPerTokenLayer: 2 * 8 * 64, AttnFLOPsPerCtxTokenLayer: 4 * 64 * 64,
		Experts: 128, TopK: 4, ExpertParamsB: 114.7, MaxModelLen: 131072},
	// Qwen/Qwen3.5-397B-A17B: 397 B total, 17 B active, 60 layers in 15
	// blocks of 3 Gated DeltaNet (linear attention, fixed state) + 1 gated
	// full attention (32 query heads, 2 KV heads, head_dim 256), hidden
	// 4096, 512 experts, top-10 + 1 shared, moe_intermediate 1024 (~386 B
	// in experts), vocab 248,320, 262k context. Figures as the author
	// recalls the card (unsure on head counts; check).
	{Name: "qwen3.5-397b-a17b", Prefixes: []string{"qwen3.5"}, Aliases: []string{"qwen3.5-397b"},
		TotalParamsB: 397, ActiveParamsB: 17, Layers: 60, Hidden: 4096, KVLayers: 15, Heads: 32, KVHeads: 2, Vocab: 248320,
		KVElemsPerTokenLayer: 2 * 2 * 256, AttnFLOPsPerCtxTokenLayer: 4 * 32 * 256,
		Experts: 512, TopK: 10, ExpertParamsB: 386, MaxModelLen: 262144},
	// zai-org/GLM-5 (and its 5.1/5.2 revisions, assumed to share it):
	// 744 B total, 40 B active (GLM-5 release notes); 78 layers, hidden
	// 6144, MLA-style cache with DeepSeek sparse attention, 256 experts,
	// top-8, vocab ~155k: layer/hidden/expert figures unsure, the cache
	// modeled as DeepSeek's 576-element latent.
	{Name: "glm-5", Prefixes: []string{"glm5", "glm5.1", "glm5.2"}, Aliases: []string{"glm-5.1", "glm-5.2"},
		TotalParamsB: 744, ActiveParamsB: 40, Layers: 78, Hidden: 6144, Heads: 64, Vocab: 154880,
		KVElemsPerTokenLayer: 512 + 64, AttnFLOPsPerCtxTokenLayer: 2 * 64 * (576 + 512), KVReplicated: true,
		Experts: 256, TopK: 8, ExpertParamsB: 715, MaxModelLen: 202752},
	// moonshotai/Kimi-K2.5 (K2.6 assumed the same): Kimi K2's DeepSeek-V3
	// shape at 1.04 T total, 32 B active: 61 layers (1 dense), hidden
	// 7168, MLA 512 + 64, 64 heads, 384 experts, top-8 + 1 shared (~1,014 B
	// in experts: 60 × 384 × 3 · 7168 · 2048), vocab 163,840, 256k context.
	{Name: "kimi-k2.5", Prefixes: []string{"kimik2.5", "kimik2.6"}, Aliases: []string{"kimi-k2", "kimi-k2.6"},
		TotalParamsB: 1040, ActiveParamsB: 32, Layers: 61, Hidden: 7168, Heads: 64, Vocab: 163840,
		KVElemsPerTokenLayer: 512 + 64, AttnFLOPsPerCtxTokenLayer: 2 * 64 * (576 + 512), KVReplicated: true,
		Experts: 384, TopK: 8, ExpertParamsB: 1014, MaxModelLen: 262144},
	// moonshotai/Kimi-K3: PLACEHOLDER, architecture unknown to the author;
	// Kimi-K2.5's figures stand in. Check the card.
	{Name: "kimi-k3", Prefixes: []string{"kimik3"},
		TotalParamsB: 1040, ActiveParamsB: 32, Layers: 61, Hidden: 7168, Heads: 64, Vocab: 163840,
		KVElemsPerTokenLayer: 512 + 64, AttnFLOPsPerCtxTokenLayer: 2 * 64 * (576 + 512), KVReplicated: true,
		Experts: 384, TopK: 8, ExpertParamsB: 1014, MaxModelLen: 262144},
	// MiniMaxAI/MiniMax-M3: PLACEHOLDER with MiniMax-M2's figures (230 B
	// total, 10 B active, 62 layers, hidden 3072, 48 query heads, 8 KV
	// heads, head_dim 128, 256 experts, top-8, moe_intermediate 1536:
	// ~224 B in experts, vocab 200,064, 196k context); M3's were unknown
	// to the author.
	{Name: "minimax-m3", Prefixes: []string{"minimaxm3"}, Aliases: []string{"minimax-m2", "minimax-m2.5"},
		TotalParamsB: 230, ActiveParamsB: 10, Layers: 62, Hidden: 3072, Heads: 48, KVHeads: 8, Vocab: 200064,
		KVElemsPerTokenLayer: 2 * 8 * 128, AttnFLOPsPerCtxTokenLayer: 4 * 48 * 128,
		Experts: 256, TopK: 8, ExpertParamsB: 224, MaxModelLen: 196608},
}
