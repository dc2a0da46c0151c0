package evals

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Expected values are Python's: re.findall with the YAML's pattern, the
// last match, its non-empty group, stripped (lm-eval's RegexFilter with
// group_select -1), then ignore_case exact_match against the letter.
func TestGPQAExtractionMatchesLMEval(t *testing.T) {
	tests := []struct {
		response, want string
		rightFor       string // the target letter it scores against, "" for none
	}{
		{"The answer is (B).", "B", "B"},
		{"I think A, but on reflection the answer is C", "C", "C"},
		{"answer: d", "d", "D"},
		{"(A) is wrong; (B) is wrong; so (D)", "D", "D"},
		{"No letter here", "[invalid]", ""},
		{"ABCD", "[invalid]", ""},
		{"Between a and b, choose b.", "b", "B"},
		{"Answer: **C**", "C", "C"},
		{`The final answer is $\boxed{A}$`, "A", "A"},
		{"E is not an option", "[invalid]", ""},
		{"option(c)", "c", "C"},
		{"c)", "c", "C"},
		{"Apple is A-ok", "A", "A"},
		{"\n\nB\n", "B", "B"},
		// The pattern takes the article: the last standalone letter wins.
		{"the Answer is: B. Because a diagram", "a", "A"},
	}
	task := GPQA()
	require.Len(t, task.Filters, 1)
	for _, tt := range tests {
		got := task.Filters[0].Apply(tt.response)
		require.Equal(t, tt.want, got, "%q", tt.response)
		for _, letter := range []string{"A", "B", "C", "D"} {
			require.Equal(t, letter == tt.rightFor, task.match(got, letter), "%q against %s", tt.response, letter)
		}
	}
}

// The letters are Python's: upstream's process_docs over the file with
// random.Random(3407), two repeats.
func TestGPQAShufflesAsUpstreamProcessDocs(t *testing.T) {
	task := GPQA()
	ds, err := task.ReadDataset("testdata/gpqa-shaped-40.jsonl")
	require.NoError(t, err)
	require.Len(t, ds.Docs, 80)
	var letters strings.Builder
	for _, d := range ds.Docs {
		letters.WriteString(d.Answer)
	}
	require.Equal(t, "ADDBCCCCCDDAABAACBCAABBBBCADDADBDBDAADAACCBDABDADDADACDBCBBADCDADBBADBCAABBCBACD", letters.String())
	require.Equal(t, []string{"20", "21", "23", "19"}, ds.Docs[0].Choices)
	require.Equal(t, []string{"53", "50", "48", "46"}, ds.Docs[41].Choices)
}

func TestPyRandomMatchesCPython(t *testing.T) {
	// python3 -c 'import random; r=random.Random(3407); print([r.getrandbits(32) for _ in range(3)])'
	r := newPyRandom(3407)
	require.Equal(t, []uint32{244111517, 1800916962, 569954085}, []uint32{r.uint32(), r.uint32(), r.uint32()})
	// python3 -c 'import random; r=random.Random(1234); print([r.getrandbits(32) for _ in range(3)])'
	r = newPyRandom(1234)
	require.Equal(t, []uint32{4150886329, 3342196574, 1892932127}, []uint32{r.uint32(), r.uint32(), r.uint32()})
	r = newPyRandom(3407)
	require.Equal(t, [][]int{{0, 1, 3, 2}, {1, 3, 2, 0}, {1, 3, 2, 0}, {2, 0, 3, 1}}, [][]int{r.sample(4, 4), r.sample(4, 4), r.sample(4, 4), r.sample(4, 4)})
}

// The prompt is the YAML's doc_to_text rendered with lm-eval's
// keep_trailing_newline: zero-shot, nothing before it.
func TestGPQAPrompt(t *testing.T) {
	task := GPQA()
	doc := Doc{Question: "What is 2+2?", Choices: []string{"3", "4", "5", "22"}, Answer: "B"}
	want := "What is 2+2?\n\n(A) 3\n(B) 4\n(C) 5\n(D) 22\n\nExpress your final answer as the corresponding option 'A', 'B', 'C', or 'D'.\n"
	require.Equal(t, want, task.Prompt(nil, doc))
	require.Equal(t, []string{"\n\n"}, task.Until)
	require.Equal(t, []Message{{Role: "user", Content: want}}, task.Messages(nil, doc))
}

func TestGPQADatasetErrorsNameTheField(t *testing.T) {
	_, err := GPQA().ParseDataset("g.jsonl", []byte(`{"Question":"q","Correct Answer":"a","Incorrect Answer 1":"b","Incorrect Answer 2":"c"}`+"\n"))
	require.EqualError(t, err, `g.jsonl:1: "Incorrect Answer 3": missing`)
}
