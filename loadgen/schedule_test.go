package loadgen

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestArrivalsHaveTheRequestedRateAndShape(t *testing.T) {
	const n, rate = 20000, 50.0
	for _, burstiness := range []float64{0.5, 1, 4} {
		gaps := make([]float64, n-1)
		at := arrivals(n, rate, burstiness, 42)
		for i := 1; i < n; i++ {
			gaps[i-1] = (at[i] - at[i-1]).Seconds()
		}
		var sum, sq float64
		for _, g := range gaps {
			sum += g
		}
		mean := sum / float64(len(gaps))
		for _, g := range gaps {
			sq += (g - mean) * (g - mean)
		}
		cv := math.Sqrt(sq/float64(len(gaps))) / mean
		require.InDelta(t, 1/rate, mean, 0.03/rate, "burstiness %g: mean gap", burstiness)
		// A gamma with shape k has coefficient of variation 1/√k.
		require.InDelta(t, 1/math.Sqrt(burstiness), cv, 0.05, "burstiness %g: variability", burstiness)
	}
	require.Equal(t, arrivals(10, rate, 1, 1), arrivals(10, rate, 1, 1), "seeded")
	require.Equal(t, make([]time.Duration, 3), arrivals(3, math.Inf(1), 1, 1), "infinite rate sends at once")
}
