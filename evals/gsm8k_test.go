package evals

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// Expected values were checked in Python 3 with re.findall and re.sub on
// gsm8k.yaml's regexes, following lm-eval's RegexFilter (group_select,
// first non-empty group, strip,
// "[invalid]" fallback) and exact_match's regexes_to_ignore.
func TestGSM8KFiltersAndExactMatch(t *testing.T) {
	strict, flexible := GSM8K().Filters[0], GSM8K().Filters[1]
	require.Equal(t, "strict-match", strict.Name)
	require.Equal(t, "flexible-extract", flexible.Name)
	tests := []struct {
		name, response, target     string
		wantStrict, wantFlexible   string
		strictRight, flexibleRight bool
	}{
		{"worked answer", "She has 5 + 3 = <<5+3=8>>8 apples.\n#### 8", "5 + 3 = 8\n#### 8", "8", "8", true, true},
		{"commas in thousands", "The total is $1,250.\n#### 1,250", "#### 1250", "1,250", "1,250", true, true},
		{"dollar sign after ####", "#### $18", "#### 18", invalid, "$18", false, true},
		{"trailing period", "So she pays 72 dollars.\n#### 72.", "#### 72", "72.", "72.", true, true},
		{"negative", "It ends at -4 - 14 = -18.\n#### -18", "#### -18", "-18", "-18", true, true},
		{"several #### lines: strict first, flexible last", "#### 5\n#### 7", "#### 7", "5", "7", false, true},
		{"no number at all", "I cannot tell.", "#### 3", invalid, invalid, false, false},
		{"no ####, number last", "So the answer is 42.", "#### 42", invalid, "42.", false, true},
		{"#### without a space", "####72", "#### 72", invalid, "72", false, true},
		{"single digit is group two", "x 7 y", "#### 7", invalid, "7", false, true},
		{"decimal is not an integer target", "#### 12.5", "#### 12", "12.5", "12.5", false, false},
		{"flexible takes text after the answer", "#### 10\nQuestion 2 asks for 11", "#### 10", "10", "11", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotStrict, gotFlexible := strict.Apply(tt.response), flexible.Apply(tt.response)
			require.Equal(t, tt.wantStrict, gotStrict)
			require.Equal(t, tt.wantFlexible, gotFlexible)
			require.Equal(t, tt.strictRight, ExactMatch(gotStrict, tt.target))
			require.Equal(t, tt.flexibleRight, ExactMatch(gotFlexible, tt.target))
		})
	}
}

func TestExactMatchNormalizes(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Work.\n#### 1,234", "1234"},
		{"$5", "5"},
		{"a #### b #### 9", "9"},
		{"12.", "12"},
		{"12.\n", "12\n"}, // Python's "$" matches before a final newline
		{"12..", "12."},
		{"ABC", "abc"},
		{"1.5", "1.5"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, normalize(tt.in), tt.in)
	}
}

// The golden file was rendered in Python following lm-eval's
// build_qa_turn: each example "Question: …\nAnswer:" + " " + answer +
// "\n\n", then the question's "Question: …\nAnswer:" with nothing after.
func TestGSM8KPromptMatchesLMEval(t *testing.T) {
	data, shots, golden := readGoldenCase(t, "testdata/gsm8k-5shot-prompt.golden")
	task := GSM8K()
	require.Equal(t, 5, task.NumFewshot)
	require.Equal(t, string(golden), task.Prompt(shots.Docs[:task.NumFewshot], data.Docs[0]))
	require.Equal(t, "Question: Q?\nAnswer:", task.Prompt(nil, Doc{Question: "Q?", Answer: "#### 1"}))
}

// readGoldenCase reads the generated sets, the 200 and the five, and a
// golden file built from them.
func readGoldenCase(t *testing.T, golden string) (set, five Dataset, want []byte) {
	t.Helper()
	set, err := ReadDataset("testdata/arithmetic-200.jsonl")
	require.NoError(t, err)
	five, err = ReadDataset("testdata/arithmetic-fewshot.jsonl")
	require.NoError(t, err)
	want, err = os.ReadFile(golden)
	require.NoError(t, err)
	return set, five, want
}

func TestMeanStderr(t *testing.T) {
	tests := []struct {
		hits, n    int
		mean       float64
		stderr     float64
		haveStderr bool
	}{
		{190, 200, 0.95, 0.015450, true}, // √(.95·.05/199)
		{100, 200, 0.5, 0.035444, true},
		{2, 4, 0.5, 0.288675, true}, // numpy: std([1,1,0,0], ddof=1)/√4
		{4, 4, 1, 0, true},
		{1, 1, 1, 0, false},
		{0, 0, 0, 0, false},
	}
	for _, tt := range tests {
		mean, stderr := MeanStderr(tt.hits, tt.n)
		require.InDelta(t, tt.mean, mean, 1e-9)
		require.Equal(t, tt.haveStderr, stderr != nil)
		if stderr != nil {
			require.InDelta(t, tt.stderr, *stderr, 1e-6)
		}
	}
}
