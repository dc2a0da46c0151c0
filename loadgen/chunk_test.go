package loadgen

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Chunks as vLLM 0.11 streams them.
const (
	completionChunk = `{"id":"cmpl-9f2","object":"text_completion","created":1732700000,"model":"llama-3.3-70b","choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`
	chatChunk       = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi \"there\""},"logprobs":null,"finish_reason":null}]}`
	usageChunk      = `{"id":"cmpl-9f2","object":"text_completion","created":1732700000,"model":"llama-3.3-70b","choices":[],"usage":{"prompt_tokens":1024,"total_tokens":2048,"completion_tokens":1024}}`
)

func TestScanChunk(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    chunk
		wantErr string
	}{
		{"completion text", completionChunk, chunk{hasChoices: true}, ""},
		{"chat delta with escaped quotes", chatChunk, chunk{hasChoices: true}, ""},
		{"final chunk with empty text still counts", `{"choices":[{"index":0,"text":"","finish_reason":"length"}]}`, chunk{hasChoices: true}, ""},
		{"usage chunk", usageChunk, chunk{hasUsage: true, promptTokens: 1024, completionTokens: 1024}, ""},
		{"usage with null completion", `{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":null}}`, chunk{hasUsage: true, promptTokens: 5, completionTokens: -1}, ""},
		{"whitespace everywhere", " { \"choices\" : [ ] , \"usage\" : null } ", chunk{}, ""},
		{"done", "[DONE]", chunk{done: true}, ""},
		{"openai error member", `{"error":{"message":"boom","code":500}}`, chunk{errText: []byte(`{"message":"boom","code":500}`)}, ""},
		{"vllm error object", `{"object":"error","message":"KV cache exhausted","type":"InternalServerError","code":500}`, chunk{errText: []byte(`"KV cache exhausted"`)}, ""},
		{"nested brackets in strings", `{"choices":[{"text":"]}[{"}]}`, chunk{hasChoices: true}, ""},
		{"truncated", `{"choices":[{"text":"abc`, chunk{}, "unterminated string"},
		{"not an object", `hello`, chunk{}, "want an object"},
		{"missing colon", `{"choices" []}`, chunk{}, "no ':'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scanChunk([]byte(tt.payload))
			if tt.wantErr != "" {
				require.ErrorIs(t, err, errMalformedChunk)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestScanChunkAllocatesNothing(t *testing.T) {
	payloads := [][]byte{[]byte(completionChunk), []byte(chatChunk), []byte(usageChunk)}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, p := range payloads {
			if _, err := scanChunk(p); err != nil {
				panic(err)
			}
		}
	})
	require.Zero(t, allocs)
}

func FuzzScanChunk(f *testing.F) {
	for _, seed := range []string{completionChunk, chatChunk, usageChunk, "[DONE]", `{"error":null}`, `{"a":[{"b":"\\"}]}`, `{`, `{"x":}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		// Any input: an answer or an error, never a panic or a hang.
		c, err := scanChunk(p)
		if err == nil && c.hasUsage && c.completionTokens < -1 {
			t.Fatalf("negative token count %d", c.completionTokens)
		}
	})
}
