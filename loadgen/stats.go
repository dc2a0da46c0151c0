package loadgen

import (
	"math"
	"slices"
)

// Distribution summarises one latency metric in milliseconds. A metric with
// no samples has Count 0 and NaN figures, which JSON output writes as null:
// an unmeasured figure is never shown as zero.
type Distribution struct {
	Count  int
	Mean   float64
	Median float64
	Std    float64
	P90    float64
	P99    float64
	P999   float64
}

type number interface {
	~int64 | ~uint32 | ~float64
}

// summarize sorts values in place and reports them in milliseconds, given
// how many milliseconds one unit is.
func summarize[T number](values []T, msPerUnit float64) Distribution {
	n := len(values)
	if n == 0 {
		nan := math.NaN()
		return Distribution{Mean: nan, Median: nan, Std: nan, P90: nan, P99: nan, P999: nan}
	}
	slices.Sort(values)
	// Two passes for the variance: one-pass formulas lose precision on
	// large, tightly clustered samples such as ITLs.
	var sum float64
	for _, v := range values {
		sum += float64(v)
	}
	mean := sum / float64(n)
	var sq float64
	for _, v := range values {
		d := float64(v) - mean
		sq += d * d
	}
	return Distribution{
		Count:  n,
		Mean:   mean * msPerUnit,
		Median: percentile(values, 50) * msPerUnit,
		Std:    math.Sqrt(sq/float64(n)) * msPerUnit,
		P90:    percentile(values, 90) * msPerUnit,
		P99:    percentile(values, 99) * msPerUnit,
		P999:   percentile(values, 99.9) * msPerUnit,
	}
}

// percentile is numpy.percentile's default ("linear") on sorted values.
func percentile[T number](sorted []T, p float64) float64 {
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(sorted)-1)
	frac := rank - float64(lo)
	return float64(sorted[lo]) + frac*(float64(sorted[hi])-float64(sorted[lo]))
}
