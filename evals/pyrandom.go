package evals

import "math/bits"

// pyRandom is CPython's random.Random (MT19937, seeded as random.seed
// seeds an int), far enough to draw random.sample(range(n), k): GPQA's
// process_docs shuffles each question's options with it and lm-eval's
// default few-shot sampler picks each question's examples with it, so the
// letters and the examples here are the ones lm-eval asked with.
type pyRandom struct {
	mt [624]uint32
	i  int
}

// newPyRandom is random.Random(seed) for a seed below 2³²: init_by_array
// over the seed's one 32-bit word.
func newPyRandom(seed uint32) *pyRandom {
	r := &pyRandom{}
	mt := &r.mt
	mt[0] = 19650218
	for i := 1; i < len(mt); i++ {
		mt[i] = 1812433253*(mt[i-1]^(mt[i-1]>>30)) + uint32(i)
	}
	i := 1
	for range len(mt) {
		mt[i] = (mt[i] ^ ((mt[i-1] ^ (mt[i-1] >> 30)) * 1664525)) + seed
		i++
		if i >= len(mt) {
			mt[0], i = mt[len(mt)-1], 1
		}
	}
	for range len(mt) - 1 {
		mt[i] = (mt[i] ^ ((mt[i-1] ^ (mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= len(mt) {
			mt[0], i = mt[len(mt)-1], 1
		}
	}
	mt[0] = 0x80000000
	r.i = len(mt)
	return r
}

func (r *pyRandom) uint32() uint32 {
	const n, m = 624, 397
	if r.i >= n {
		mt := &r.mt
		for k := range n {
			y := mt[k]&0x80000000 | mt[(k+1)%n]&0x7fffffff
			next := mt[(k+m)%n] ^ y>>1
			if y&1 != 0 {
				next ^= 0x9908b0df
			}
			mt[k] = next
		}
		r.i = 0
	}
	y := r.mt[r.i]
	r.i++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	return y ^ y>>18
}

// below is random._randbelow_with_getrandbits: rejection over the
// fewest bits that hold n-1 (n below 2³²).
func (r *pyRandom) below(n int) int {
	k := bits.Len(uint(n))
	for {
		if v := int(r.uint32() >> (32 - k)); v < n {
			return v
		}
	}
}

// sample is random.sample(range(n), k). CPython picks one of two
// methods by size, and the draws differ between them: from a shrinking
// pool where a list of n is smaller than a set of k (n at most setsize),
// otherwise by redrawing any index already taken.
func (r *pyRandom) sample(n, k int) []int {
	out := make([]int, k)
	if n <= sampleSetSize(k) {
		pool := make([]int, n)
		for i := range pool {
			pool[i] = i
		}
		for i := range k {
			j := r.below(n - i)
			out[i] = pool[j]
			pool[j] = pool[n-i-1]
		}
		return out
	}
	taken := make(map[int]bool, k)
	for i := range k {
		j := r.below(n)
		for taken[j] {
			j = r.below(n)
		}
		taken[j] = true
		out[i] = j
	}
	return out
}

// sampleSetSize is random.sample's setsize: 21, plus for k above 5 the
// power of four 4**ceil(log(3k, 4)). CPython takes the logarithm in
// floating point; the integer form agrees wherever 3k is not within a
// rounding error of a power of four, which needs k above 10¹⁴.
func sampleSetSize(k int) int {
	size := 21
	if k > 5 {
		p := 1
		for p < 3*k {
			p *= 4
		}
		size += p
	}
	return size
}
