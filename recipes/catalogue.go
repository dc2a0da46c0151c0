package recipes

import (
	"embed"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"sync"

	"github.com/infersweep/infersweep/specyaml"
	"github.com/infersweep/infersweep/sweep"
)

// Catalogue is every recipe a plan may use: the shipped ones, then the
// user's, whose recipe of a name replaces the shipped one.
type Catalogue struct {
	recipes []Recipe
}

//go:embed catalogue/*.yaml
var shipped embed.FS

// Default is the shipped catalogue, parsed once: it is part of the binary
// and cannot change while it runs.
var Default = sync.OnceValue(func() *Catalogue {
	c, err := Load(nil, nil)
	if err != nil {
		panic("the shipped recipe catalogue does not load: " + err.Error())
	}
	return c
})

// Load reads the shipped catalogue and then files (read with readFile):
// a recipe named as a shipped one replaces it. Every problem of every
// file is returned, as specyaml.Errors.
func Load(readFile func(string) ([]byte, error), files []string) (*Catalogue, error) {
	return load(readFile, files, true)
}

func load(readFile func(string) ([]byte, error), files []string, withShipped bool) (*Catalogue, error) {
	var errs specyaml.Errors
	byName := map[string]int{}
	c := &Catalogue{}
	add := func(recipes []Recipe, override bool) {
		for _, rc := range recipes {
			if i, ok := byName[rc.Name]; ok {
				if !override {
					errs = append(errs, &specyaml.Error{File: rc.at, Msg: fmt.Sprintf("recipe %q is defined twice (also at %s)", rc.Name, c.recipes[i].at)})
					continue
				}
				c.recipes[i] = rc
				continue
			}
			byName[rc.Name] = len(c.recipes)
			c.recipes = append(c.recipes, rc)
		}
	}
	entries, err := shipped.ReadDir("catalogue")
	if err != nil {
		return nil, err
	}
	if !withShipped {
		entries = nil
	}
	for _, e := range entries {
		name := path.Join("catalogue", e.Name())
		data, err := shipped.ReadFile(name)
		if err != nil {
			return nil, err
		}
		recipes, more := ParseFile("recipes/"+name, data)
		errs = append(errs, more...)
		add(recipes, false)
	}
	for _, f := range files {
		data, err := readFile(f)
		if err != nil {
			errs = append(errs, &specyaml.Error{File: f, Msg: fmt.Sprintf("cannot read: %v", err)})
			continue
		}
		recipes, more := ParseFile(f, data)
		errs = append(errs, more...)
		// A user's file replaces shipped recipes by name, not its own.
		add(recipes, withShipped)
	}
	errs = append(errs, c.overlaps()...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Recipes are the catalogue's recipes, by name.
func (c *Catalogue) Recipes() []Recipe {
	out := slices.Clone(c.recipes)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// overlaps reports two recipes that would both be the most specific
// match of some point: which one launches it would be a guess.
func (c *Catalogue) overlaps() specyaml.Errors {
	var errs specyaml.Errors
	for i := range c.recipes {
		for j := i + 1; j < len(c.recipes); j++ {
			a, b := &c.recipes[i].Match, &c.recipes[j].Match
			if a.Framework == b.Framework && a.Multinode == b.Multinode && a.specificity() == b.specificity() && intersect(a.scenarios(), b.scenarios()) && intersect(a.ModelPrefix, b.ModelPrefix) &&
				intersect(a.Precision, b.Precision) && intersect(a.Hardware, b.Hardware) && intersect(a.SpecDecoding, b.SpecDecoding) {
				errs = append(errs, &specyaml.Error{File: c.recipes[j].at, Msg: fmt.Sprintf("recipe %q matches the same points as %q (%s) as specifically: narrow one of them",
					c.recipes[j].Name, c.recipes[i].Name, c.recipes[i].at)})
			}
		}
	}
	return errs
}

// intersect: some value satisfies both lists (a list left out takes any).
func intersect(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, v := range a {
		if slices.Contains(b, v) {
			return true
		}
	}
	return false
}

// scenarios are the scenarios m serves: fixed-seq-len where left out.
// Scenario is no part of specificity: it partitions the points, so an
// agentic recipe never outranks, or stands in for, a fixed-seq-len one.
func (m *Match) scenarios() []string {
	if len(m.Scenario) == 0 {
		return []string{sweep.ScenarioFixedSeqLen}
	}
	return m.Scenario
}

func (m *Match) specificity() int {
	n := 1
	for _, l := range [][]string{m.ModelPrefix, m.Precision, m.Hardware, m.SpecDecoding} {
		if len(l) > 0 {
			n++
		}
	}
	return n
}

func (m *Match) matches(p sweep.Point) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return m.Framework == p.Framework && m.Multinode == p.Multinode && slices.Contains(m.scenarios(), scenario(p)) && in(m.ModelPrefix, p.ModelPrefix) && in(m.Precision, p.Precision) &&
		in(m.Hardware, hardware(p)) && in(m.SpecDecoding, specDecoding(p))
}

// hardware is the GPU SKU of the point's runner label.
func hardware(p sweep.Point) string {
	return sweep.SKU(or(p.RunnerLabel, p.Runner), sweep.DefaultNodeHardware())
}

// scenario is the point's scenario; a point built without one (a test's,
// an old plan's) is fixed-seq-len, as every point was before agentic.
func scenario(p sweep.Point) string {
	return or(p.Scenario, sweep.ScenarioFixedSeqLen)
}

func specDecoding(p sweep.Point) string {
	if p.SpecDecoding == "" {
		return "none"
	}
	return p.SpecDecoding
}

// Find is the recipe that launches p: the most specific match.
func (c *Catalogue) Find(p sweep.Point) (*Recipe, error) {
	var best *Recipe
	for i := range c.recipes {
		rc := &c.recipes[i]
		if rc.Match.matches(p) && (best == nil || rc.Match.specificity() > best.Match.specificity()) {
			best = rc
		}
	}
	if best == nil {
		kind := "single-node"
		if p.Multinode {
			kind = "multinode"
		}
		return nil, fmt.Errorf("no %s %s recipe matches framework %s, model-prefix %s, precision %s, hardware %s, spec-decoding %s",
			kind, scenario(p), p.Framework, p.ModelPrefix, p.Precision, or(hardware(p), "(none: runner "+p.RunnerLabel+")"), specDecoding(p))
	}
	return best, nil
}

func or(v, otherwise string) string {
	if v == "" {
		return otherwise
	}
	return v
}

// Launch renders the recipe that launches p.
func (c *Catalogue) Launch(p sweep.Point) (*sweep.Launch, error) {
	rc, err := c.Find(p)
	if err != nil {
		return nil, err
	}
	return rc.Render(p)
}

// withSettings adds the settings' arguments and environment to a launch
// and replaces its image where they say, and fingerprints the result; a
// deployment's workers take them, not its frontend or control plane.
func withSettings(l *sweep.Launch, e sweep.EngineSettings) *sweep.Launch {
	if len(e.Args) == 0 && len(e.Env) == 0 && e.Image == "" {
		return l
	}
	if len(l.Roles) > 0 {
		for i := range l.Roles {
			if r := l.Roles[i].Role; r != sweep.RoleFrontend && r != sweep.RoleControlPlane {
				withSettings(&l.Roles[i].Launch, e)
			}
		}
		l.Fingerprint = RolesFingerprint(l.Roles)
		return l
	}
	l.Args = append(l.Args, e.Args...)
	if len(e.Env) > 0 && l.Env == nil {
		l.Env = map[string]string{}
	}
	maps.Copy(l.Env, e.Env)
	if e.Image != "" {
		l.Image = e.Image
	}
	l.Fingerprint = Fingerprint(l)
	return l
}

// Served says whether recipes launch p: every point now, single-node
// and multinode, fixed-seq-len and agentic (multinode agentic ones
// through their srt-slurm recipes and the DSv4 MI355X disagg script,
// multinode.yaml and multinode-agentic.yaml). A served point that no
// recipe matches, or whose recipe refuses it, is a planning error, never
// a point quietly left without a launch; launch and AttachSimulated ask
// here so a class left out again is left out of both alike.
func Served(sweep.Point) bool {
	return true
}

// Attach loads the shipped catalogue and files and renders every served
// point's launch: a sweep.Launcher. A point no recipe matches, or whose
// recipe does not render for it, is a planning error; points that fail
// alike are reported once, with their count.
//
// Where src names the upstream checkout, a Dynamo point's workers render
// from its CONFIG_FILE srt-slurm recipe (SrtSlurm); one that cannot be
// read, parsed, or deploys something else than the point says is a
// planning error located in that file.
func Attach(points []sweep.Point, settings sweep.Settings, src sweep.LaunchSources) error {
	c := Default()
	if len(src.Recipes) > 0 {
		var err error
		if c, err = Load(src.ReadFile, src.Recipes); err != nil {
			return err
		}
	}
	return c.attach(points, settings, newSrtLoader(src))
}

// launch is Launch with the point's srt-slurm recipe where its recipe
// renders from one.
func (c *Catalogue) launch(p sweep.Point, srt *srtLoader) (*sweep.Launch, error) {
	rc, err := c.Find(p)
	if err != nil {
		return nil, err
	}
	f, err := srt.forPoint(rc, p)
	if err != nil {
		return nil, err
	}
	return rc.render(p, f)
}

func (c *Catalogue) attach(points []sweep.Point, settings sweep.Settings, srt *srtLoader) error {
	type problem struct {
		example sweep.Point
		err     error
		count   int
	}
	problems := map[string]*problem{}
	var order []string
	for i := range points {
		p := &points[i]
		if !Served(*p) {
			continue
		}
		l, err := c.launch(*p, srt)
		if err == nil {
			p.Launch = withSettings(l, settings.EngineFor(*p))
			continue
		}
		key := p.Entry + "\x00" + err.Error()
		if problems[key] == nil {
			problems[key] = &problem{example: *p, err: err}
			order = append(order, key)
		}
		problems[key].count++
	}
	var errs specyaml.Errors
	for _, key := range order {
		pr := problems[key]
		which := fmt.Sprintf("point %s (conc %d) and %d more of the entry", pr.example.ID, pr.example.Conc, pr.count-1)
		var located specyaml.Errors
		if errors.As(pr.err, &located) {
			// A problem of the entry's srt-slurm recipe: where in it, then
			// whose.
			for _, e := range located {
				at := *e
				at.Msg = fmt.Sprintf("%s (entry %s: %s)", e.Msg, pr.example.Entry, which)
				errs = append(errs, &at)
			}
			continue
		}
		errs = append(errs, &specyaml.Error{File: "recipes", Path: "entry " + pr.example.Entry, Msg: which + ": " + pr.err.Error()})
	}
	return errs.Err()
}
