package evals

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The generated set is a small language of sentences, each one operation
// on a running value; SolveArithmetic reads it back, so the generator's
// worked answers and the simulated engine's come from one solver.

// Solution is a solved generated problem: GSM8K-style working lines and
// the final answer.
type Solution struct {
	Steps  []string
	Answer int
}

// Written is the solution as GSM8K writes one, its last line "#### N"
// for the given final number (the right one, or a simulated mistake).
// Answers of five digits or more carry thousands commas, as models often
// write them, so scoring's comma rule is exercised.
func (s Solution) Written(final int) string {
	out := strings.Join(s.Steps, "\n") + "\n#### "
	if final <= -10000 || final >= 10000 {
		return out + commas(final)
	}
	return out + strconv.Itoa(final)
}

type sentenceRule struct {
	re *regexp.Regexp
	// opening rules start a problem and only they may.
	opening bool
	// apply returns the new value and a working line; ok false refuses
	// the sentence (an uneven split, say).
	apply func(v int, m []string) (next int, step string, ok bool)
}

var sentenceRules = []sentenceRule{
	{regexp.MustCompile(`^(\w+) has ([\d,]+) (\w+)\.$`), true, func(_ int, m []string) (int, string, bool) {
		n := atoi(m[2])
		return n, fmt.Sprintf("%s starts with %s %s.", m[1], commas(n), m[3]), true
	}},
	{regexp.MustCompile(`^(He|She) buys ([\d,]+) more\.$`), false, func(v int, m []string) (int, string, bool) {
		n := atoi(m[2])
		return v + n, calc(m[1]+" buys more: ", v, "+", n, v+n), true
	}},
	{regexp.MustCompile(`^(He|She) gives away ([\d,]+)\.$`), false, func(v int, m []string) (int, string, bool) {
		n := atoi(m[2])
		return v - n, calc(m[1]+" gives some away: ", v, "-", n, v-n), true
	}},
	{regexp.MustCompile(`^(He|She) (doubles|triples) them\.$`), false, func(v int, m []string) (int, string, bool) {
		k := map[string]int{"doubles": 2, "triples": 3}[m[2]]
		return v * k, calc(m[1]+" "+m[2]+" them: ", v, "*", k, v*k), true
	}},
	{regexp.MustCompile(`^(He|She) splits them equally into ([\d,]+) groups and keeps one group\.$`), false, func(v int, m []string) (int, string, bool) {
		k := atoi(m[2])
		if k == 0 || v%k != 0 {
			return 0, "", false
		}
		return v / k, calc(m[1]+" keeps one group: ", v, "/", k, v/k), true
	}},
	{regexp.MustCompile(`^Each one sells for \$([\d,]+)\.$`), false, func(v int, m []string) (int, string, bool) {
		n := atoi(m[1])
		return v * n, fmt.Sprintf("Selling all of them makes %d * $%d = <<%d*%d=%d>>$%s.", v, n, v, n, v*n, commas(v*n)), true
	}},
	{regexp.MustCompile(`^At dawn the temperature in (\w+) is (-?[\d,]+) degrees\.$`), true, func(_ int, m []string) (int, string, bool) {
		n := atoi(m[2])
		return n, fmt.Sprintf("It is %d degrees in %s at dawn.", n, m[1]), true
	}},
	{regexp.MustCompile(`^(By noon|At dusk|By midnight) it (rises|falls) ([\d,]+) degrees\.$`), false, func(v int, m []string) (int, string, bool) {
		n := atoi(m[3])
		if m[2] == "falls" {
			return v - n, calc(m[1]+" it falls: ", v, "-", n, v-n), true
		}
		return v + n, calc(m[1]+" it rises: ", v, "+", n, v+n), true
	}},
}

var (
	sentences = regexp.MustCompile(`\S[^.?]*[.?]`)
	questions = []*regexp.Regexp{
		regexp.MustCompile(`^How many (\w+) does (\w+) have now\?$`),
		regexp.MustCompile(`^How much money, in dollars, does (\w+) make by selling all of them\?$`),
		regexp.MustCompile(`^What is the temperature in (\w+) at midnight, in degrees\?$`),
	}
)

// SolveArithmetic solves a question of the generated set; ok is false for
// any other text, sentence by sentence, so a real GSM8K question is never
// mistaken for one.
func SolveArithmetic(question string) (Solution, bool) {
	parts := sentences.FindAllString(question, -1)
	if len(parts) < 2 || strings.Join(parts, " ") != strings.TrimSpace(question) {
		return Solution{}, false
	}
	var sol Solution
	v := 0
	for i, p := range parts[:len(parts)-1] {
		next, step, ok := applySentence(v, p, i == 0)
		if !ok {
			return Solution{}, false
		}
		v = next
		sol.Steps = append(sol.Steps, step)
	}
	for _, q := range questions {
		if q.MatchString(parts[len(parts)-1]) {
			sol.Answer = v
			return sol, true
		}
	}
	return Solution{}, false
}

// applySentence applies the rule that matches p, an opening one first.
func applySentence(v int, p string, first bool) (int, string, bool) {
	for _, r := range sentenceRules {
		m := r.re.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		if r.opening != first {
			return 0, "", false
		}
		return r.apply(v, m)
	}
	return 0, "", false
}

func calc(prefix string, a int, op string, b, r int) string {
	return fmt.Sprintf("%s%d %s %d = <<%d%s%d=%d>>%s.", prefix, a, op, b, a, op, b, r, commas(r))
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return n
}

// commas writes n with thousands separators: 1234567 → "1,234,567".
func commas(n int) string {
	s := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}
