package simengine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustRoofline(t *testing.T, model, hw string, p Precision, tp int) roofline {
	t.Helper()
	m, err := LookupModel(model)
	require.NoError(t, err)
	h, err := LookupHardware(hw)
	require.NoError(t, err)
	return newRoofline(m, h, p, tp, DefaultCalibration())
}

func decodeBatch(batch, ctx int) []work {
	b := make([]work, batch)
	for i := range b {
		b[i] = work{n: 1, ctx: ctx}
	}
	return b
}

func TestStepTimesMatchPublishedSanityFigures(t *testing.T) {
	r := mustRoofline(t, "llama-3.1-8b", "h100", BF16, 1)
	tests := []struct {
		name     string
		batch    []work
		wantMs   float64
		tolerMs  float64
		minUtil  float64
		explains string
	}{
		// 16.06 GB of weights ÷ (3.35 TB/s × 0.8) = 6.0 ms, plus 0.9 ms fixed.
		{"decode at batch 1", decodeBatch(1, 128), 6.9, 0.2, 0.8, "≈ 6 ms/token plus overhead"},
		// 2 · 8.03e9 · 1024 FLOPs + causal attention ÷ (989 TF × 0.6).
		{"1,024-token prefill", []work{{n: 1024}}, 29.1, 0.5, 0.9, "≈ 28 ms"},
		// Weights + 128 × 1.5k cached tokens × 128 KiB read per step.
		{"decode at batch 128, 1.5k context", decodeBatch(128, 1536), 16.6, 0.4, 0.9, "≈ 8k output tok/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cost := r.step(tt.batch)
			require.InDelta(t, tt.wantMs, float64(cost.duration)/float64(time.Millisecond), tt.tolerMs, tt.explains)
			require.GreaterOrEqual(t, cost.utilization, tt.minUtil)
		})
	}
	tokPerS := 128 / r.step(decodeBatch(128, 1536)).duration.Seconds()
	require.InDelta(t, 7700, tokPerS, 300, "≈ 8k output tok/s at batch 128")
}

func TestStepTimeRespondsToTheRightKnobs(t *testing.T) {
	ms := func(r roofline, b []work) float64 { return float64(r.step(b).duration) / float64(time.Millisecond) }
	l70 := func(hw string, p Precision, tp int) roofline { return mustRoofline(t, "llama-3.3-70b", hw, p, tp) }

	// FP8 halves the weight bytes of a memory-bound decode.
	require.Less(t, ms(l70("h100", FP8, 8), decodeBatch(8, 1024)), 0.7*ms(l70("h100", BF16, 8), decodeBatch(8, 1024)))
	// More HBM bandwidth: H200 decodes faster than H100, B200 faster still.
	h100, h200, b200 := ms(l70("h100", FP8, 8), decodeBatch(64, 2048)), ms(l70("h200", FP8, 8), decodeBatch(64, 2048)), ms(l70("b200", FP8, 8), decodeBatch(64, 2048))
	require.Less(t, h200, h100)
	require.Less(t, b200, h200)
	// Longer contexts cost more per decode step.
	require.Greater(t, ms(l70("h100", FP8, 8), decodeBatch(64, 8192)), ms(l70("h100", FP8, 8), decodeBatch(64, 1024)))
	// A MoE at batch 1 reads only its active experts: far less than all 671 B.
	ds := mustRoofline(t, "deepseek-r1", "h200", FP8, 8)
	require.Less(t, ms(ds, decodeBatch(1, 1024)), 0.3*ms(ds, decodeBatch(512, 1024)))
}
