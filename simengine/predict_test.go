package simengine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPredictedOrderingMatchesPublicResults: for Llama-3.3-70B FP8 at TP8,
// public InferenceMAX results put B200 above H200 above H100 in throughput
// per GPU at equal interactivity. Here each faster part must dominate: more
// throughput per GPU and more interactivity at the same concurrency.
func TestPredictedOrderingMatchesPublicResults(t *testing.T) {
	for _, seq := range []struct{ isl, osl int }{{1024, 1024}, {8192, 1024}} {
		for _, conc := range []int{4, 16, 64, 256} {
			var prev Prediction
			for i, hw := range []string{"h100", "h200", "b200"} {
				cfg := engineConfig(t, "llama-3.3-70b", hw, FP8, 8)
				cfg.MaxModelLen = seq.isl + seq.osl + 256
				p, err := Predict(cfg, seq.isl, seq.osl, conc, 2*conc)
				require.NoError(t, err)
				if i > 0 {
					require.Greater(t, p.TputPerGPU, prev.TputPerGPU, "%d/%d conc %d: %s tput/GPU", seq.isl, seq.osl, conc, hw)
					require.GreaterOrEqual(t, p.Interactivity, prev.Interactivity, "%d/%d conc %d: %s interactivity", seq.isl, seq.osl, conc, hw)
				}
				prev = p
			}
		}
	}
}
