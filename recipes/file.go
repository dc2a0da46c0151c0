// Package recipes holds engine launches as data: YAML recipes that match
// points (framework, model prefix, precision, hardware, spec decoding)
// and scenario, fixed-seq-len unless a recipe says otherwise) and render,
// through text/template over the point, the image, command,
// environment and files that start its engine, with a fingerprint of
// what runs. The shipped catalogue (catalogue/*.yaml) reproduces
// InferenceX's single-node launch scripts; users add or override recipes
// with files of their own.
//
// A multinode recipe (match.multinode: true) launches a whole
// deployment: roles (prefill and decode, or aggregated) each render one
// worker's launch, a frontend the router in front of them, as
// InferenceX's multi-node scripts start them. What only the start knows
// (a worker's node rank, its rank 0's address, the workers' URLs) stays
// as placeholders (NodeRankVar ...) that launch.RenderRole fills.
package recipes

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/specyaml"
	"github.com/infersweep/infersweep/sweep"
)

// Recipe is one way to launch an engine, as a file writes it.
type Recipe struct {
	Name string `yaml:"name"`
	// Source is the upstream script the recipe reproduces, if any.
	Source string `yaml:"source"`
	Match  Match  `yaml:"match"`
	// Family sets what every engine of one server shares: readiness path
	// and the log lines that mean a configuration cannot run.
	Family string `yaml:"family"`
	// Image, Command, Env and Files are templates over the point.
	Image          string            `yaml:"image"`
	Command        string            `yaml:"command"`
	Env            map[string]string `yaml:"env"`
	Files          map[string]string `yaml:"files"`
	Ready          *Ready            `yaml:"ready"`
	ConfigFailures []string          `yaml:"config-failures"`
	Mounts         []string          `yaml:"mounts"`
	StopGrace      time.Duration     `yaml:"stop-grace"`
	// Roles and Frontend launch a multinode deployment (match.multinode)
	// in place of Command: each worker of a role as its entry renders,
	// then the frontend routing between them.
	Roles    map[string]RoleRecipe `yaml:"roles"`
	Frontend *FrontendRecipe       `yaml:"frontend"`
	// ControlPlane, where given, starts before the workers on the first
	// node: what they and the frontend register with (Dynamo's etcd and
	// NATS), at .ControlAddr in their templates.
	ControlPlane *ControlPlaneRecipe `yaml:"control-plane"`
	// SrtSlurm renders the workers from the point's srt-slurm recipe
	// where the plan has the upstream checkout (.Srt in templates).
	SrtSlurm *SrtSlurm `yaml:"srt-slurm"`

	at           string // file:line, for messages naming two recipes
	templates    parsed
	roles        map[string]parsed
	frontend     parsed
	controlPlane parsed
}

// Match says which points a recipe launches; a list left out matches any
// value. The framework is always given.
type Match struct {
	Framework string `yaml:"framework"`
	// Scenario left out is fixed-seq-len: an agentic point's engine
	// serves sessions for an hour from host DRAM, and a recipe written
	// for fixed-length requests must say so before it launches one.
	Scenario     []string `yaml:"scenario"`
	ModelPrefix  []string `yaml:"model-prefix"`
	Precision    []string `yaml:"precision"`
	Hardware     []string `yaml:"hardware"`
	SpecDecoding []string `yaml:"spec-decoding"`
	// Multinode recipes launch multinode points, others single-node ones.
	Multinode bool `yaml:"multinode"`
}

// Ready is what says an engine serves: GET path answering 200, on Port
// where that is not the engine's own (a control plane's etcd: 2379).
type Ready struct {
	Path string `yaml:"path"`
	Port int    `yaml:"port"`
}

type parsed struct {
	image, command *template.Template
	env, files     map[string]*template.Template
}

// families are the servers recipes start, with what all their engines
// share.
var families = map[string]family{
	"vllm":   {ready: "/health", failures: []string{"torch.OutOfMemoryError", "CUDA out of memory", "ValueError: ", "error: unrecognized arguments"}},
	"sglang": {ready: "/health", failures: []string{"torch.OutOfMemoryError", "CUDA out of memory", "Not enough memory", "error: unrecognized arguments"}},
	"trt":    {ready: "/health", failures: []string{"CUDA out of memory", "OutOfMemory", "error: unrecognized arguments", "Error: No such option"}},
	"atom":   {ready: "/health", failures: []string{"HIP out of memory", "OutOfMemoryError", "error: unrecognized arguments"}},
	"sim":    {ready: "/health", failures: []string{"is not in the catalogue", "needs a MoE model", "want an ep that divides"}},
}

type family struct {
	ready    string
	failures []string
}

var recipeName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

// ParseFile reads one recipes file, reporting every problem at
// file:line:col with its field.
func ParseFile(file string, data []byte) ([]Recipe, specyaml.Errors) {
	var errs specyaml.Errors
	r := specyaml.Reporter{File: file, Errs: &errs}
	root := r.Document(data)
	if root == nil {
		return nil, errs
	}
	var doc struct {
		Recipes []Recipe `yaml:"recipes"`
	}
	nodes := r.Decode(root, "", &doc)
	if _, ok := nodes["recipes"]; !ok && len(errs) == 0 {
		r.At(root, "recipes", "required: the list of recipes")
	}
	for i := range doc.Recipes {
		path := specyaml.Index("recipes", i)
		check(r, nodes, path, &doc.Recipes[i])
		doc.Recipes[i].at = fmt.Sprintf("%s:%d", file, specyaml.PosOf(nodes.Of(path)).Line)
	}
	return doc.Recipes, errs
}

// check validates one recipe and parses its templates.
func check(r specyaml.Reporter, nodes specyaml.Nodes, path string, rc *Recipe) {
	at := func(field string) *yaml.Node { return nodes.Of(specyaml.Join(path, field)) }
	switch {
	case rc.Name == "":
		r.At(at("name"), specyaml.Join(path, "name"), "required")
	case !recipeName.MatchString(rc.Name):
		r.At(at("name"), specyaml.Join(path, "name"), "%q: lowercase letters, digits, '.' and '-'", rc.Name)
	}
	if rc.Match.Framework == "" {
		r.At(at("match"), specyaml.Join(path, "match.framework"), "required: the framework the recipe starts (sim, vllm, sglang, trt, atom, ...)")
	}
	for i, sc := range rc.Match.Scenario {
		if sc != sweep.ScenarioFixedSeqLen && sc != sweep.ScenarioAgentic {
			field := specyaml.Index(specyaml.Join(path, "match.scenario"), i)
			r.At(nodes.Of(field), field, "%q is no scenario (want %s or %s)", sc, sweep.ScenarioFixedSeqLen, sweep.ScenarioAgentic)
		}
	}
	for i, hw := range rc.Match.Hardware {
		if _, ok := sweep.DefaultNodeHardware()[hw]; !ok {
			field := specyaml.Index(specyaml.Join(path, "match.hardware"), i)
			r.At(nodes.Of(field), field, "%q is no GPU SKU (want one of %s)", hw, strings.Join(skus(), ", "))
		}
	}
	if _, ok := families[rc.Family]; !ok {
		r.At(at("family"), specyaml.Join(path, "family"), "%q: want one of %s", rc.Family, strings.Join(familyNames(), ", "))
	}
	if rc.SrtSlurm != nil {
		field := specyaml.Join(path, "srt-slurm")
		if _, ok := srtParallelism[rc.SrtSlurm.Backend]; !ok || !rc.Match.Multinode {
			r.At(at("srt-slurm"), field, "backend %q: want sglang, trtllm or vllm, on a multinode recipe", rc.SrtSlurm.Backend)
		}
	}
	if rc.Match.Multinode {
		checkRoles(r, nodes, path, rc)
	} else {
		checkSingle(r, nodes, path, rc)
	}
	if rc.Ready != nil && !strings.HasPrefix(rc.Ready.Path, "/") {
		r.At(at("ready.path"), specyaml.Join(path, "ready.path"), "%q: want a path starting with /", rc.Ready.Path)
	}
	if rc.StopGrace < 0 {
		r.At(at("stop-grace"), specyaml.Join(path, "stop-grace"), "must not be negative")
	}
	for i, m := range rc.Mounts {
		if host, container, ok := strings.Cut(m, ":"); !ok || !strings.HasPrefix(host, "/") || !strings.HasPrefix(container, "/") {
			field := specyaml.Index(specyaml.Join(path, "mounts"), i)
			r.At(nodes.Of(field), field, "%q: want /host/path:/container/path", m)
		}
	}
	rc.templates = parseTemplates(r, nodes, path, rc.Name, rc.Image, rc.Command, rc.Env, rc.Files)
}

// checkSingle: a single-node recipe runs one command, and has no roles.
func checkSingle(r specyaml.Reporter, nodes specyaml.Nodes, path string, rc *Recipe) {
	at := func(field string) *yaml.Node { return nodes.Of(specyaml.Join(path, field)) }
	if strings.TrimSpace(rc.Command) == "" {
		r.At(at("command"), specyaml.Join(path, "command"), "required: the engine's command line")
	}
	if rc.Roles != nil {
		r.At(at("roles"), specyaml.Join(path, "roles"), "only a multinode recipe (match.multinode: true) has roles")
	}
	if rc.Frontend != nil {
		r.At(at("frontend"), specyaml.Join(path, "frontend"), "only a multinode recipe (match.multinode: true) has a frontend")
	}
	if rc.ControlPlane != nil {
		r.At(at("control-plane"), specyaml.Join(path, "control-plane"), "only a multinode recipe (match.multinode: true) has a control plane")
	}
}

// parseTemplates parses one launch's templates, each reported at its
// field under path.
func parseTemplates(r specyaml.Reporter, nodes specyaml.Nodes, path, name, image, command string, env, files map[string]string) parsed {
	at := func(field string) *yaml.Node { return nodes.Of(specyaml.Join(path, field)) }
	parse := func(field, text string) *template.Template {
		t, err := template.New(name + "." + field).Funcs(funcs).Option("missingkey=error").Parse(text)
		if err != nil {
			r.At(at(field), specyaml.Join(path, field), "not a template: %s", templateProblem(err))
		}
		return t
	}
	out := parsed{image: parse("image", image), command: parse("command", command), env: map[string]*template.Template{}, files: map[string]*template.Template{}}
	for k, v := range env {
		out.env[k] = parse("env."+k, v)
	}
	for k, v := range files {
		if !strings.HasPrefix(k, "/") {
			r.At(at("files."+k), specyaml.Join(path, "files."+k), "want an absolute path")
		}
		out.files[k] = parse("files."+k, v)
	}
	return out
}

// templateProblem drops the template name text/template puts first.
func templateProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), "template: ")
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		return rest
	}
	return msg
}

func skus() []string {
	var out []string
	for k := range sweep.DefaultNodeHardware() {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func familyNames() []string {
	var out []string
	for k := range families {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
