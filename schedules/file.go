// Package schedules turns schedules.yaml into Temporal Schedules that start
// SweepWorkflow: the nightly "every night, automatically". Specs are
// uploaded to the lake by content, so a schedule names exactly the bytes it
// sweeps, and applying a file twice changes nothing.
package schedules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/sweep"
)

// Schedule is one entry of schedules.yaml, paths resolved against the
// file's directory.
type Schedule struct {
	ID       string
	Note     string
	Cron     []string
	At       []Calendar // friendlier than cron: times of day on some weekdays
	Zone     string     // IANA time zone the times and the sweep dates are in
	Jitter   time.Duration
	Specs    []string
	Runners  string
	Settings string
	// Changelog is upstream's perf-changelog.yaml: the sweep runs what
	// the selected entries name (filters changelog-entry, changelog-last).
	Changelog      string
	Filters        Filters
	Overlap        string // skip, buffer-one, buffer-all, cancel-other, terminate-other, allow-all
	CatchupWindow  time.Duration
	PauseOnFailure bool
	// Paused is the state a new schedule is created in; apply never
	// changes the state of an existing one (pause/unpause do).
	Paused bool
	// ChangedSinceLast plans only the points the schedule's previous
	// sweep did not have.
	ChangedSinceLast bool
	// TimeScale speeds up simulated engines; 0 or 1 for real ones.
	TimeScale float64
}

// Calendar is "at 02:00 on mon,tue…".
type Calendar struct {
	Time string   `yaml:"time" json:"time"` // HH:MM
	Days []string `yaml:"days" json:"days"` // mon … sun; empty: every day
}

// Filters narrow a scheduled sweep as `sweep run` flags do.
type Filters struct {
	ModelPrefixes []string `yaml:"model-prefix" json:"model_prefix,omitempty"`
	Precisions    []string `yaml:"precision" json:"precision,omitempty"`
	Frameworks    []string `yaml:"framework" json:"framework,omitempty"`
	Runners       []string `yaml:"runner" json:"runner,omitempty"`
	SeqLens       []string `yaml:"seq-lens" json:"seq_lens,omitempty"`
	ConfigKeys    []string `yaml:"config-keys" json:"config_keys,omitempty"`
	MinConc       int      `yaml:"min-conc" json:"min_conc,omitempty"`
	MaxConc       int      `yaml:"max-conc" json:"max_conc,omitempty"`
	MaxTP         int      `yaml:"max-tp" json:"max_tp,omitempty"`
	MaxEP         int      `yaml:"max-ep" json:"max_ep,omitempty"`
	StepSize      int      `yaml:"step-size" json:"step_size,omitempty"`
	SingleNode    bool     `yaml:"single-node" json:"single_node,omitempty"`
	MultiNode     bool     `yaml:"multi-node" json:"multi_node,omitempty"`
	ScenarioType  string   `yaml:"scenario-type" json:"scenario_type,omitempty"`
	NoEvals       bool     `yaml:"no-evals" json:"no_evals,omitempty"`
	EvalsOnly     bool     `yaml:"evals-only" json:"evals_only,omitempty"`
	AllEvals      bool     `yaml:"all-evals" json:"all_evals,omitempty"`
	// ChangelogEntry and ChangelogLast select entries of the schedule's
	// changelog (default: its last entry).
	ChangelogEntry int `yaml:"changelog-entry" json:"changelog_entry,omitempty"`
	ChangelogLast  int `yaml:"changelog-last" json:"changelog_last,omitempty"`
}

// sweep is the schedule's filters as a sweep takes them; changelog is
// where the sweep reads the changelog ("" for none).
func (f Filters) sweep(changelog string) sweep.Filters {
	return sweep.Filters{ModelPrefixes: f.ModelPrefixes, Precisions: f.Precisions, Frameworks: f.Frameworks, Runners: f.Runners,
		SeqLens: f.SeqLens, ConfigKeys: f.ConfigKeys, MinConc: f.MinConc, MaxConc: f.MaxConc, MaxTP: f.MaxTP, MaxEP: f.MaxEP,
		StepSize: f.StepSize, SingleNode: f.SingleNode, MultiNode: f.MultiNode, ScenarioType: f.ScenarioType,
		NoEvals: f.NoEvals, EvalsOnly: f.EvalsOnly, AllEvals: f.AllEvals,
		Changelog: sweep.ChangelogSelection{File: changelog, Entry: f.ChangelogEntry, Last: f.ChangelogLast}}
}

// Overlap policies by name; SKIP is the default: a night that runs long
// never piles up the next one behind it.
var overlapNames = []string{"skip", "buffer-one", "buffer-all", "cancel-other", "terminate-other", "allow-all"}

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	timePattern = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)$`)
	weekdays    = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

// Parse reads schedules.yaml. Every problem is reported as
// file:line:col: schedules[i].field: message, and no schedule is returned
// when there is any.
func Parse(file string, data []byte) ([]Schedule, error) {
	var errs sweep.Errors
	fail := func(n *yaml.Node, path, format string, args ...any) {
		e := &sweep.Error{File: file, Path: path, Msg: fmt.Sprintf(format, args...)}
		if n != nil {
			e.Line, e.Col = n.Line, n.Column
		}
		errs = append(errs, e)
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		fail(nil, "", "%v", err)
		return nil, errs.Err()
	}
	var list *yaml.Node
	if len(root.Content) == 1 && root.Content[0].Kind == yaml.MappingNode {
		doc := root.Content[0]
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == "schedules" {
				list = doc.Content[i+1]
			} else {
				fail(doc.Content[i], doc.Content[i].Value, "unknown field (want schedules)")
			}
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		fail(list, "schedules", "want a list of schedules")
		return nil, errs.Err()
	}
	dir := filepath.Dir(file)
	var out []Schedule
	seen := map[string]bool{}
	for i, item := range list.Content {
		prefix := fmt.Sprintf("schedules[%d]", i)
		if item.Kind != yaml.MappingNode {
			fail(item, prefix, "want a mapping")
			continue
		}
		s := Schedule{Overlap: "skip", CatchupWindow: 6 * time.Hour, Zone: "UTC"}
		present := map[string]*yaml.Node{}
		for j := 0; j+1 < len(item.Content); j += 2 {
			key, value := item.Content[j], item.Content[j+1]
			path := prefix + "." + key.Value
			present[key.Value] = value
			decode := func(into any) {
				if err := value.Decode(into); err != nil {
					fail(value, path, "%s", strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))
				}
			}
			duration := func(into *time.Duration) {
				var text string
				decode(&text)
				d, err := time.ParseDuration(text)
				if err != nil || d < 0 {
					fail(value, path, "%q: want a duration like 10m or 6h", text)
				}
				*into = d
			}
			switch key.Value {
			case "id":
				decode(&s.ID)
			case "note":
				decode(&s.Note)
			case "cron":
				decode(&s.Cron)
			case "at":
				decode(&s.At)
			case "time-zone":
				decode(&s.Zone)
			case "jitter":
				duration(&s.Jitter)
			case "spec":
				decode(&s.Specs)
			case "runners":
				decode(&s.Runners)
			case "settings":
				decode(&s.Settings)
			case "changelog":
				decode(&s.Changelog)
			case "filters":
				dec := value
				var f Filters
				if err := decodeKnown(dec, &f); err != nil {
					fail(value, path, "%v", err)
				}
				s.Filters = f
			case "overlap":
				decode(&s.Overlap)
			case "catchup-window":
				duration(&s.CatchupWindow)
			case "pause-on-failure":
				decode(&s.PauseOnFailure)
			case "paused":
				decode(&s.Paused)
			case "changed-since-last":
				decode(&s.ChangedSinceLast)
			case "time-scale":
				decode(&s.TimeScale)
			default:
				fail(key, path, "unknown field (want id, note, cron, at, time-zone, jitter, spec, runners, settings, changelog, filters, overlap, catchup-window, pause-on-failure, paused, changed-since-last, time-scale)")
			}
		}
		at := func(name string) *yaml.Node {
			if n := present[name]; n != nil {
				return n
			}
			return item
		}
		switch {
		case !idPattern.MatchString(s.ID):
			fail(at("id"), prefix+".id", "%q: want lowercase letters, digits and dashes", s.ID)
		case seen[s.ID]:
			fail(at("id"), prefix+".id", "%q is defined twice", s.ID)
		}
		seen[s.ID] = true
		if len(s.Cron) == 0 && len(s.At) == 0 {
			fail(item, prefix, "no times: set cron or at")
		}
		for k, c := range s.Cron {
			if fields := strings.Fields(c); !strings.HasPrefix(c, "@") && (len(fields) < 5 || len(fields) > 7) {
				fail(at("cron"), fmt.Sprintf("%s.cron[%d]", prefix, k), "%q: want 5 fields (minute hour day-of-month month day-of-week) or @daily", c)
			}
		}
		for k, c := range s.At {
			if !timePattern.MatchString(c.Time) {
				fail(at("at"), fmt.Sprintf("%s.at[%d].time", prefix, k), "%q: want HH:MM", c.Time)
			}
			for _, d := range c.Days {
				if !slices.Contains(weekdays, strings.ToLower(d)) {
					fail(at("at"), fmt.Sprintf("%s.at[%d].days", prefix, k), "%q: want mon, tue, wed, thu, fri, sat or sun", d)
				}
			}
		}
		if s.Zone == "Local" {
			s.Zone = localZone()
		}
		if _, err := time.LoadLocation(s.Zone); err != nil {
			fail(at("time-zone"), prefix+".time-zone", "%q: not an IANA time zone", s.Zone)
		}
		if !slices.Contains(overlapNames, s.Overlap) {
			fail(at("overlap"), prefix+".overlap", "%q: want one of %s", s.Overlap, strings.Join(overlapNames, ", "))
		}
		if s.CatchupWindow < 10*time.Second {
			fail(at("catchup-window"), prefix+".catchup-window", "%s: Temporal's minimum is 10s", s.CatchupWindow)
		}
		if len(s.Specs) == 0 {
			fail(at("spec"), prefix+".spec", "want at least one master config file")
		}
		if s.Runners == "" {
			fail(at("runners"), prefix+".runners", "want the runners file")
		}
		if s.TimeScale < 0 {
			fail(at("time-scale"), prefix+".time-scale", "%g: want 1 (real engines) or more", s.TimeScale)
		}
		for k := range s.Specs {
			s.Specs[k] = resolve(dir, s.Specs[k])
		}
		s.Runners = resolve(dir, s.Runners)
		if s.Settings != "" {
			s.Settings = resolve(dir, s.Settings)
		}
		if s.Changelog != "" {
			s.Changelog = resolve(dir, s.Changelog)
		}
		out = append(out, s)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	// The specs themselves must plan before anything is created.
	for i, s := range out {
		if _, err := sweep.LoadPlan(sweep.Sources{Masters: s.Specs, Runners: s.Runners, Settings: s.Settings}, s.Filters.sweep(s.Changelog)); err != nil {
			fail(list.Content[i], fmt.Sprintf("schedules[%d] (%s)", i, s.ID), "its sweep does not plan:\n%v", err)
		}
	}
	return out, errs.Err()
}

// localZone names this machine's zone the IANA way, as Temporal needs it:
// TZ, else the /etc/localtime link, else UTC.
func localZone() string {
	if tz := os.Getenv("TZ"); tz != "" {
		return strings.TrimPrefix(tz, ":")
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok {
			return name
		}
	}
	return "UTC"
}

func resolve(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// decodeKnown decodes a mapping, refusing fields the target lacks.
func decodeKnown(n *yaml.Node, into any) error {
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(n); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	err := dec.Decode(into)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))
	}
	return nil
}
