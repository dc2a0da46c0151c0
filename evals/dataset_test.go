package evals

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/specyaml"
)

func TestReadDatasetRejectsLinesNotInGSM8KShape(t *testing.T) {
	good := `{"question":"Q?","answer":"w\n#### 3"}`
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", good + "\n{oops\n", `:2: not a JSON object: invalid character 'o' looking for beginning of object key string`},
		{"missing answer", `{"question":"Q?"}`, `:1: "answer": missing`},
		{"answer is a number", `{"question":"Q?","answer":3}`, `:1: "answer": want a string, got 3`},
		{"empty question", `{"question":" ","answer":"#### 3"}`, `:1: "question": empty`},
		{"no final line", good + "\n\n" + `{"question":"Q?","answer":"it is 3"}`, `:3: "answer": does not end with a line "#### N" (GSM8K's final answer)`},
		{"empty file", "\n", `:1: no documents: want one JSON object per line with question and answer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "set.jsonl")
			require.NoError(t, os.WriteFile(path, []byte(tt.body), 0o600))
			_, err := ReadDataset(path)
			var derr *specyaml.Error
			require.ErrorAs(t, err, &derr)
			require.Equal(t, path+tt.want, err.Error())
		})
	}
}

func TestReadDatasetNamesItsBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.jsonl")
	body := `{"question":"Q?","answer":"w\n#### 3","extra":1}` + "\n"
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	ds, err := ReadDataset(path)
	require.NoError(t, err)
	// sha256sum of the same bytes, run in a shell
	require.Equal(t, "f6aa599934f53f5f3549a0006db3e25f5f3396d6c93a3bd3b7cd806c830f4f75", ds.SHA256)
	require.Equal(t, []Doc{{Question: "Q?", Answer: "w\n#### 3"}}, ds.Docs)
}
