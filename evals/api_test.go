package evals

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// taskFile is the part of an lm-eval task YAML that decides what is sent
// and how it is scored.
type taskFile struct {
	DocToText        string `yaml:"doc_to_text"`
	DocToTarget      string `yaml:"doc_to_target"`
	NumFewshot       int    `yaml:"num_fewshot"`
	FewshotConfig    any    `yaml:"fewshot_config"`
	GenerationKwargs *struct {
		Until []string `yaml:"until"`
	} `yaml:"generation_kwargs"`
	FilterList []struct {
		Name   string `yaml:"name"`
		Filter []struct {
			Function    string `yaml:"function"`
			Regex       string `yaml:"regex_pattern"`
			GroupSelect int    `yaml:"group_select"`
		} `yaml:"filter"`
	} `yaml:"filter_list"`
}

func readTaskFile(t *testing.T, path string) taskFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var f taskFile
	require.NoError(t, yaml.Unmarshal(raw, &f), path)
	return f
}

// The copies of upstream's task files in testdata are the specification:
// a template rendered with a document's fields (Jinja's {{field}}, which
// is all these templates use) must be our prompt, and their stop lists,
// shot counts, samplers and filters ours.
func TestTasksFollowUpstreamTaskFiles(t *testing.T) {
	gsmDoc := Doc{Question: "Tom has 3 apples. How many?", Answer: "3\n#### 3"}
	gpqaDoc := Doc{Question: "Which?", Choices: []string{"w", "x", "y", "z"}, Answer: "C"}
	tests := []struct {
		file   string
		task   Task
		fields map[string]string
		doc    Doc
		until  []string // the task file's, or lm-eval's fewshot_delimiter where it sets none
	}{
		{"testdata/inferencex-gsm8k.yaml", GSM8KInferenceX(), map[string]string{"question": gsmDoc.Question}, gsmDoc, nil},
		{"testdata/inferencex-gpqa_diamond.yaml", GPQA(), map[string]string{"Question": "Which?", "A": "w", "B": "x", "C": "y", "D": "z"}, gpqaDoc, []string{"\n\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := readTaskFile(t, tt.file)
			want := f.DocToText
			for k, v := range tt.fields {
				want = strings.ReplaceAll(want, "{{"+k+"}}", v)
			}
			require.NotContains(t, want, "{{")
			require.Equal(t, want, tt.task.text(tt.doc))
			require.Equal(t, f.NumFewshot, tt.task.NumFewshot)
			require.Nil(t, f.FewshotConfig, "no fewshot_config: lm-eval's default sampler")
			if tt.task.NumFewshot > 0 {
				require.Equal(t, SamplerDefault, tt.task.Sampler)
			}
			until := tt.until
			if f.GenerationKwargs != nil {
				until = f.GenerationKwargs.Until
			}
			require.Equal(t, until, tt.task.Until)
			require.Len(t, tt.task.Filters, len(f.FilterList))
			for i, fl := range f.FilterList {
				got := tt.task.Filters[i]
				require.Equal(t, fl.Name, got.Name)
				require.Equal(t, "regex", fl.Filter[0].Function)
				require.Equal(t, fl.Filter[0].Regex, got.regex.String())
				require.Equal(t, fl.Filter[0].GroupSelect, got.group, fl.Name)
				require.Equal(t, "take_first", fl.Filter[1].Function)
			}
		})
	}
}

// The golden body was written by Python following lm-eval 0.4.9.2 with
// upstream's gsm8k.yaml: Jinja (StrictUndefined, keep_trailing_newline)
// renders doc_to_text and doc_to_target; random.Random(1234).sample(pool,
// 5) is drawn once per document in order, so the third document's
// examples are the third draw (pool indices 25, 196, 90, 60, 4 of
// arithmetic-200.jsonl); the turns are user/assistant dicts
// round-tripped through json.dumps(ensure_ascii=False) as JsonChatStr
// does; the generation kwargs are the YAML's updated with upstream's
// --gen_kwargs max_tokens=12288,temperature=0,top_p=1; the payload is
// LocalChatCompletion._create_payload's and the bytes json.dumps(payload).
func TestChatRequestMatchesUpstreamGolden(t *testing.T) {
	pool, data, golden := readGoldenCase(t, "testdata/gsm8k-chat-request.golden.json")
	task, ok := Lookup("gsm8k", APIChat)
	require.True(t, ok)
	require.Equal(t, 12288, task.MaxTokens)
	shots := task.fewshots(pool.Docs, 3)
	c := completer{api: APIChat, model: "llama-3.1-8b", maxTokens: task.MaxTokens, stop: stopSequences(APIChat, task.Until, 64)}
	body, prompt, err := c.request(task, shots[2], data.Docs[2])
	require.NoError(t, err)
	require.Equal(t, string(golden), string(body))
	require.True(t, strings.HasPrefix(prompt, `[{"role": "user", "content": "Question: At dawn the temperature in Helsinki`), prompt)
	require.Equal(t, pool.Docs[25], shots[2][0])
	require.Equal(t, pool.Docs[4], shots[2][4])
}

// Expected strings are Python's: json.dumps(s) and
// json.dumps(s, ensure_ascii=False).
func TestPyStringMatchesPythonJSON(t *testing.T) {
	tests := []struct{ in, ascii, kept string }{
		{"</s> & <|im_end|>", `"</s> & <|im_end|>"`, `"</s> & <|im_end|>"`},
		{"a\"b\\c\nd\te\rf\bg\fh", `"a\"b\\c\nd\te\rf\bg\fh"`, `"a\"b\\c\nd\te\rf\bg\fh"`},
		{"\x00\x1f\x7f", `"\u0000\u001f\u007f"`, "\"\\u0000\\u001f\x7f\""},
		{"café €5", `"caf\u00e9 \u20ac5"`, `"café €5"`},
		{"x😀y", `"x\ud83d\ude00y"`, `"x😀y"`},
		{"\u2028", `"\u2028"`, "\"\u2028\""},
	}
	for _, tt := range tests {
		var ascii, kept strings.Builder
		writePyString(&ascii, tt.in, true)
		writePyString(&kept, tt.in, false)
		require.Equal(t, tt.ascii, ascii.String(), "%q", tt.in)
		require.Equal(t, tt.kept, kept.String(), "%q", tt.in)
	}
}

func TestParseChatFallsBackToReasoningContent(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // the text, or "error: " and the error
	}{
		{"content", `{"choices":[{"index":0,"message":{"role":"assistant","content":"#### 4"}}]}`, "#### 4"},
		{"content wins over reasoning", `{"choices":[{"message":{"content":"#### 4","reasoning_content":"think"}}]}`, "#### 4"},
		{"empty content", `{"choices":[{"message":{"content":"","reasoning_content":"so #### 5"}}]}`, "so #### 5"},
		{"null content", `{"choices":[{"message":{"content":null,"reasoning_content":"#### 6"}}]}`, "#### 6"},
		{"empty list content", `{"choices":[{"message":{"content":[],"reasoning_content":"#### 7"}}]}`, "#### 7"},
		{"neither", `{"choices":[{"message":{"content":null}}]}`, ""},
		{"no message", `{"choices":[{"index":0,"finish_reason":"length"}]}`, ""},
		{"no choices", `{"choices":[]}`, "error: the chat completion has no choices"},
		{"content of parts", `{"choices":[{"message":{"content":[{"type":"text","text":"hi"}]}}]}`, `error: the chat completion's content is [{"type":"text","text":"hi"}], not a string`},
		{"not JSON", `oops`, "error: decode the chat completion: invalid character 'o' looking for beginning of value"},
	}
	for _, tt := range tests {
		got, err := parseChat([]byte(tt.body))
		if err != nil {
			got = "error: " + err.Error()
		}
		require.Equal(t, tt.want, got, tt.name)
	}
}

func TestStopSequences(t *testing.T) {
	five := []string{"a", "b", "c", "d", "e"}
	tests := []struct {
		api         API
		until       []string
		concurrency int
		want        []string
	}{
		{APIChat, GSM8KInferenceX().Until, 64, []string{"</s>", "<|im_end|>"}},
		{APIChat, GSM8KInferenceX().Until, 1, []string{"</s>", "<|im_end|>"}},
		// lm-eval adds eos_string on its sequential path only.
		{APIChat, GPQA().Until, 64, []string{"\n\n"}},
		{APIChat, GPQA().Until, 1, []string{"\n\n", "</s>"}},
		{APIChat, five, 1, []string{"a", "b", "c", "d"}},
		{APICompletions, five, 1, []string{"a", "b", "c", "d", "e", "</s>"}},
		{APICompletions, GSM8K().Until, 64, []string{"Question:", "</s>", "<|im_end|>"}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, stopSequences(tt.api, tt.until, tt.concurrency), "%s %q at %d", tt.api, tt.until, tt.concurrency)
	}
	require.Equal(t, []string{"a", "b", "c", "d", "e"}, five, "the task's list is not changed")
}

// Upstream's run_lm_eval: ctx > 4096 ? ctx-4096 : ctx/2, at most 16384.
func TestMaxTokensFor(t *testing.T) {
	for ctx, want := range map[int]int{16384: 12288, 4096: 2048, 4097: 1, 1000: 500, 8192: 4096, 20480: 16384, 131072: 16384} {
		require.Equal(t, want, MaxTokensFor(ctx), ctx)
	}
	require.Equal(t, 12288, APIChat.DefaultMaxTokens())
	require.Equal(t, 256, APICompletions.DefaultMaxTokens())
}

// Each row: the API, the prompt format, the sampler, the budget and
// which "#### N" strict-match keeps (-1 the last, upstream's; 0 the
// first, stock lm-eval's).
func TestLookupByAPI(t *testing.T) {
	for name, want := range map[string][]any{
		"gsm8k chat":        {APIChat, "inferencex", SamplerDefault, 12288, -1},
		"gsm8k completions": {APICompletions, "lm-eval", SamplerFirstN, 256, 0},
		"gpqa chat":         {APIChat, "inferencex", SamplerDefault, 12288, -1},
		"gpqa completions":  {APICompletions, "inferencex", SamplerDefault, 256, -1},
	} {
		task, api, _ := strings.Cut(name, " ")
		got, ok := Lookup(task, API(api))
		require.True(t, ok, name)
		require.Equal(t, want, []any{got.API, got.Format, got.Sampler, got.MaxTokens, got.Filters[0].group}, name)
	}
	_, ok := Lookup("gsm8k", "responses")
	require.False(t, ok)
	api, err := ParseAPI("")
	require.NoError(t, err)
	require.Equal(t, APIChat, api)
	_, err = ParseAPI("chat-completions")
	require.EqualError(t, err, `api "chat-completions": want one of chat, completions`)
}
