package evals

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/specyaml"
)

// GPQA is InferenceX's gpqa_diamond_cot_n_shot (utils/evals/gpqa_diamond.yaml
// and utils.py at 843c625), a zero-shot chain-of-thought variant of
// lm-eval's GPQA-diamond tasks, which is what its GPQA threshold is set
// against: every question asked twice (process_docs: two repeats, each
// with its options shuffled by Python's random.Random(3407)), the
// question and the four lettered options, then "Express your final
// answer as the corresponding option 'A', 'B', 'C', or 'D'.". The last
// standalone letter A–D in the response is the answer, compared with
// the target letter ignoring case.
//
// The YAML sets no generation_kwargs, so lm-eval stops at its
// fewshot_delimiter "\n\n" (and, at concurrency 1 only, the "</s>"
// upstream's eos_string adds). lm-eval renders the prompt with
// keep_trailing_newline, so it ends in "\n" as the YAML block does. It
// is sent as upstream sends it, one user turn to the chat API with
// upstream's budget; Lookup gives it for the completions API too.
func GPQA() Task {
	return Task{
		Name:       "gpqa",
		LMEvalName: "gpqa_diamond_cot_n_shot",
		NumFewshot: 0,
		API:        APIChat,
		Format:     "inferencex",
		Sampler:    SamplerDefault,
		MaxTokens:  APIChat.DefaultMaxTokens(),
		Until:      []string{"\n\n"},
		Filters:    []Filter{{Name: "extract_abcd", regex: regexp.MustCompile(`(?i)\b\(?([A-D])\)?\b`), group: -1}},
		text:       gpqaText,
		match:      func(p, r string) bool { return strings.ToLower(p) == strings.ToLower(r) },
		parse:      parseGPQA,
		shape:      "Question, Correct Answer and Incorrect Answer 1 to 3",
		process:    func(docs []Doc) []Doc { return shuffleGPQA(docs, 2, 3407) },
	}
}

// GPQAInstruction ends every GPQA prompt; the simulated engine looks for it.
const GPQAInstruction = "Express your final answer as the corresponding option 'A', 'B', 'C', or 'D'.\n"

var gpqaLetters = []string{"A", "B", "C", "D"}

func gpqaText(d Doc) string {
	var b strings.Builder
	b.WriteString(d.Question)
	b.WriteString("\n\n")
	for i, c := range d.Choices {
		b.WriteString("(" + gpqaLetters[i] + ") " + c + "\n")
	}
	b.WriteString("\n" + GPQAInstruction)
	return b.String()
}

// gpqaFields are GPQA's published columns (Idavidrein/gpqa), the right
// answer first: the order process_docs permutes.
var gpqaFields = []string{"Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"}

func parseGPQA(fields map[string]json.RawMessage) (Doc, *specyaml.Error) {
	vals := make([]string, len(gpqaFields))
	into := make([]*string, len(vals))
	for i := range vals {
		into[i] = &vals[i]
	}
	if err := stringFields(fields, gpqaFields, into); err != nil {
		return Doc{}, err
	}
	// Unshuffled: the right answer is choice 0 until process_docs runs.
	return Doc{Question: vals[0], Choices: vals[1:]}, nil
}

// shuffleGPQA is upstream's process_docs: repeats passes over the
// documents, one generator for all, each document's options permuted by
// rng.sample(range(4), 4) and its answer the letter where the right one
// landed.
func shuffleGPQA(docs []Doc, repeats int, seed uint32) []Doc {
	rng := newPyRandom(seed)
	out := make([]Doc, 0, repeats*len(docs))
	for range repeats {
		for _, d := range docs {
			perm := rng.sample(4, 4)
			choices := make([]string, 4)
			for i, j := range perm {
				choices[i] = d.Choices[j]
			}
			out = append(out, Doc{Question: d.Question, Choices: choices, Answer: gpqaLetters[slices.Index(perm, 0)]})
		}
	}
	return out
}

// GPQARecord is one line of a GPQA file in its published shape.
type GPQARecord struct {
	Question   string `json:"Question"`
	Correct    string `json:"Correct Answer"`
	Incorrect1 string `json:"Incorrect Answer 1"`
	Incorrect2 string `json:"Incorrect Answer 2"`
	Incorrect3 string `json:"Incorrect Answer 3"`
}

// GenerateGPQA makes n multiple-choice questions in GPQA's shape from the
// generated arithmetic problems, the same n for the same seed: the right
// option is the problem's answer, the wrong ones near misses. The
// simulated engine solves them (SolveArithmetic) to choose its letter.
func GenerateGPQA(seed uint64, n int) []GPQARecord {
	out := make([]GPQARecord, 0, n)
	for i, d := range GenerateArithmetic(seed, n) {
		sol, _ := SolveArithmetic(d.Question)
		a := sol.Answer
		step := 1 + i%7
		out = append(out, GPQARecord{Question: d.Question, Correct: commas(a),
			Incorrect1: commas(a + step), Incorrect2: commas(a - step), Incorrect3: commas(a + 2*step + 1)})
	}
	return out
}

// SolveGPQA reads a zero-shot GPQA prompt over a generated question
// (GenerateGPQA) and returns the right option's letter; ok is false for
// any other prompt.
func SolveGPQA(prompt string) (letter string, ok bool) {
	body, found := strings.CutSuffix(prompt, "\n\n"+GPQAInstruction)
	if !found {
		return "", false
	}
	question, options, found := strings.Cut(body, "\n\n(A) ")
	if !found {
		return "", false
	}
	sol, ok := SolveArithmetic(question)
	if !ok {
		return "", false
	}
	for i, line := range strings.Split("(A) "+options, "\n") {
		if i < len(gpqaLetters) && line == "("+gpqaLetters[i]+") "+commas(sol.Answer) {
			return gpqaLetters[i], true
		}
	}
	return "", false
}
