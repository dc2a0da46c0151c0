package simengine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// DeepSeek-R1 FP8 on 8 H200s: 671 B params of which 654 B in experts, an
// MLA cache of (512 + 64) × 61 layers = 35,136 bytes per token, hidden
// 7,168, top-8, 450 GB/s NVLink, 8 µs per collective.
func TestEPAndDPAttentionRooflineByHand(t *testing.T) {
	tests := []struct {
		name        string
		ep          int
		dpAttn      bool
		weightsGB   float64 // per GPU
		kvPerTok    float64 // bytes per cached token per GPU, replica average
		commMs      float64 // scale-up link time of a 256-token step
		transferMiB float64 // one GPU link's share of a 1,000-token prompt's KV
	}{
		// 671e9 / 8; the latent cache is whole on every rank; two
		// all-reduces per layer of 2·7/8·256·7168·2 B at 450 GB/s + 8 µs:
		// 61 · 2 · 22.272 µs.
		{"tp8", 1, false, 83.875, 35136, 2.717184, 1000 * 35136.0 / (1 << 20)},
		// MLP all-reduce becomes an all-to-all: 256/8 tokens · 8 experts ·
		// 7168 · 7/8 elements, 3 B each way, + 2 · 8 µs = 26.704 µs; the
		// attention all-reduce stays: 61 · (26.704 + 22.272) µs.
		{"tp8 ep8", 8, false, 83.875, 35136, 2.987536, 1000 * 35136.0 / (1 << 20)},
		// Dense 17e9 replicated + 654e9 / 8; each rank holds its requests'
		// whole cache, so the replica average is 35,136 / 8; no attention
		// all-reduce: 61 · 26.704 µs.
		{"tp8 ep8 dp-attn", 8, true, 98.75, 4392, 1.628944, 1000 * 35136.0 / (1 << 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := engineConfig(t, "deepseek-r1", "h200", FP8, 8)
			cfg.EP, cfg.DPAttention = tt.ep, tt.dpAttn
			r := cfg.roofline()
			require.InDelta(t, tt.weightsGB, r.weightBytesPerGPU()/1e9, 1e-6)
			require.InDelta(t, tt.kvPerTok, r.kvBytesPerTokenPerGPU(), 1e-9)
			require.InDelta(t, tt.commMs, r.communication(256, 1)*1e3, 1e-4, "hand figures rounded to the ns")
			require.InDelta(t, tt.transferMiB, r.kvTransferBytesPerGPU(1000)/(1<<20), 1e-9)
		})
	}
}

// DP attention trades replicated dense weights (dearer at small batches)
// for KV reads split over the ranks (cheaper at large ones), which is why
// DeepSeek and SGLang use it for large-batch decode.
func TestDPAttentionMakesLargeDecodeBatchesCheaper(t *testing.T) {
	step := func(ep int, dp bool, batch int) time.Duration {
		cfg := engineConfig(t, "deepseek-r1", "h200", FP8, 8)
		cfg.EP, cfg.DPAttention = ep, dp
		return cfg.roofline().step(decodeBatch(batch, 4096)).duration
	}
	require.Greater(t, step(8, true, 1), step(1, false, 1), "batch 1: the replicated dense weights dominate")
	perTokTP, perTokDP := step(1, false, 256)/256, step(8, true, 256)/256
	require.Less(t, float64(perTokDP), 0.9*float64(perTokTP), "batch 256 at 4k context: the latent cache read is split 8 ways")
	// A dense model's step is the same with ep 1 and ep 0, and unchanged
	// from the TP-only roofline.
	cfg := engineConfig(t, "llama-3.3-70b", "h100", FP8, 8)
	require.Equal(t, newRoofline(cfg.Model, cfg.Hardware, FP8, 8, cfg.Calibration).step(decodeBatch(64, 2048)), cfg.roofline().step(decodeBatch(64, 2048)))
}

func TestParallelismConfigErrorsNameTheFix(t *testing.T) {
	tests := []struct {
		model   string
		tp, ep  int
		wantErr string
	}{
		{"llama-3.3-70b", 8, 8, "ep 8: llama-3.3-70b is dense, expert parallelism needs a MoE model"},
		{"deepseek-r1", 8, 16, "ep 16: the replica has tp 8 GPUs; want an ep that divides tp (e.g. --tp 16 --ep 16 --dp-attn)"},
		{"deepseek-r1", 8, 3, "ep 3: the replica has tp 8 GPUs"},
		{"deepseek-r1", 8, 4, ""},
	}
	for _, tt := range tests {
		cfg := engineConfig(t, tt.model, "h200", FP8, tt.tp)
		cfg.EP = tt.ep
		err := cfg.Validate()
		if tt.wantErr == "" {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, tt.wantErr)
	}
}

func TestKVLinkFor(t *testing.T) {
	tests := []struct {
		hardware, transfer string
		want               string
		gbs                float64
	}{
		{"gb200", "nixl", "nvlink5", 900},
		{"cluster:gb300-nv", "nixl", "nvlink5", 900},
		{"b200-multinode", "nixl", "ib-ndr", 50},
		{"h200-dgxc", "mooncake", "ib-ndr", 50},
		{"b300", "nixl", "ib-xdr", 100},
		{"mi355x-disagg", "mori", "roce-400g", 50},
		{"cluster:mi300x-amds", "", "roce-400g", 50},
		{"h100", "nvlink4", "nvlink4", 450},
	}
	for _, tt := range tests {
		l, err := KVLinkFor(tt.hardware, tt.transfer)
		require.NoError(t, err, tt.hardware)
		require.Equal(t, tt.want, l.Name, tt.hardware)
		require.InDelta(t, tt.gbs, l.GBs, 0)
	}
	_, err := KVLinkFor("h100", "carrier-pigeon")
	require.ErrorContains(t, err, `kv-p2p-transfer "carrier-pigeon": want one of nixl, mooncake, mori, ucx or a link`)
	_, err = KVLinkFor("tpu-v5", "nixl")
	require.ErrorContains(t, err, `hardware "tpu-v5": no default kv link`)
}
