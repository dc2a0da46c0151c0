package recipes

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/specyaml"
)

// srtRole is a worker role of an srt-slurm recipe as templates see it
// (.Srt): what build_worker_command adds from the file.
type srtRole struct {
	// Mode is srt-slurm's name of the role: prefill, decode or agg.
	Mode string
	// Flags are the role's engine config as srt-slurm passes it: keys
	// sorted, _ as -, true a bare flag, false and null left out, a list
	// its items after the flag; shell-quoted for the command line.
	Flags string
	// ServedModelName is the config's served-model-name, else the
	// point's model (srt-slurm's default is its model directory's name).
	ServedModelName string
	RequestPlane    string
	EventPlane      string
	// EngineYAML is TensorRT-LLM's --extra-engine-args file: the role's
	// config, keys sorted as yaml.safe_dump writes them.
	EngineYAML string
	// GPUType is resources.gpu_type (TensorRT-LLM pins memory to both
	// NUMA nodes on GB200 and GB300).
	GPUType string
	// Digest is the sha256 of the file: its bytes, not only what
	// renders, are in the launch's fingerprint.
	Digest string
	Env    []envVar
	// PublishEvents is backend.publish_events_and_metrics (TRT-LLM).
	PublishEvents bool
}

// srtFrontend is the dynamo frontend's part of the file (.SrtFrontend).
type srtFrontend struct {
	Args, RequestPlane, EventPlane string
	Env                            []envVar
}

// frontend is the file's dynamo frontend: its args, planes, and the
// file's environment then frontend.env, as start_frontends layers them.
func (f *srtFile) frontend() *srtFrontend {
	return &srtFrontend{Args: shellJoin(f.frontendArgs), RequestPlane: f.requestPlane, EventPlane: f.eventPlane,
		Env: append(append([]envVar(nil), f.environment...), f.frontendEnv...)}
}

// flagKeys are the keys build_worker_command passes itself and drops
// from the config, per backend (sglang pops model and served name).
var flagKeys = map[string][]string{
	"sglang": {"model-path", "model_path", "served-model-name", "served_model_name"},
}

// role is f's role of ours as templates see it; model is the point's.
func (f *srtFile) role(role, model string) (*srtRole, error) {
	rf := f.roles[role]
	out := &srtRole{Mode: srtSides[role].mode, ServedModelName: model, RequestPlane: f.requestPlane, EventPlane: f.eventPlane,
		GPUType: f.gpuType, Digest: f.digest, PublishEvents: f.publishEvents, Env: append(append([]envVar(nil), rf.env...), f.environment...)}
	if name := servedName(f); name != "" {
		out.ServedModelName = name
	}
	if rf.config == nil {
		return out, nil
	}
	if f.backend == "trtllm" {
		var engine strings.Builder
		enc := yaml.NewEncoder(&engine)
		enc.SetIndent(2)
		if err := enc.Encode(sortedNode(rf.config)); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", f.file, rf.configPath, err)
		}
		out.EngineYAML = engine.String()
		return out, nil
	}
	var errs specyaml.Errors
	out.Flags = shellJoin(configArgs(specyaml.Reporter{File: f.file, Errs: &errs}, rf.configPath, rf.config, flagKeys[f.backend]))
	return out, errs.Err()
}

// servedName is get_served_model_name: the first of prefill, aggregated
// and decode that names one.
func servedName(f *srtFile) string {
	if f.backend == "trtllm" {
		return "" // TRT-LLM's config has none: always the default
	}
	for _, role := range []string{"prefill", "aggregated", "decode"} {
		if rf := f.roles[roleOfSide(role)]; rf != nil {
			for _, key := range []string{"served-model-name", "served_model_name"} {
				if v := child(rf.config, key); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
					return v.Value
				}
			}
		}
	}
	return ""
}

func roleOfSide(config string) string {
	for role, side := range srtSides {
		if side.config == config {
			return role
		}
	}
	return ""
}

// configArgs is srt-slurm's _config_to_cli_args over a mapping node,
// without the keys the command passes itself.
func configArgs(r specyaml.Reporter, path string, config *yaml.Node, drop []string) []string {
	type kv struct {
		key string
		val *yaml.Node
	}
	var items []kv
	for _, m := range members(config) {
		if k := m[0].Value; !slices.Contains(drop, k) {
			items = append(items, kv{k, m[1]})
		}
	}
	// Python sorts the keys as written, before _ becomes -.
	slices.SortStableFunc(items, func(a, b kv) int { return strings.Compare(a.key, b.key) })
	var args []string
	str := func(n *yaml.Node, field string) string {
		s, err := pyStr(n)
		if err != nil {
			r.At(n, field, "%v", err)
		}
		return s
	}
	for _, it := range items {
		flag, field := "--"+strings.ReplaceAll(it.key, "_", "-"), specyaml.Join(path, it.key)
		if b, ok := specyaml.ParseBool(it.val); ok {
			if b {
				args = append(args, flag)
			}
			continue
		}
		switch {
		case specyaml.IsNull(it.val):
		case it.val.Kind == yaml.SequenceNode:
			args = append(args, flag)
			for i, item := range it.val.Content {
				args = append(args, str(specyaml.Resolve(item), specyaml.Index(field, i)))
			}
		default:
			args = append(args, flag, str(it.val, field))
		}
	}
	return args
}

// pyStr is Python's str() of a YAML scalar as PyYAML loads it. A
// mapping would reach the engine as a Python dict's repr, which no
// engine parses: refused.
func pyStr(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("got %s: srt-slurm would pass its Python repr, want a scalar", specyaml.KindName(n))
	}
	if b, ok := specyaml.ParseBool(n); ok {
		return map[bool]string{true: "True", false: "False"}[b], nil
	}
	switch n.Tag {
	case "!!null":
		return "None", nil
	case "!!int":
		v, err := specyaml.ParseInt(n)
		if err != nil {
			return "", err
		}
		return strconv.Itoa(v), nil
	case "!!float":
		v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			return n.Value, nil // .inf, .nan: Python spells them inf, nan
		}
		return pyFloat(v), nil
	}
	return n.Value, nil
}

// pyFloat is Python's repr of a float: the shortest digits, fixed
// between 1e-4 and 1e16 with at least one decimal, else exponent form.
func pyFloat(v float64) string {
	if v == 0 || (math.Abs(v) >= 1e-4 && math.Abs(v) < 1e16) {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return strconv.FormatFloat(v, 'e', -1, 64)
}

// frontendArgs is the dynamo frontend's get_frontend_args_list: the
// file's order, keys as written, true bare, false and null left out.
func frontendArgs(r specyaml.Reporter, n *yaml.Node) []string {
	if n == nil || specyaml.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.At(n, "frontend.args", "got %s, want a mapping of flags", specyaml.KindName(n))
		return nil
	}
	var args []string
	for _, m := range members(n) {
		key, v := m[0].Value, m[1]
		b, isBool := specyaml.ParseBool(v)
		switch {
		case isBool && b:
			args = append(args, "--"+key)
		case isBool, specyaml.IsNull(v):
		default:
			s, err := pyStr(v)
			if err != nil {
				r.At(v, "frontend.args."+key, "%v", err)
				continue
			}
			args = append(args, "--"+key, s)
		}
	}
	return args
}

// sortedNode is n with every mapping's keys sorted, as PyYAML's
// safe_dump writes them; scalars keep their text.
func sortedNode(n *yaml.Node) *yaml.Node {
	n = specyaml.Resolve(n)
	out := *n
	out.Content = nil
	out.HeadComment, out.LineComment, out.FootComment = "", "", ""
	switch n.Kind {
	case yaml.MappingNode:
		kvs := members(n)
		slices.SortStableFunc(kvs, func(a, b [2]*yaml.Node) int { return strings.Compare(a[0].Value, b[0].Value) })
		for _, kv := range kvs {
			out.Content = append(out.Content, sortedNode(kv[0]), sortedNode(kv[1]))
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			out.Content = append(out.Content, sortedNode(c))
		}
	}
	out.Style &^= yaml.FlowStyle
	return &out
}

// shellJoin quotes args so SplitArgs reads them back.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r'\"\\") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
