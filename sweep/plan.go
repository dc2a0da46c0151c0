package sweep

import (
	"cmp"
	"fmt"
	"os"

	"github.com/infersweep/infersweep/specyaml"
)

// Plan is a validated, expanded sweep: upstream's matrix rows and the
// points they run as.
type Plan struct {
	Entries  []Entry
	Runners  Runners
	Settings Settings
	Rows     []Row
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
	// Recipes are engine recipe files beside the shipped catalogue;
	// Launches renders every point's launch from them (recipes.Attach).
	// Without Launches engines are launched as the shipped catalogue says
	// when they start.
	Recipes  []string
	Launches Launcher
	// Upstream is the root of the InferenceX checkout the masters come
	// from, where a multinode entry's CONFIG_FILE (an srt-slurm recipe)
	// is read; empty where there is none, and those recipes are not read.
	Upstream string
}

// LaunchSources are what a Launcher reads besides the points: recipe
// files, the upstream checkout's srt-slurm recipes, both through
// ReadFile.
type LaunchSources struct {
	Recipes  []string
	ReadFile func(string) ([]byte, error)
	Upstream string
}

// Launcher renders the engine launch of each point from recipe files,
// with the settings' engine overrides; its errors name the file and
// line, or the entry.
type Launcher func(points []Point, settings Settings, src LaunchSources) error

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
	errs = append(errs, CrossCheck(entries, runners, settings.NodeHardware)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	if err := f.checkRunnerTypes(runners); err != nil {
		return nil, err
	}
	rows, err := expandSources(entries, runners, settings.NodeHardware, f, readFile)
	if err != nil {
		return nil, err
	}
	points := Points(rows)
	shapeDeployments(points, runners, settings.NodeHardware)
	if src.Launches != nil {
		if err := src.Launches(points, settings, LaunchSources{Recipes: src.Recipes, ReadFile: readFile, Upstream: src.Upstream}); err != nil {
			return nil, err
		}
	}
	return &Plan{Entries: entries, Runners: runners, Settings: settings, Rows: rows, Points: points, Counts: Count(points)}, nil
}

// expandSources expands the whole matrix, or what the changelog entries
// the filters select run.
func expandSources(entries []Entry, runners Runners, catalogue map[string]RunnerHardware, f Filters, readFile func(string) ([]byte, error)) ([]Row, error) {
	if f.Changelog.File == "" {
		return ExpandRows(entries, runners, catalogue, f)
	}
	data, err := readFile(f.Changelog.File)
	if err != nil {
		return nil, Errors{{File: f.Changelog.File, Msg: fmt.Sprintf("cannot read: %v", err)}}
	}
	changes, errs := ParseChangelog(f.Changelog.File, data)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	selected, err := f.Changelog.Select(changes)
	if err != nil {
		return nil, err
	}
	return expander{f: f, runners: runners, hardware: catalogue}.changelogRows(selected, entries)
}

// CrossCheck finds what no single file shows: entries defined in two
// files, and single-node layouts wider than a node of their runner
// (where runners.yaml or the catalogue says how many GPUs a node has).
func CrossCheck(entries []Entry, runners Runners, catalogue map[string]RunnerHardware) Errors {
	var errs Errors
	first := map[string]*Entry{}
	for i := range entries {
		e := &entries[i]
		r := reporter{specyaml.Reporter{File: e.File, Errs: &errs}}
		if prev, dup := first[e.Name]; dup {
			r.AtPos(specyaml.Pos{Line: e.Line, Col: 1}, e.Name, "entry defined twice (also at %s:%d)", prev.File, prev.Line)
			continue
		}
		first[e.Name] = e
		hw, known := NodeHardware(e.Runner, runners, catalogue)
		if e.Multinode || !known {
			continue
		}
		for _, s := range e.searches() {
			if gpus := s.TP * s.PP * s.PCPSize; gpus > hw.GPUsPerNode {
				r.AtPos(s.pos, s.path, "needs %d GPUs (tp·pp·pcp-size) but a %s node has %d: use multinode", gpus, e.Runner, hw.GPUsPerNode)
			}
		}
	}
	return errs
}

func (e *Entry) searches() []Search {
	var out []Search
	for _, sl := range e.FixedSeqLen {
		out = append(out, sl.SearchSpace...)
	}
	for _, a := range e.Agentic {
		out = append(out, a.SearchSpace...)
	}
	return out
}

// Without drops the points whose run keys are in seen: what remains is
// what an earlier plan did not have (new images, new search-space points,
// changed settings of an entry, changed engine launches), the "sweep the
// diff" of a nightly run.
func (p *Plan) Without(seen map[string]bool) {
	kept := p.Points[:0]
	for _, pt := range p.Points {
		if !seen[pt.RunKey()] {
			kept = append(kept, pt)
		}
	}
	p.Points = kept
	p.Counts = Count(kept)
}

// shapeDeployments places each multinode point's workers on nodes of its
// runner's hardware (or a role's own).
func shapeDeployments(points []Point, runners Runners, catalogue map[string]RunnerHardware) {
	for i := range points {
		p := &points[i]
		if !p.Multinode {
			continue
		}
		p.Roles = Shape(p.Prefill, p.Decode, func(hardware string) int {
			hw, _ := NodeHardware(cmp.Or(hardware, p.RunnerLabel), runners, catalogue)
			return hw.GPUsPerNode
		})
		p.Nodes = Nodes(p.Roles)
	}
}
