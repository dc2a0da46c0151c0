package specyaml

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a config file, located precisely enough to jump
// to: file:line:col: path: message.
type Error struct {
	File string
	Line int
	Col  int
	Path string // entry.field[index].field
	Msg  string
}

func (e *Error) Error() string {
	loc := e.File
	switch {
	case e.Line > 0 && e.Col > 0:
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	case e.Line > 0: // a line-oriented file (JSONL) has no column
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Path == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Path + ": " + e.Msg
}

// Errors is every problem found, in file and line order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns nil when there are no errors, so callers can write
// `if err := errs.Err(); err != nil`.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	es.sort()
	return es
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Pos is where something was written, kept instead of its node where
// the node tree should not outlive parsing.
type Pos struct{ Line, Col int }

// PosOf is n's position; the zero Pos (no line) for nil.
func PosOf(n *yaml.Node) Pos {
	if n == nil {
		return Pos{}
	}
	return Pos{n.Line, n.Column}
}

// Reporter collects the errors of one file.
type Reporter struct {
	File string
	Errs *Errors
}

// At reports a problem at n (nil: the file as a whole).
func (r Reporter) At(n *yaml.Node, path, format string, args ...any) {
	r.AtPos(PosOf(n), path, format, args...)
}

// AtPos reports a problem at a position kept from parsing.
func (r Reporter) AtPos(p Pos, path, format string, args ...any) {
	*r.Errs = append(*r.Errs, &Error{File: r.File, Line: p.Line, Col: p.Col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Document parses data and returns its first document's root, or nil
// after reporting why there is none (not YAML, or empty).
func (r Reporter) Document(data []byte) *yaml.Node {
	before := len(*r.Errs)
	root := r.OptionalDocument(data)
	if root == nil && len(*r.Errs) == before {
		r.At(nil, "", "file is empty")
	}
	return root
}

// OptionalDocument is Document for files that may be empty (or all
// comments): nil without an error then.
func (r Reporter) OptionalDocument(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml reports "yaml: line N: message"; keep the line.
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line, tail, ok := syntaxLine(msg)
		if !ok {
			r.At(nil, "", "not valid YAML: %s", msg)
			return nil
		}
		r.AtPos(Pos{line, 1}, "", "not valid YAML:%s", tail)
		return nil
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return Resolve(doc.Content[0])
}

// syntaxLine splits yaml's "line N: message" into N and ": message".
func syntaxLine(msg string) (line int, tail string, ok bool) {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, "", false
	}
	num, tail, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, "", false
	}
	line, err := strconv.Atoi(num)
	return line, tail, err == nil
}
