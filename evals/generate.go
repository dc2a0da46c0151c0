package evals

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var (
	people = []struct{ name, pronoun string }{
		{"Mia", "She"}, {"Noah", "He"}, {"Ava", "She"}, {"Liam", "He"},
		{"Zoe", "She"}, {"Omar", "He"}, {"Lena", "She"}, {"Ravi", "He"},
	}
	things = []string{"apples", "marbles", "stickers", "pencils", "cookies", "shells", "stamps", "bolts"}
	cities = []string{"Oslo", "Denver", "Calgary", "Helsinki", "Reno", "Minsk"}
)

// GenerateArithmetic makes n multi-step word problems in GSM8K's shape,
// the same n for the same seed: inventories that grow, shrink, double and
// split; sales priced in dollars; temperatures that fall below zero.
// Answers are worked as GSM8K's are, with <<a+b=c>> annotations.
func GenerateArithmetic(seed uint64, n int) []Doc {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	docs := make([]Doc, 0, n)
	for len(docs) < n {
		var q string
		switch rng.IntN(3) {
		case 0:
			q = inventoryProblem(rng, false)
		case 1:
			q = inventoryProblem(rng, true)
		default:
			q = temperatureProblem(rng)
		}
		sol, ok := SolveArithmetic(q)
		if !ok {
			panic(fmt.Sprintf("evals: the solver cannot read a generated problem: %q", q))
		}
		docs = append(docs, Doc{Question: q, Answer: sol.Written(sol.Answer)})
	}
	return docs
}

func inventoryProblem(rng *rand.Rand, sell bool) string {
	p := people[rng.IntN(len(people))]
	item := things[rng.IntN(len(things))]
	v := 20 + rng.IntN(2500)
	parts := []string{fmt.Sprintf("%s has %s %s.", p.name, commas(v), item)}
	for range 2 + rng.IntN(3) {
		var s string
		s, v = inventoryStep(rng, p.pronoun, v)
		parts = append(parts, s)
	}
	if sell {
		price := 2 + rng.IntN(44)
		parts = append(parts, fmt.Sprintf("Each one sells for $%d.", price),
			fmt.Sprintf("How much money, in dollars, does %s make by selling all of them?", p.name))
	} else {
		parts = append(parts, fmt.Sprintf("How many %s does %s have now?", item, p.name))
	}
	return strings.Join(parts, " ")
}

// inventoryStep draws one operation that keeps the count positive and,
// for a split, whole.
func inventoryStep(rng *rand.Rand, pronoun string, v int) (string, int) {
	switch rng.IntN(4) {
	case 0:
		if v < 5000 {
			if rng.IntN(2) == 0 {
				return pronoun + " doubles them.", v * 2
			}
			return pronoun + " triples them.", v * 3
		}
	case 1:
		if v > 1 {
			n := 1 + rng.IntN(v-1)
			return fmt.Sprintf("%s gives away %s.", pronoun, commas(n)), v - n
		}
	case 2:
		for _, k := range rng.Perm(5) {
			if k += 2; v%k == 0 {
				return fmt.Sprintf("%s splits them equally into %d groups and keeps one group.", pronoun, k), v / k
			}
		}
	}
	n := 10 + rng.IntN(900)
	return fmt.Sprintf("%s buys %s more.", pronoun, commas(n)), v + n
}

func temperatureProblem(rng *rand.Rand) string {
	city := cities[rng.IntN(len(cities))]
	v := -10 + rng.IntN(36)
	parts := []string{fmt.Sprintf("At dawn the temperature in %s is %d degrees.", city, v)}
	for _, when := range []string{"By noon", "At dusk", "By midnight"} {
		n := 1 + rng.IntN(20)
		// Falls outweigh rises so that about half the answers are below zero.
		dir := "falls"
		if rng.IntN(5) < 2 {
			dir = "rises"
		}
		parts = append(parts, fmt.Sprintf("%s it %s %d degrees.", when, dir, n))
	}
	parts = append(parts, fmt.Sprintf("What is the temperature in %s at midnight, in degrees?", city))
	return strings.Join(parts, " ")
}
