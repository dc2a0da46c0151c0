package evals

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/infersweep/infersweep/specyaml"
)

// Dataset is a task's documents as read from one file, named by the
// SHA-256 of its bytes so a result says exactly which data it scored.
type Dataset struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Docs   []Doc  `json:"-"`
}

// finalAnswer is GSM8K's last answer line, the one strict-match reads.
var finalAnswer = regexp.MustCompile(`(?:^|\n)#### (\-?[0-9\.\,]+)\s*$`)

// ReadDataset reads a GSM8K-shaped JSONL file: one object per line with
// string fields "question" and "answer", the answer ending "#### N".
// Blank lines are skipped; other fields are allowed and ignored.
func ReadDataset(path string) (Dataset, error) { return GSM8K().ReadDataset(path) }

// ReadDataset reads a JSONL file in the task's published shape.
func (t Task) ReadDataset(path string) (Dataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Dataset{}, err
	}
	return t.ParseDataset(path, raw)
}

// ParseDataset reads the bytes of a JSONL file named name (a path, or a
// key in the lake) in the task's shape, then processes the documents as
// the task's process_docs does: what Run scores and Limit counts.
func (t Task) ParseDataset(name string, raw []byte) (Dataset, error) {
	sum := sha256.Sum256(raw)
	ds := Dataset{Path: name, SHA256: hex.EncodeToString(sum[:])}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(text, &fields); err != nil {
			return Dataset{}, &specyaml.Error{File: name, Line: line, Msg: "not a JSON object: " + err.Error()}
		}
		doc, derr := t.parse(fields)
		if derr != nil {
			derr.File, derr.Line = name, line
			return Dataset{}, derr
		}
		ds.Docs = append(ds.Docs, doc)
	}
	if err := sc.Err(); err != nil {
		return Dataset{}, fmt.Errorf("read %s: %w", name, err)
	}
	if len(ds.Docs) == 0 {
		return Dataset{}, &specyaml.Error{File: name, Line: 1, Msg: "no documents: want one JSON object per line with " + t.shape}
	}
	if t.process != nil {
		ds.Docs = t.process(ds.Docs)
	}
	return ds, nil
}

// stringFields reads the named string fields of a line, each required
// and non-empty.
func stringFields(fields map[string]json.RawMessage, names []string, into []*string) *specyaml.Error {
	for i, name := range names {
		// JSON keys, quoted: GPQA's have spaces.
		key := strconv.Quote(name)
		v, ok := fields[name]
		if !ok {
			return &specyaml.Error{Path: key, Msg: "missing"}
		}
		if err := json.Unmarshal(v, into[i]); err != nil {
			return &specyaml.Error{Path: key, Msg: "want a string, got " + string(v)}
		}
		if strings.TrimSpace(*into[i]) == "" {
			return &specyaml.Error{Path: key, Msg: "empty"}
		}
	}
	return nil
}

func parseGSM8K(fields map[string]json.RawMessage) (Doc, *specyaml.Error) {
	var doc Doc
	if err := stringFields(fields, []string{"question", "answer"}, []*string{&doc.Question, &doc.Answer}); err != nil {
		return Doc{}, err
	}
	if !finalAnswer.MatchString(doc.Answer) {
		return Doc{}, &specyaml.Error{Path: `"answer"`, Msg: `does not end with a line "#### N" (GSM8K's final answer)`}
	}
	return doc, nil
}
