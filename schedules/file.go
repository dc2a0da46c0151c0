// Package schedules turns schedules.yaml into Temporal Schedules that start
// SweepWorkflow: the nightly "every night, automatically". Specs are
// uploaded to the lake by content, so a schedule names exactly the bytes it
// sweeps, and applying a file twice changes nothing.
package schedules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/specyaml"
	"github.com/infersweep/infersweep/sweep"
)

// Schedule is one entry of schedules.yaml, paths resolved against the
// file's directory.
type Schedule struct {
	ID       string        `yaml:"id"`
	Note     string        `yaml:"note"`
	Cron     []string      `yaml:"cron"`
	At       []Calendar    `yaml:"at"`        // friendlier than cron: times of day on some weekdays
	Zone     string        `yaml:"time-zone"` // IANA time zone the times and the sweep dates are in
	Jitter   time.Duration `yaml:"jitter"`
	Specs    []string      `yaml:"spec"`
	Runners  string        `yaml:"runners"`
	Settings string        `yaml:"settings"`
	// Changelog is upstream's perf-changelog.yaml: the sweep runs what
	// the selected entries name (filters changelog-entry, changelog-last).
	Changelog      string        `yaml:"changelog"`
	Filters        Filters       `yaml:"filters"`
	Overlap        string        `yaml:"overlap"` // skip, buffer-one, buffer-all, cancel-other, terminate-other, allow-all
	CatchupWindow  time.Duration `yaml:"catchup-window"`
	PauseOnFailure bool          `yaml:"pause-on-failure"`
	// Paused is the state a new schedule is created in; apply never
	// changes the state of an existing one (pause/unpause do).
	Paused bool `yaml:"paused"`
	// ChangedSinceLast plans only the points the schedule's previous
	// sweep did not have.
	ChangedSinceLast bool `yaml:"changed-since-last"`
	// TimeScale speeds up simulated engines; 0 or 1 for real ones.
	TimeScale float64 `yaml:"time-scale"`
	// UpstreamRoot is the InferenceX checkout the specs come from: Dynamo
	// workers render from the entries' srt-slurm recipes there, which
	// apply keeps in the lake (sweep run --upstream-root).
	UpstreamRoot string `yaml:"upstream-root"`

	// upstream are the checkout files the schedule's plan read, by
	// checkout-relative path (Parse fills it).
	upstream map[string][]byte
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

// ReadFile reads and parses a schedules file.
func ReadFile(path string) ([]Schedule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads schedules.yaml. Every problem is reported as
// file:line:col: schedules[i].field: message, and no schedule is returned
// when there is any.
func Parse(file string, data []byte) ([]Schedule, error) {
	var errs specyaml.Errors
	r := specyaml.Reporter{File: file, Errs: &errs}
	root := r.Document(data)
	if root == nil {
		return nil, errs.Err()
	}
	doc, _ := r.Mapping(root, "", "schedules")
	items := r.List(doc, "", "schedules")
	if len(items) == 0 {
		r.At(root, "schedules", "want a list of schedules")
		return nil, errs.Err()
	}
	var out []Schedule
	seen := map[string]bool{}
	for i, item := range items {
		prefix := specyaml.Index("schedules", i)
		s, nodes := decodeSchedule(r, item, prefix, filepath.Dir(file))
		if seen[s.ID] {
			r.At(nodes.Of(prefix+".id"), prefix+".id", "%q is defined twice", s.ID)
		}
		seen[s.ID] = true
		out = append(out, s)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	// The specs themselves must plan before anything is created.
	for i := range out {
		if err := out[i].plan(); err != nil {
			r.At(items[i], fmt.Sprintf("schedules[%d] (%s)", i, out[i].ID), "its sweep does not plan:\n%v", err)
		}
	}
	return out, errs.Err()
}

// plan plans the schedule's sweep as its nights will, keeping what it
// reads of the upstream checkout.
func (s *Schedule) plan() error {
	src := sweep.Sources{Masters: s.Specs, Runners: s.Runners, Settings: s.Settings, Launches: recipes.Attach, Upstream: s.UpstreamRoot}
	if s.UpstreamRoot != "" {
		var err error
		if src.ReadFile, s.upstream, err = sweep.RecordUnder(s.UpstreamRoot); err != nil {
			return err
		}
	}
	_, err := sweep.LoadPlan(src, s.Filters.sweep(s.Changelog))
	return err
}

// decodeSchedule reads one entry over the defaults (skip overlapping
// runs, catch up for 6 hours, UTC), checks it and resolves its paths
// against dir.
func decodeSchedule(r specyaml.Reporter, item *yaml.Node, prefix, dir string) (Schedule, specyaml.Nodes) {
	s := Schedule{Overlap: "skip", CatchupWindow: 6 * time.Hour, Zone: "UTC"}
	nodes := r.Decode(item, prefix, &s)
	bad := func(field, format string, args ...any) {
		path := specyaml.Join(prefix, field)
		r.At(nodes.Of(path), path, format, args...)
	}
	if !idPattern.MatchString(s.ID) {
		bad("id", "%q: want lowercase letters, digits and dashes", s.ID)
	}
	if len(s.Cron) == 0 && len(s.At) == 0 {
		r.At(item, prefix, "no times: set cron or at")
	}
	checkTimes(s, bad)
	if s.Zone == "Local" {
		s.Zone = localZone()
	}
	if _, err := time.LoadLocation(s.Zone); err != nil {
		bad("time-zone", "%q: not an IANA time zone", s.Zone)
	}
	if !slices.Contains(overlapNames, s.Overlap) {
		bad("overlap", "%q: want one of %s", s.Overlap, strings.Join(overlapNames, ", "))
	}
	if s.Jitter < 0 {
		bad("jitter", "%s: want a duration of 0 or more", s.Jitter)
	}
	if s.CatchupWindow < 10*time.Second {
		bad("catchup-window", "%s: Temporal's minimum is 10s", s.CatchupWindow)
	}
	if len(s.Specs) == 0 {
		bad("spec", "want at least one master config file")
	}
	if s.Runners == "" {
		bad("runners", "want the runners file")
	}
	if s.TimeScale < 0 {
		bad("time-scale", "%g: want 1 (real engines) or more", s.TimeScale)
	}
	for k := range s.Specs {
		s.Specs[k] = resolve(dir, s.Specs[k])
	}
	s.Runners, s.Settings, s.Changelog = resolve(dir, s.Runners), resolve(dir, s.Settings), resolve(dir, s.Changelog)
	if s.UpstreamRoot != "" {
		s.UpstreamRoot = resolve(dir, s.UpstreamRoot)
		if info, err := os.Stat(s.UpstreamRoot); err != nil || !info.IsDir() {
			bad("upstream-root", "%s: not a directory (want the InferenceX checkout the specs come from)", s.UpstreamRoot)
		}
	}
	return s, nodes
}

// checkTimes checks cron lines and at times field by field, where
// Temporal would only refuse the whole schedule.
func checkTimes(s Schedule, bad func(field, format string, args ...any)) {
	for k, c := range s.Cron {
		if fields := strings.Fields(c); !strings.HasPrefix(c, "@") && (len(fields) < 5 || len(fields) > 7) {
			bad(specyaml.Index("cron", k), "%q: want 5 fields (minute hour day-of-month month day-of-week) or @daily", c)
		}
	}
	for k, c := range s.At {
		at := specyaml.Index("at", k)
		if !timePattern.MatchString(c.Time) {
			bad(at+".time", "%q: want HH:MM", c.Time)
		}
		for d, day := range c.Days {
			if !slices.Contains(weekdays, strings.ToLower(day)) {
				bad(specyaml.Index(at+".days", d), "%q: want mon, tue, wed, thu, fri, sat or sun", day)
			}
		}
	}
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
