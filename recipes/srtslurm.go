package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/specyaml"
	"github.com/infersweep/infersweep/sweep"
)

// InferenceX's runners hand a Dynamo entry's CONFIG_FILE to NVIDIA's
// srt-slurm (`srtctl apply -f`), which turns that job YAML into the
// workers' and frontend's processes. What this file and srtrender.go
// read of it, and how they render it, follows srt-slurm's v1.0.50
// (commit e4019633, the release upstream pins for its released-srtctl
// lanes): its backends' build_worker_command and
// get_environment_for_mode, worker_stage's environment and the dynamo
// frontend. Written from reading that code; none of it is copied.
const SrtSlurmVersion = "v1.0.50 (e4019633)"

// srtRecipesDir is where InferenceX keeps its srt-slurm recipes; its
// runners copy them over srt-slurm's recipes/ before srtctl apply, so a
// CONFIG_FILE of recipes/<x> is <srtRecipesDir>/<x> in the checkout.
const srtRecipesDir = "benchmarks/multi_node/srt-slurm-recipes"

// SrtSlurm makes a multinode recipe render its workers from the point's
// srt-slurm recipe (its CONFIG_FILE) where the plan has the upstream
// checkout: the file is read, checked against the point's parallelism,
// and its role is .Srt in the templates. Without a checkout .Srt is nil
// and the templates' generic launch stands.
type SrtSlurm struct {
	// Backend is the backend.type the files must declare.
	Backend string `yaml:"backend"`
	// Environment adds each worker's srt-slurm environment (its role's
	// <role>_environment, then the file's environment) after the
	// recipe's own, as worker_stage does.
	Environment bool `yaml:"environment"`
	// Frontend, where given, is the frontend.type the recipe's frontend
	// starts, from the file's frontend (.SrtFrontend); a file asking for
	// another is refused. Left out, the frontend is the recipe's own.
	Frontend string `yaml:"frontend"`
}

// srtSide names one of our roles as srt-slurm's file does.
type srtSide struct{ config, env, resources, mode string }

var srtSides = map[string]srtSide{
	sweep.RolePrefill:    {"prefill", "prefill_environment", "prefill", "prefill"},
	sweep.RoleDecode:     {"decode", "decode_environment", "decode", "decode"},
	sweep.RoleAggregated: {"aggregated", "aggregated_environment", "agg", "agg"},
}

// envVar keeps a file's order: srt-slurm applies the maps in order.
type envVar struct{ Key, Value string }

// srtFile is what srt-slurm starts processes from, as one file says it.
type srtFile struct {
	file, digest, backend, gpuType string
	gpusPerNode                    int
	roles                          map[string]*srtRoleFile
	requestPlane, eventPlane       string
	environment                    []envVar
	frontendType                   string
	frontendArgs                   []string
	frontendEnv                    []envVar
	frontendAt                     *yaml.Node
	publishEvents                  bool
}

// srtRoleFile is one role's part of the file: its engine config (a
// mapping, nil where none), environment and resources, with the nodes
// to blame.
type srtRoleFile struct {
	config                      *yaml.Node
	env                         []envVar
	workers, nodes, gpus        int
	workersAt, nodesAt, gpusAt  *yaml.Node
	configPath, resourcesPrefix string
}

// srtLocation is where CONFIG_FILE lies in the upstream checkout, and
// the override selector after its ':' if any.
func srtLocation(config string) (file, selector string) {
	file, selector, _ = strings.Cut(config, ":")
	if rest, ok := strings.CutPrefix(file, "recipes/"); ok {
		file = path.Join(srtRecipesDir, rest)
	}
	return file, selector
}

// parseSrtFile reads one srt-slurm recipe, every problem located in it.
func parseSrtFile(file string, data []byte) (*srtFile, specyaml.Errors) {
	var errs specyaml.Errors
	r := specyaml.Reporter{File: file, Errs: &errs}
	root := r.Document(data)
	if root == nil {
		return nil, errs
	}
	sum := sha256.Sum256(data)
	f := &srtFile{file: file, digest: hex.EncodeToString(sum[:]), roles: map[string]*srtRoleFile{}}
	if root.Kind != yaml.MappingNode {
		r.At(root, "", "got %s, want an srt-slurm job (a mapping)", specyaml.KindName(root))
		return nil, errs
	}
	if base := child(root, "base"); base != nil {
		r.At(base, "base", "an override file (base with override_* variants): selecting a variant is not rendered yet")
		return nil, errs
	}
	backend := mapping(r, root, "backend")
	f.backend = scalar(r, backend, "backend", "type", "sglang")
	res := mapping(r, root, "resources")
	f.gpuType = scalar(r, res, "resources", "gpu_type", "")
	f.gpusPerNode = integer(r, res, "resources", "gpus_per_node", 4)
	configs := mapping(r, backend, "backend."+f.backend+"_config")
	for role, side := range srtSides {
		f.roles[role] = parseSrtRole(r, f, backend, res, configs, side)
	}
	dynamo := mapping(r, root, "dynamo")
	f.requestPlane = scalar(r, dynamo, "dynamo", "request_plane", "tcp")
	f.eventPlane = scalar(r, dynamo, "dynamo", "event_plane", "")
	f.environment = envOf(r, child(root, "environment"), "environment")
	frontend := mapping(r, root, "frontend")
	f.frontendType, f.frontendAt = scalar(r, frontend, "frontend", "type", "dynamo"), child(frontend, "type")
	if n := child(backend, "publish_events_and_metrics"); n != nil {
		f.publishEvents, _ = specyaml.ParseBool(n)
	}
	f.frontendEnv = envOf(r, child(frontend, "env"), "frontend.env")
	f.frontendArgs = frontendArgs(r, child(frontend, "args"))
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

func parseSrtRole(r specyaml.Reporter, f *srtFile, backend, res, configs *yaml.Node, side srtSide) *srtRoleFile {
	rf := &srtRoleFile{configPath: "backend." + f.backend + "_config." + side.config, resourcesPrefix: "resources." + side.resources}
	if c := child(configs, side.config); c != nil && !specyaml.IsNull(c) {
		if c.Kind != yaml.MappingNode {
			r.At(c, rf.configPath, "got %s, want a mapping of engine flags", specyaml.KindName(c))
		} else {
			rf.config = c
		}
	}
	rf.env = envOf(r, child(backend, side.env), "backend."+side.env)
	rf.workers, rf.workersAt = integer(r, res, "resources", side.resources+"_workers", 0), child(res, side.resources+"_workers")
	rf.nodes, rf.nodesAt = integer(r, res, "resources", side.resources+"_nodes", 0), child(res, side.resources+"_nodes")
	rf.gpusAt = child(res, "gpus_per_"+side.resources)
	rf.gpus = integer(r, res, "resources", "gpus_per_"+side.resources, 0)
	if rf.gpusAt == nil {
		// srt-slurm's ResourceConfig.gpus_per_<role>: the role's nodes
		// shared among its workers, else a whole node.
		rf.gpus = f.gpusPerNode
		if rf.nodes > 0 && rf.workers > 0 {
			rf.gpus = rf.nodes * f.gpusPerNode / rf.workers
		}
	}
	return rf
}

// child is key's value in mapping n, aliases and merge keys resolved;
// nil where n is no mapping or lacks key.
func child(n *yaml.Node, key string) *yaml.Node {
	for _, kv := range members(n) {
		if kv[0].Value == key {
			return kv[1]
		}
	}
	return nil
}

// members are mapping n's key and value nodes in order, as PyYAML loads
// them: values' aliases resolved, `<<` merge keys expanded (a key written
// in n wins over a merged one, an earlier merged mapping over a later).
func members(n *yaml.Node) [][2]*yaml.Node {
	if n = specyaml.Resolve(n); n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var own, merged [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], specyaml.Resolve(n.Content[i+1])
		if k.Tag != "!!merge" {
			own, seen[k.Value] = append(own, [2]*yaml.Node{k, v}), true
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			merged = append(merged, members(src)...)
		}
	}
	out := own
	for _, kv := range merged {
		if !seen[kv[0].Value] {
			out, seen[kv[0].Value] = append(out, kv), true
		}
	}
	return out
}

// mapping is key's mapping in n; nil (reported) where it is something
// else, nil where absent or null.
func mapping(r specyaml.Reporter, n *yaml.Node, field string) *yaml.Node {
	key := field[strings.LastIndex(field, ".")+1:]
	c := child(n, key)
	if c == nil || specyaml.IsNull(c) {
		return nil
	}
	if c.Kind != yaml.MappingNode {
		r.At(c, field, "got %s, want a mapping", specyaml.KindName(c))
		return nil
	}
	return c
}

func scalar(r specyaml.Reporter, n *yaml.Node, path, key, def string) string {
	c := child(n, key)
	if c == nil || specyaml.IsNull(c) {
		return def
	}
	if c.Kind != yaml.ScalarNode {
		r.At(c, specyaml.Join(path, key), "got %s, want a string", specyaml.KindName(c))
		return def
	}
	return c.Value
}

func integer(r specyaml.Reporter, n *yaml.Node, path, key string, def int) int {
	c := child(n, key)
	if c == nil || specyaml.IsNull(c) {
		return def
	}
	v, err := specyaml.ParseInt(c)
	if err != nil || v < 0 {
		r.At(c, specyaml.Join(path, key), "got %s, want a whole number", specyaml.KindName(c))
		return def
	}
	return v
}

// envOf reads an environment mapping in its order; values are strings
// as srt-slurm's schema coerces them.
func envOf(r specyaml.Reporter, n *yaml.Node, path string) []envVar {
	if n == nil || specyaml.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.At(n, path, "got %s, want a mapping of variables", specyaml.KindName(n))
		return nil
	}
	var out []envVar
	for _, kv := range members(n) {
		if kv[1].Kind != yaml.ScalarNode {
			r.At(kv[1], specyaml.Join(path, kv[0].Value), "got %s, want a string", specyaml.KindName(kv[1]))
			continue
		}
		out = append(out, envVar{kv[0].Value, kv[1].Value})
	}
	return out
}
