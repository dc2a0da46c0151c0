package simengine

import (
	"math"
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

// TestStepTimeDecomposes: a step is the framework's and the layers'
// fixed costs plus the larger of compute and memory plus collectives; at
// batch 1 on one GPU it is memory-bound, its weight reads at the small-
// batch bandwidth b(1), and a 1,024-token prefill is compute-bound at
// nearly the full MFU.
func TestStepTimeDecomposes(t *testing.T) {
	r := mustRoofline(t, "llama-3.1-8b", "h100", BF16, 1)
	cal := r.cal
	fixed := cal.StepOverhead.Seconds() + 32*cal.LayerOverhead.Seconds()
	weights := 8.03e9 * 2
	kvPerTok := float64(32*2*8*128) * 2
	tests := []struct {
		name  string
		batch []work
		want  float64 // seconds
	}{
		{"decode at batch 1", decodeBatch(1, 128),
			fixed + weights/(3.35e12*cal.MBU*(1-0.1*math.Exp(-1.0/16))) + 129*kvPerTok/(3.35e12*cal.MBU)},
		{"1,024-token prefill", []work{{n: 1024}},
			fixed + (2*8.03e9*1024+1024*1025/2*4*32*128*32)/(989e12*cal.MFU*1024/(1024+32))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.step(tt.batch).duration.Seconds()
			require.InDelta(t, tt.want*1e3, got*1e3, 0.01*tt.want*1e3, "ms")
		})
	}
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
