package evals

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGenerateArithmeticIsDeterministicAndVaried(t *testing.T) {
	docs := GenerateArithmetic(1, 200)
	require.Equal(t, docs, GenerateArithmetic(1, 200))
	require.NotEqual(t, docs[:5], GenerateArithmetic(2, 5))
	var negative, money, commas, distinct int
	seen := map[string]bool{}
	for _, d := range docs {
		sol, ok := SolveArithmetic(d.Question)
		require.True(t, ok, d.Question)
		require.Equal(t, sol.Written(sol.Answer), d.Answer)
		if !seen[d.Question] {
			distinct++
			seen[d.Question] = true
		}
		got := GSM8K().Filters[0].Apply(d.Answer)
		switch {
		case sol.Answer < 0:
			negative++
		case sol.Answer >= 10000:
			commas++
			require.Contains(t, got, ",")
		}
		if d.Question[len(d.Question)-len("selling all of them?"):] == "selling all of them?" {
			money++
		}
	}
	require.Equal(t, 200, distinct)
	// Shares of a 200-problem set from seed 1, pinned so a generator
	// change that loses a kind of problem fails here.
	require.Equal(t, []int{33, 64, 34}, []int{negative, money, commas})
}

func TestSolveArithmetic(t *testing.T) {
	tests := []struct {
		question string
		answer   int
		ok       bool
	}{
		{"Mia has 1,200 apples. She buys 350 more. She splits them equally into 5 groups and keeps one group. How many apples does Mia have now?", 310, true},
		{"Omar has 40 bolts. He triples them. Each one sells for $12. How much money, in dollars, does Omar make by selling all of them?", 1440, true},
		{"At dawn the temperature in Oslo is 3 degrees. By noon it falls 10 degrees. What is the temperature in Oslo at midnight, in degrees?", -7, true},
		{"Mia has 10 apples. She splits them equally into 3 groups and keeps one group. How many apples does Mia have now?", 0, false},
		{"She buys 3 more. Mia has 10 apples. How many apples does Mia have now?", 0, false},
		{"Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?", 0, false},
		{"Mia has 10 apples.", 0, false},
	}
	for _, tt := range tests {
		sol, ok := SolveArithmetic(tt.question)
		require.Equal(t, tt.ok, ok, tt.question)
		require.Equal(t, tt.answer, sol.Answer, tt.question)
	}
}
