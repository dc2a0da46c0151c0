package sweep

import (
	"fmt"
	"sort"
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
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
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

// reporter collects errors for one file.
type reporter struct {
	file string
	errs *Errors
}

func (r reporter) at(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: r.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	*r.errs = append(*r.errs, e)
}

func (r reporter) atPos(p position, path, format string, args ...any) {
	*r.errs = append(*r.errs, &Error{File: r.file, Line: p.line, Col: p.col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (r reporter) atLine(line int, path, format string, args ...any) {
	*r.errs = append(*r.errs, &Error{File: r.file, Line: line, Col: 1, Path: path, Msg: fmt.Sprintf(format, args...)})
}
