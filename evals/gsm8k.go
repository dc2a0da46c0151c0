package evals

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/infersweep/infersweep/specyaml"
)

// Doc is one document of a task. For GSM8K it is a problem in its
// published shape: the answer is a worked solution whose last line is
// "#### N". For GPQA the answer is the letter of the right option among
// Choices, as the task's process_docs shuffled them.
type Doc struct {
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Choices  []string `json:"choices,omitempty"`
}

// Filter turns a model's response into the answer that gets scored, as an
// lm-eval filter pipeline of regex then take_first does.
type Filter struct {
	Name  string
	regex *regexp.Regexp
	// group picks which of the regex's matches is kept: 0 the first, -1
	// the last, as lm-eval's group_select indexes findall's list.
	group int
}

// invalid is what lm-eval's regex filter returns when nothing matches; it
// never equals a target, so the sample scores 0.
const invalid = "[invalid]"

// Apply extracts the scored answer from a response. Where the pattern has
// several groups, the first non-empty one of the chosen match is kept, and
// the result is trimmed, as lm-eval's RegexFilter does.
func (f Filter) Apply(response string) string {
	matches := f.regex.FindAllStringSubmatch(response, -1)
	if len(matches) == 0 {
		return invalid
	}
	i := f.group
	if i < 0 {
		i += len(matches)
	}
	m := matches[i]
	if len(m) == 1 {
		return strings.TrimSpace(m[0])
	}
	for _, g := range m[1:] {
		if g != "" {
			return strings.TrimSpace(g)
		}
	}
	return invalid
}

// Task is one evaluation: how a document becomes a prompt, what the model
// may generate, and how its response is scored.
type Task struct {
	Name       string
	NumFewshot int
	// API is where prompts go and how they are laid out (Lookup sets it).
	API API
	// Format names the task file the prompts and filters follow:
	// "inferencex" (upstream's utils/evals YAML) or "lm-eval" (stock).
	Format string
	// Sampler picks each document's few-shot examples.
	Sampler Sampler
	// MaxTokens is the generation budget; Until are the task's stop
	// sequences, before lm-eval adds its eos string.
	MaxTokens int
	Until     []string
	Filters   []Filter
	// LMEvalName is the task's name in the lm-eval YAML it follows, as
	// thresholds files key it upstream.
	LMEvalName string

	text    func(Doc) string // doc_to_text
	match   func(prediction, reference string) bool
	parse   func(fields map[string]json.RawMessage) (Doc, *specyaml.Error)
	process func([]Doc) []Doc // process_docs; nil keeps the file's documents
	shape   string            // a line's fields, for errors
}

// GSM8K is stock lm-eval's gsm8k task (gsm8k.yaml, version 3.0) as the
// completions API sends it: 5-shot, "Question: …\nAnswer:" prompts,
// generation until "Question:", scored by exact_match under two filters.
// The examples are the few-shot file's first five (first_n), where stock
// lm-eval draws them at random, so a prompt is lm-eval's for the same
// examples.
func GSM8K() Task {
	return Task{
		Name:       "gsm8k",
		NumFewshot: 5,
		API:        APICompletions,
		Format:     "lm-eval",
		Sampler:    SamplerFirstN,
		MaxTokens:  StockMaxTokens,
		Until:      []string{"Question:", "</s>", "<|im_end|>"},
		LMEvalName: "gsm8k",
		text:       docText,
		match:      ExactMatch,
		parse:      parseGSM8K,
		shape:      "question and answer",
		Filters: []Filter{
			{Name: "strict-match", regex: regexp.MustCompile(`#### (\-?[0-9\.\,]+)`), group: 0},
			{Name: "flexible-extract", regex: regexp.MustCompile(`(-?[$0-9.,]{2,})|(-?[0-9]+)`), group: -1},
		},
	}
}

// GSM8KInferenceX is upstream's gsm8k (InferenceX utils/evals/gsm8k.yaml
// at 843c625), what its thresholds are set against: the question then
// an instruction to end with "#### [number]", stops only at "</s>" and
// "<|im_end|>" (a model asked to show its work writes "Question:" in
// it), strict-match keeping the last "#### N" rather than the first, and
// examples drawn by lm-eval's default sampler from the few-shot file (its
// train split), sent as chat turns with upstream's budget.
func GSM8KInferenceX() Task {
	t := GSM8K()
	t.API, t.Format, t.Sampler = APIChat, "inferencex", SamplerDefault
	t.MaxTokens = APIChat.DefaultMaxTokens()
	t.Until = []string{"</s>", "<|im_end|>"}
	t.text = inferenceXText
	t.Filters[0].group = -1
	return t
}

// Lookup returns the task called name as the api sends it: GSM8K's
// stock prompt under completions, upstream's under chat; GPQA has only
// upstream's prompt, under either.
func Lookup(name string, api API) (Task, bool) {
	switch {
	case name == "gsm8k" && api == APICompletions:
		return GSM8K(), true
	case name == "gsm8k" && api == APIChat:
		return GSM8KInferenceX(), true
	case name == "gpqa" && (api == APIChat || api == APICompletions):
		t := GPQA()
		t.API, t.MaxTokens = api, api.DefaultMaxTokens()
		return t, true
	}
	return Task{}, false
}

// TaskNames are the tasks Lookup knows, for help and errors.
func TaskNames() []string { return []string{"gsm8k", "gpqa"} }

// docText is stock gsm8k.yaml's doc_to_text.
func docText(d Doc) string { return "Question: " + d.Question + "\nAnswer:" }

// GSM8KInstruction is what upstream's doc_to_text puts between the
// question and "Answer:".
const GSM8KInstruction = "End your response with the answer on the last line, formatted as: #### [number]"

// inferenceXText is upstream's gsm8k.yaml doc_to_text.
func inferenceXText(d Doc) string {
	return "Question: " + d.Question + "\n" + GSM8KInstruction + "\nAnswer:"
}

// Prompt builds the text lm-eval sends for doc after the given few-shot
// examples: each example is its text, the target delimiter " ", its answer
// and the few-shot delimiter "\n\n"; the question follows with nothing
// after "Answer:".
func (t Task) Prompt(fewshot []Doc, doc Doc) string {
	var b strings.Builder
	for _, ex := range fewshot {
		b.WriteString(t.text(ex))
		b.WriteString(" ")
		b.WriteString(ex.Answer)
		b.WriteString("\n\n")
	}
	b.WriteString(t.text(doc))
	return b.String()
}

// ignored are gsm8k.yaml's regexes_to_ignore, applied in order to both the
// prediction and the reference. Python's "\.$" also matches a period
// before a final newline; the group keeps that newline, as re.sub does.
var ignored = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`,`), ""},
	{regexp.MustCompile(`\$`), ""},
	{regexp.MustCompile(`(?s).*#### `), ""},
	{regexp.MustCompile(`\.(\n?)$`), "$1"},
}

// normalize applies exact_match's rules for gsm8k: the ignored regexes,
// then ignore_case (ignore_punctuation is false).
func normalize(s string) string {
	for _, r := range ignored {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return strings.ToLower(s)
}

// ExactMatch scores a filtered prediction against the document's whole
// answer (doc_to_target), as lm-eval's exact_match with gsm8k's options.
func ExactMatch(prediction, reference string) bool {
	return normalize(prediction) == normalize(reference)
}
