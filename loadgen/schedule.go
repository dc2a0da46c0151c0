package loadgen

import (
	"math"
	"math/rand/v2"
	"time"
)

// arrivals returns the send offsets of n requests for an open-loop run at
// rate requests/s. Gaps follow a gamma distribution with shape burstiness
// and mean 1/rate, as vLLM's benchmark does: burstiness 1 is a Poisson
// process, smaller is burstier, larger is more regular. The schedule is
// computed before the run, from the seed, so it costs nothing while
// measuring and is the same for the same seed.
func arrivals(n int, rate, burstiness float64, seed uint64) []time.Duration {
	out := make([]time.Duration, n)
	if math.IsInf(rate, 1) {
		return out
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	scale := 1 / (rate * burstiness)
	var t float64
	for i := range out {
		out[i] = time.Duration(t * float64(time.Second))
		t += gamma(r, burstiness) * scale
	}
	return out
}

// gamma draws from Gamma(shape, 1) with Marsaglia and Tsang's method.
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		// Boost: Gamma(a) = Gamma(a+1) · U^(1/a).
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
