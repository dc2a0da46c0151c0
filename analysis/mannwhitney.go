package analysis

import (
	"math"
	"sort"
)

// MannWhitney compares two samples without assuming a distribution: U of
// the first sample and the two-sided p-value of "both come from the same
// distribution", from the normal approximation with tie and continuity
// corrections (per-request TPOT samples have hundreds of values, where the
// approximation is tight). ok is false when either sample is empty or
// every value is tied.
func MannWhitney(a, b []float64) (u, p float64, ok bool) {
	n1, n2 := float64(len(a)), float64(len(b))
	if n1 == 0 || n2 == 0 {
		return 0, 0, false
	}
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, len(a)+len(b))
	for _, v := range a {
		all = append(all, obs{v, true})
	}
	for _, v := range b {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	var rankSum, tieTerm float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // average of ranks i+1 … j
		for k := i; k < j; k++ {
			if all[k].first {
				rankSum += rank
			}
		}
		t := float64(j - i)
		tieTerm += t*t*t - t
		i = j
	}
	u = rankSum - n1*(n1+1)/2
	n := n1 + n2
	variance := n1 * n2 / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	if variance <= 0 {
		return u, 1, false
	}
	z := (math.Abs(u-n1*n2/2) - 0.5) / math.Sqrt(variance)
	if z < 0 {
		z = 0
	}
	return u, math.Erfc(z / math.Sqrt2), true
}
