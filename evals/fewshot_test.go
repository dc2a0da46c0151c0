package evals

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expected indices follow CPython's random.sample by hand from the
// generator's first words: random.Random(1234).getrandbits(32) gives 4150886329, 3342196574,
// 1892932127, 501869158, 32175636, 389311301, 3912611952, 4048155970,
// 4034129617, 3466048957, 2500648409, 150006740, ….
//
// A pool of 30 is above sample's setsize (21 for k=5), so each pick is
// _randbelow(30): getrandbits(5), the word's top 5 bits, redrawn when 30
// or more or already taken. The tops are 30, 24, 14, 3, 0, 2 | 29, 30,
// 30, 25, 18, 1, …: the first document rejects 30 and keeps
// [24 14 3 0 2]; the second, continuing the same generator, keeps 29,
// rejects two 30s, keeps 25, 18, 1, and its fifth is the next word's
// (21). A pool of 10 is below setsize, so sample draws from a shrinking
// pool: _randbelow(10) takes 4 bits (15 and 12 rejected, 7 kept, 9 moves
// into its place), _randbelow(9) 4 bits (1 kept, 8 moves in),
// _randbelow(8) 4 bits (8 has bit_length 4; the top bits of the next word
// are 0, pool[0] = 0): [7 1 0]. CPython 3.11 prints the same lists for
// r = random.Random(1234); r.sample(range(30), 5), r.sample(range(30), 5)
// and random.Random(1234).sample(range(10), 3).
func TestDefaultSamplerDrawsAsCPython(t *testing.T) {
	pool := func(n int) []Doc {
		docs := make([]Doc, n)
		for i := range docs {
			docs[i] = Doc{Question: fmt.Sprint(i)}
		}
		return docs
	}
	questions := func(shots []Doc) []string {
		var qs []string
		for _, d := range shots {
			qs = append(qs, d.Question)
		}
		return qs
	}
	tests := []struct {
		pool, k int
		want    [][]string
	}{
		{30, 5, [][]string{{"24", "14", "3", "0", "2"}, {"29", "25", "18", "1", "21"}}},
		{10, 3, [][]string{{"7", "1", "0"}}},
	}
	for _, tt := range tests {
		task := Task{NumFewshot: tt.k, Sampler: SamplerDefault}
		got := task.fewshots(pool(tt.pool), len(tt.want))
		for i := range tt.want {
			require.Equal(t, tt.want[i], questions(got[i]), "pool %d, document %d", tt.pool, i)
		}
	}
}

func TestFirstNSamplerRepeatsTheFirstDocuments(t *testing.T) {
	docs := []Doc{{Question: "a"}, {Question: "b"}, {Question: "c"}}
	got := Task{NumFewshot: 2, Sampler: SamplerFirstN}.fewshots(docs, 3)
	for _, shots := range got {
		require.Equal(t, docs[:2], shots)
	}
	require.Equal(t, [][]Doc{nil, nil}, Task{Sampler: SamplerDefault}.fewshots(docs, 2), "zero-shot draws nothing")
}
