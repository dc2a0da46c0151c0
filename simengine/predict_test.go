package simengine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPredictedOrderingMatchesPublicResults: for Llama-3.3-70B FP8 at TP8,
// public InferenceMAX results put B200 above H200 above H100 in throughput
// per GPU at equal interactivity. Here each faster part must dominate: more
// throughput per GPU and more interactivity at the same concurrency. H200
// is H100's die with faster HBM: where a step is compute-bound (1k/1k at
// 256) the two tie, so H200 must match H100 there and beat it elsewhere.
func TestPredictedOrderingMatchesPublicResults(t *testing.T) {
	for _, seq := range []struct{ isl, osl int }{{1024, 1024}, {8192, 1024}} {
		for _, conc := range []int{4, 16, 64, 256} {
			var prev Prediction
			for i, hw := range []string{"h100", "h200", "b200"} {
				cfg := engineConfig(t, "llama-3.3-70b", hw, FP8, 8)
				cfg.MaxModelLen = seq.isl + seq.osl + 256
				p, err := Predict(cfg, seq.isl, seq.osl, conc, 2*conc)
				require.NoError(t, err)
				if hw == "h200" {
					require.GreaterOrEqual(t, p.TputPerGPU, prev.TputPerGPU, "%d/%d conc %d: h200 tput/GPU", seq.isl, seq.osl, conc)
				} else if i > 0 {
					require.Greater(t, p.TputPerGPU, prev.TputPerGPU, "%d/%d conc %d: %s tput/GPU", seq.isl, seq.osl, conc, hw)
					require.GreaterOrEqual(t, p.Interactivity, prev.Interactivity, "%d/%d conc %d: %s interactivity", seq.isl, seq.osl, conc, hw)
				}
				prev = p
			}
		}
	}
}

// TestPredictCurveRowsMatchPredict: one row per hardware and concurrency,
// in that order, each the prediction of that point with the context
// widened to fit isl+osl (8k/1k here, above the default max length).
func TestPredictCurveRowsMatchPredict(t *testing.T) {
	h100, b200 := engineConfig(t, "llama-3.3-70b", "h100", FP8, 8), engineConfig(t, "llama-3.3-70b", "b200", FP8, 8)
	h100.MaxModelLen, b200.MaxModelLen = 2048, 2048
	rows, err := PredictCurve([]EngineConfig{h100, b200}, 8192, 1024, []int{4, 64})
	require.NoError(t, err)
	tests := []struct {
		row  int
		cfg  EngineConfig
		hw   string
		conc int
	}{{0, h100, "h100", 4}, {1, h100, "h100", 64}, {2, b200, "b200", 4}, {3, b200, "b200", 64}}
	require.Len(t, rows, len(tests))
	for _, tt := range tests {
		cfg := tt.cfg
		cfg.MaxModelLen = 8192 + 1024
		want, err := Predict(cfg, 8192, 1024, tt.conc, 2*tt.conc)
		require.NoError(t, err)
		got := rows[tt.row]
		require.Equal(t, CurvePoint{Hardware: tt.hw, ISL: 8192, OSL: 1024, Concurrency: tt.conc, TputPerGPU: want.TputPerGPU, OutputTputPerGPU: want.OutputTputPerGPU,
			Interactivity: want.Interactivity, MedianTTFTms: float64(want.MedianTTFT) / 1e6, MedianTPOTms: float64(want.MedianTPOT) / 1e6,
			TimeBasis: "simulated (model prediction)"}, got)
	}
}
