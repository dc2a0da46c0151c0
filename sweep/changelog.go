package sweep

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/specyaml"
	"go.yaml.in/yaml/v3"
)

// ChangelogEntry is one entry of upstream's perf-changelog.yaml: a change
// to the configs it names, and what to re-run for it.
type ChangelogEntry struct {
	Index      int // 1-based position in the file
	Line       int
	ConfigKeys []string // names or '*' globs over entry names
	PRLink     string
	EvalsOnly  bool
	AllEvals   bool
	AppendOnly bool
	// EvalMinPrefillEP drops multinode eval rows whose prefill.ep is below
	// it; 0: no threshold.
	EvalMinPrefillEP int
	ScenarioTypes    []string // empty: both
}

var changelogFields = []string{"config-keys", "description", "pr-link", "evals-only", "all-evals", "append-only", "eval-min-prefill-ep", "scenario-type"}

// ParseChangelog reads perf-changelog.yaml, checking each entry as
// upstream's ChangelogEntry model does.
func ParseChangelog(file string, data []byte) ([]ChangelogEntry, Errors) {
	var errs Errors
	r := reporter{specyaml.Reporter{File: file, Errs: &errs}}
	root := r.Document(data)
	if root == nil {
		return nil, errs
	}
	if root.Kind != yaml.SequenceNode {
		r.At(root, "", "got %s, want a list of changelog entries", specyaml.KindName(root))
		return nil, errs
	}
	var out []ChangelogEntry
	for i, n := range root.Content {
		p := specyaml.Index("", i)
		f, ok := r.Mapping(n, p, changelogFields...)
		if !ok {
			continue
		}
		e := ChangelogEntry{Index: i + 1, Line: f.Node.Line, PRLink: r.Str(f, p, "pr-link", true),
			EvalsOnly: r.Boolean(f, p, "evals-only"), AllEvals: r.Boolean(f, p, "all-evals"), AppendOnly: r.Boolean(f, p, "append-only"),
			EvalMinPrefillEP: r.Integer(f, p, "eval-min-prefill-ep", false, 0, 1)}
		e.ConfigKeys = r.strings(f, p, "config-keys", true)
		r.strings(f, p, "description", true)
		if _, ok := f.Get("scenario-type"); ok {
			e.ScenarioTypes = r.strings(f, p, "scenario-type", true)
			for j, s := range e.ScenarioTypes {
				if s != ScenarioFixedSeqLen && s != ScenarioAgentic {
					r.At(f.Values["scenario-type"].Content[j], specyaml.Index(specyaml.Join(p, "scenario-type"), j), "%q is not one of %s, %s", s, ScenarioFixedSeqLen, ScenarioAgentic)
				}
			}
		}
		if e.AppendOnly && (e.EvalsOnly || e.AllEvals || e.EvalMinPrefillEP > 0) {
			r.At(f.Keys["append-only"], specyaml.Join(p, "append-only"), "append-only cannot be combined with eval selection fields")
		}
		out = append(out, e)
	}
	return out, errs
}

// strings reads a non-empty list of non-empty strings.
func (r reporter) strings(f specyaml.Fields, path, key string, required bool) []string {
	n, ok := f.Get(key)
	if !ok {
		if required {
			r.At(f.Node, specyaml.Join(path, key), "required field is missing")
		}
		return nil
	}
	items := r.List(f, path, key)
	if n.Kind == yaml.SequenceNode && len(items) == 0 {
		r.At(n, specyaml.Join(path, key), "empty: want at least one")
	}
	var out []string
	for i, item := range items {
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" || item.Value == "" {
			r.At(item, specyaml.Index(specyaml.Join(path, key), i), "got %s, want a non-empty string", specyaml.KindName(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// ChangelogSelection picks entries: Entry (1-based; negative counts from
// the end) or the Last K; zero values select the last entry, the one a
// new pull request adds.
type ChangelogSelection struct {
	File  string
	Entry int
	Last  int
}

// Select returns the chosen entries in file order.
func (s ChangelogSelection) Select(entries []ChangelogEntry) ([]ChangelogEntry, error) {
	n := len(entries)
	switch {
	case n == 0:
		return nil, fmt.Errorf("%s: no entries", s.File)
	case s.Entry != 0 && s.Last != 0:
		return nil, fmt.Errorf("--entry and --last exclude each other")
	case s.Last < 0:
		return nil, fmt.Errorf("--last %d: want 1 or more", s.Last)
	case s.Last > 0:
		return entries[max(n-s.Last, 0):], nil
	case s.Entry > n || -s.Entry > n:
		return nil, fmt.Errorf("--entry %d: %s has %d entries", s.Entry, s.File, n)
	case s.Entry > 0:
		return entries[s.Entry-1 : s.Entry], nil
	case s.Entry < 0:
		return entries[n+s.Entry : n+s.Entry+1], nil
	}
	return entries[n-1:], nil
}

// resolveConfigKeys expands an entry's keys as upstream does: '*' matches
// any run of characters over the whole name; a pattern matching nothing
// or a missing name is an error.
func resolveConfigKeys(keys []string, entries []Entry) ([]string, error) {
	var out []string
	for _, key := range keys {
		if !strings.Contains(key, "*") {
			if !slices.ContainsFunc(entries, func(e Entry) bool { return e.Name == key }) {
				return nil, fmt.Errorf("config key %q is not an entry of the master configs", key)
			}
			if !slices.Contains(out, key) {
				out = append(out, key)
			}
			continue
		}
		pattern := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(key), `\*`, ".*") + "$")
		matched := false
		for _, e := range entries {
			if pattern.MatchString(e.Name) {
				matched = true
				if !slices.Contains(out, e.Name) {
					out = append(out, e.Name)
				}
			}
		}
		if !matched {
			return nil, fmt.Errorf("config key pattern %q matches no entry of the master configs", key)
		}
	}
	return out, nil
}

// changelogRows are the rows upstream's process_changelog.py runs for
// the selected entries: throughput rows (--no-evals) unless the entry or
// filters ask for evals only, then each entry's eval rows (--evals-only,
// widened by all-evals), every config and scenario at most once each.
// Entries with all-evals go first, as upstream orders them.
func (x expander) changelogRows(selected []ChangelogEntry, all []Entry) ([]Row, error) {
	selected = slices.Clone(selected)
	slices.SortStableFunc(selected, func(a, b ChangelogEntry) int {
		switch {
		case a.AllEvals == b.AllEvals:
			return 0
		case a.AllEvals:
			return -1
		}
		return 1
	})
	byName := map[string]Entry{}
	for _, e := range all {
		byName[e.Name] = e
	}
	var benchmark, evals []Row
	benchmarkSeen, evalSeen := map[string]bool{}, map[string]bool{}
	for _, c := range selected {
		if c.AppendOnly {
			return nil, fmt.Errorf("changelog entry %d (%s): append-only runs only what the change added to the previous revision's matrix, which needs that revision's configs; plan its config-keys with --config-keys instead", c.Index, c.PRLink)
		}
		names, err := resolveConfigKeys(c.ConfigKeys, all)
		if err != nil {
			return nil, fmt.Errorf("changelog entry %d (%s): %w", c.Index, c.PRLink, err)
		}
		scenarios := c.ScenarioTypes
		if len(scenarios) == 0 {
			scenarios = []string{ScenarioFixedSeqLen, ScenarioAgentic}
		}
		if !(x.f.EvalsOnly || c.EvalsOnly || c.AllEvals) {
			f := x.f
			f.NoEvals, f.AllEvals = true, false
			rows, err := x.unseen(names, scenarios, byName, benchmarkSeen, f)
			if err != nil {
				return nil, err
			}
			benchmark = append(benchmark, rows...)
		}
		f := x.f
		f.NoEvals, f.EvalsOnly, f.AllEvals = false, true, x.f.AllEvals || c.AllEvals
		rows, err := x.unseen(names, scenarios, byName, evalSeen, f)
		if err != nil {
			return nil, err
		}
		evals = append(evals, slices.DeleteFunc(rows, func(r Row) bool {
			return c.EvalMinPrefillEP > 0 && r.Prefill != nil && r.Prefill.EP < c.EvalMinPrefillEP
		})...)
	}
	return append(benchmark, evals...), nil
}

// unseen expands the configs for the scenarios not yet run for each,
// grouped as upstream groups them: configs sharing the same unseen
// scenarios expand together, in the entry's key order.
func (x expander) unseen(names, scenarios []string, byName map[string]Entry, seen map[string]bool, f Filters) ([]Row, error) {
	groups := map[string][]Entry{}
	var order []string
	for _, name := range names {
		var fresh []string
		for _, s := range []string{ScenarioFixedSeqLen, ScenarioAgentic} {
			if slices.Contains(scenarios, s) && !seen[name+"\x00"+s] {
				seen[name+"\x00"+s] = true
				fresh = append(fresh, s)
			}
		}
		if len(fresh) == 0 {
			continue
		}
		key := strings.Join(fresh, ",")
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], byName[name])
	}
	var out []Row
	for _, key := range order {
		f := f
		if !strings.Contains(key, ",") {
			f.ScenarioType = key
		}
		rows, err := ExpandRows(groups[key], x.runners, x.hardware, f)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}
