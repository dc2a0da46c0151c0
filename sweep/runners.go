package sweep

import (
	"regexp"
	"strings"

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
	GPUsPerNode         int
	AvailableCPUDRAMMiB int
}

// ParseRunners reads runners.yaml.
func ParseRunners(file string, data []byte) (Runners, Errors) {
	var errs Errors
	r := reporter{file: file, errs: &errs}
	out := Runners{File: file, Labels: map[string][]string{}, Hardware: map[string]RunnerHardware{}, lines: map[string]int{}}
	root := parseDocument(file, data, &errs)
	if root == nil {
		return out, errs
	}
	f, ok := r.mapping(root, "", "labels", "hardware")
	if !ok {
		return out, errs
	}
	if labels, ok := f.get("labels"); ok {
		lf, ok := r.mapping(labels, "labels", labelKeys(labels)...)
		if ok {
			for _, label := range labelKeys(labels) {
				p := join("labels", label)
				if err := CheckName("runner label", label); err != nil {
					r.at(lf.keys[label], p, "%v", err)
				}
				nodes := r.list(lf, "labels", label)
				if len(nodes) == 0 {
					r.at(lf.keys[label], p, "no nodes: want a list of node names")
				}
				for i, n := range nodes {
					if n.Kind != yaml.ScalarNode || n.Value == "" {
						r.at(n, index(p, i), "got %s, want a node name", kindName(n))
						continue
					}
					if err := CheckName("node name", n.Value); err != nil {
						r.at(n, index(p, i), "%v", err)
						continue
					}
					out.Labels[label] = append(out.Labels[label], n.Value)
				}
				out.lines[label] = lf.keys[label].Line
			}
		}
	} else {
		r.at(root, "labels", "required field is missing")
	}
	if hw, ok := f.get("hardware"); ok {
		hf, ok := r.mapping(hw, "hardware", labelKeys(hw)...)
		if ok {
			for _, label := range labelKeys(hw) {
				p := join("hardware", label)
				lf, ok := r.mapping(hf.values[label], p, "gpus-per-node", "available-cpu-dram-mib")
				if !ok {
					continue
				}
				out.Hardware[label] = RunnerHardware{
					GPUsPerNode:         r.integer(lf, p, "gpus-per-node", true, 0, 1),
					AvailableCPUDRAMMiB: r.integer(lf, p, "available-cpu-dram-mib", false, 0, 0),
				}
			}
		}
	}
	seenQueue := map[string]string{}
	for _, label := range labelKeys(resolve(f.values["labels"])) {
		q := TaskQueue(label)
		if other, clash := seenQueue[q]; clash {
			r.atLine(out.lines[label], join("labels", label), "task queue %s is also %s's: rename one label", q, other)
		}
		seenQueue[q] = label
	}
	return out, errs
}

func labelKeys(n *yaml.Node) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var keys []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	return keys
}

var unsafeQueueChars = regexp.MustCompile(`[^a-z0-9._-]+`)

// TaskQueue is the Temporal task queue of a runner label's pool: hw-<label>
// lower-cased, with anything but letters, digits, '.', '_' and '-' turned
// into '-'.
func TaskQueue(label string) string {
	return "hw-" + strings.Trim(unsafeQueueChars.ReplaceAllString(strings.ToLower(label), "-"), "-")
}

// NodeQueue is the task queue only one node of a pool polls: where the
// pool hands it points, and where its engines are started, measured and
// torn down.
func NodeQueue(label, node string) string { return TaskQueue(label) + "." + node }
