package sweep

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/infersweep/infersweep/specyaml"
	"go.yaml.in/yaml/v3"
)

// Runners is runners.yaml: which nodes carry each runner label, and what
// hardware a label means. In infersweep a label is a hardware pool.
type Runners struct {
	File     string
	Labels   map[string][]string
	Hardware map[string]RunnerHardware
	lines    map[string]int
}

// RunnerHardware is what runners.yaml says of a label's machines.
type RunnerHardware struct {
	GPUsPerNode         int `yaml:"gpus-per-node" json:"gpus_per_node"`
	AvailableCPUDRAMMiB int `yaml:"available-cpu-dram-mib" json:"available_cpu_dram_mib"`
}

// ParseRunners reads runners.yaml as upstream does: labels map to
// non-empty node lists; hardware entries are optional, and where one is
// given it needs both of its fields.
func ParseRunners(file string, data []byte) (Runners, Errors) {
	var errs Errors
	r := reporter{specyaml.Reporter{File: file, Errs: &errs}}
	out := Runners{File: file, Labels: map[string][]string{}, Hardware: map[string]RunnerHardware{}, lines: map[string]int{}}
	root := r.Document(data)
	if root == nil {
		return out, errs
	}
	f, ok := r.Mapping(root, "", "labels", "hardware")
	if !ok {
		return out, errs
	}
	if labels, ok := f.Get("labels"); ok {
		r.labels(labels, &out)
	} else {
		r.At(root, "labels", "required field is missing")
	}
	if hw, ok := f.Get("hardware"); ok {
		hf, ok := r.Mapping(hw, "hardware", labelKeys(hw)...)
		if ok {
			for _, label := range labelKeys(hw) {
				p := specyaml.Join("hardware", label)
				lf, ok := r.Mapping(hf.Values[label], p, "gpus-per-node", "available-cpu-dram-mib")
				if !ok {
					continue
				}
				out.Hardware[label] = RunnerHardware{
					GPUsPerNode:         r.Integer(lf, p, "gpus-per-node", true, 0, 1),
					AvailableCPUDRAMMiB: r.Integer(lf, p, "available-cpu-dram-mib", true, 0, 1),
				}
			}
		}
	}
	seenKey := map[string]string{}
	for _, label := range labelKeys(specyaml.Resolve(f.Values["labels"])) {
		key := PoolKey(label)
		if other, clash := seenKey[key]; clash {
			r.AtPos(specyaml.Pos{Line: out.lines[label], Col: 1}, specyaml.Join("labels", label), "pool %s is also %s's (labels differing only in case or punctuation share a pool): rename one label", key, other)
		}
		seenKey[key] = label
	}
	return out, errs
}

func (r reporter) labels(n *yaml.Node, out *Runners) {
	lf, ok := r.Mapping(n, "labels", labelKeys(n)...)
	if !ok {
		return
	}
	for _, label := range labelKeys(n) {
		p := specyaml.Join("labels", label)
		if err := CheckLabel(label); err != nil {
			r.At(lf.Keys[label], p, "%v", err)
		}
		nodes := r.List(lf, "labels", label)
		if len(nodes) == 0 {
			r.At(lf.Keys[label], p, "no nodes: want a list of node names")
		}
		for i, n := range nodes {
			if n.Kind != yaml.ScalarNode || n.Value == "" {
				r.At(n, specyaml.Index(p, i), "got %s, want a node name", specyaml.KindName(n))
				continue
			}
			if err := CheckName("node name", n.Value); err != nil {
				r.At(n, specyaml.Index(p, i), "%v", err)
				continue
			}
			out.Labels[label] = append(out.Labels[label], n.Value)
		}
		out.lines[label] = lf.Keys[label].Line
	}
}

func labelKeys(n *yaml.Node) []string {
	n = specyaml.Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var keys []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	return keys
}

var unsafePoolKeyChars = regexp.MustCompile(`[^a-z0-9._-]+`)

// clusterPoolPrefix is what a cluster:<name> label becomes in pool names,
// queue names and object keys, where ':' is not safe. The rule reverses
// (RunnerLabel) because labels may not start with it themselves.
const clusterPoolPrefix = "cluster."

// PoolName is a runner label as it appears in queue names, object keys
// (hardware=<pool>) and `worker --pool`: the label itself, except that
// cluster:<name> becomes cluster.<name>.
func PoolName(label string) string {
	if rest, ok := strings.CutPrefix(label, ClusterLabelPrefix); ok {
		return clusterPoolPrefix + rest
	}
	return label
}

// RunnerLabel reverses PoolName: cluster.<name> is cluster:<name>.
func RunnerLabel(pool string) string {
	if rest, ok := strings.CutPrefix(pool, clusterPoolPrefix); ok {
		return ClusterLabelPrefix + rest
	}
	return pool
}

// CheckLabel checks a runner label: a safe name, or cluster:<safe name>.
func CheckLabel(label string) error {
	if strings.HasPrefix(label, clusterPoolPrefix) {
		return fmt.Errorf("runner label %q: %q is reserved for the pools of %s<name> labels; write %s", label, clusterPoolPrefix, ClusterLabelPrefix, RunnerLabel(label))
	}
	return CheckName("runner label", PoolName(label))
}

// PoolKey is a runner label's pool name folded to what every name a pool
// is known by elsewhere allows: lower-cased, with anything but letters,
// digits, '.', '_' and '-' turned into '-'. Labels that fold to the same
// key would share one pool (the orchestration names its queues after the
// key), so a runners file may not have two.
func PoolKey(label string) string {
	return strings.Trim(unsafePoolKeyChars.ReplaceAllString(strings.ToLower(PoolName(label)), "-"), "-")
}
