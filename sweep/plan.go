package sweep

import (
	"fmt"
	"os"
)

// Plan is a validated, expanded sweep.
type Plan struct {
	Entries  []Entry
	Runners  Runners
	Settings Settings
	Points   []Point
	Counts   Counts
}

// Sources are the files a plan is made from.
type Sources struct {
	Masters  []string
	Runners  string
	Settings string // optional
	// ReadFile reads a named file; nil means os.ReadFile. Workers read
	// specs kept in the lake through it.
	ReadFile func(name string) ([]byte, error)
}

// LoadPlan reads, validates and expands. It returns every error found in
// every file (as Errors) and no plan when there is any.
func LoadPlan(src Sources, f Filters) (*Plan, error) {
	var errs Errors
	readFile := src.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	read := func(path string) []byte {
		data, err := readFile(path)
		if err != nil {
			errs = append(errs, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", err)})
		}
		return data
	}
	var entries []Entry
	for _, file := range src.Masters {
		if data := read(file); data != nil {
			got, more := ParseMaster(file, data)
			entries = append(entries, got...)
			errs = append(errs, more...)
		}
	}
	var runners Runners
	if data := read(src.Runners); data != nil {
		var more Errors
		runners, more = ParseRunners(src.Runners, data)
		errs = append(errs, more...)
	}
	settings := DefaultSettings()
	if src.Settings != "" {
		if data := read(src.Settings); data != nil {
			var more Errors
			settings, more = ParseSettings(src.Settings, data)
			errs = append(errs, more...)
		}
	}
	errs = append(errs, CrossCheck(entries, runners)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	points := Expand(entries, f)
	return &Plan{Entries: entries, Runners: runners, Settings: settings, Points: points, Counts: Count(points)}, nil
}

// CrossCheck finds what no single file shows: unknown runner labels,
// entries defined twice, layouts wider than a node.
func CrossCheck(entries []Entry, runners Runners) Errors {
	var errs Errors
	first := map[string]*Entry{}
	for i := range entries {
		e := &entries[i]
		r := reporter{file: e.File, errs: &errs}
		if prev, dup := first[e.Name]; dup {
			r.atLine(e.Line, e.Name, "entry defined twice (also at %s:%d)", prev.File, prev.Line)
			continue
		}
		first[e.Name] = e
		if e.Runner == "" {
			continue
		}
		if _, ok := runners.Labels[e.Runner]; !ok {
			errs = append(errs, &Error{File: e.File, Line: e.runnerPos.line, Col: e.runnerPos.col, Path: e.Name + ".runner",
				Msg: fmt.Sprintf("runner label %q is not in %s", e.Runner, runners.File)})
			continue
		}
		hw, hasHW := runners.Hardware[e.Runner]
		if !hasHW && !e.Multinode {
			errs = append(errs, &Error{File: e.File, Line: e.runnerPos.line, Col: e.runnerPos.col, Path: e.Name + ".runner",
				Msg: fmt.Sprintf("runner label %q has no hardware entry (gpus-per-node) in %s", e.Runner, runners.File)})
			continue
		}
		for _, search := range e.searches() {
			if e.Multinode {
				for _, w := range []*Workers{search.s.Prefill, search.s.Decode} {
					if w != nil && w.Hardware != "" {
						if _, ok := runners.Labels[w.Hardware]; !ok {
							errs = append(errs, &Error{File: e.File, Line: search.s.pos.line, Col: search.s.pos.col, Path: search.path + ".hardware",
								Msg: fmt.Sprintf("runner label %q is not in %s", w.Hardware, runners.File)})
						}
					}
				}
				continue
			}
			if gpus := search.s.TP * search.s.PP * search.s.PCPSize; hw.GPUsPerNode > 0 && gpus > hw.GPUsPerNode {
				errs = append(errs, &Error{File: e.File, Line: search.s.pos.line, Col: search.s.pos.col, Path: search.path,
					Msg: fmt.Sprintf("needs %d GPUs (tp·pp·pcp-size) but %s has %d per node: use multinode", gpus, e.Runner, hw.GPUsPerNode)})
			}
		}
	}
	return errs
}

type locatedSearch struct {
	s    Search
	path string
}

func (e *Entry) searches() []locatedSearch {
	var out []locatedSearch
	base := e.Name + "." + e.seqLenKey
	for i, sl := range e.FixedSeqLen {
		for j, s := range sl.SearchSpace {
			out = append(out, locatedSearch{s, fmt.Sprintf("%s[%d].search-space[%d]", base, i, j)})
		}
	}
	if e.Agentic != nil {
		for j, s := range e.Agentic.SearchSpace {
			out = append(out, locatedSearch{s, fmt.Sprintf("%s.scenarios.agentic-coding.search-space[%d]", e.Name, j)})
		}
	}
	return out
}

// Without drops the points whose ids are in seen: what remains is what an
// earlier plan did not have (new images, new search-space points, changed
// settings of an entry), the "sweep the diff" of a nightly run.
func (p *Plan) Without(seen map[string]bool) {
	kept := p.Points[:0]
	for _, pt := range p.Points {
		if !seen[pt.ID] {
			kept = append(kept, pt)
		}
	}
	p.Points = kept
	p.Counts = Count(kept)
}
