package sweep

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fields is a mapping node's members by key, after checking that every
// key is known and none repeats.
type fields struct {
	node   *yaml.Node // the mapping itself: where a missing field is reported
	values map[string]*yaml.Node
	keys   map[string]*yaml.Node
}

func (f fields) get(key string) (*yaml.Node, bool) {
	n, ok := f.values[key]
	return n, ok
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// mapping checks n is a mapping with only known keys. Unknown fields are
// errors, as in InferenceMAX's own validator.
func (r reporter) mapping(n *yaml.Node, path string, known ...string) (fields, bool) {
	return r.mappingTolerating(n, path, known, nil)
}

// mappingTolerating is mapping that also keeps the keys in tolerated
// without calling them unknown: fields valid elsewhere, which the caller
// explains itself.
func (r reporter) mappingTolerating(n *yaml.Node, path string, known []string, tolerated map[string]string) (fields, bool) {
	n = resolve(n)
	f := fields{node: n, values: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		r.at(n, path, "got %s, want a mapping", kindName(n))
		return f, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if _, dup := f.values[k.Value]; dup {
			r.at(k, join(path, k.Value), "duplicate key (first at line %d)", f.keys[k.Value].Line)
			continue
		}
		if _, ok := tolerated[k.Value]; !ok && !contains(known, k.Value) {
			r.at(k, join(path, k.Value), "unknown field (want one of %s)", strings.Join(known, ", "))
			continue
		}
		f.values[k.Value], f.keys[k.Value] = v, k
	}
	return f, true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (r reporter) str(f fields, path, key string, required bool) string {
	n, ok := f.get(key)
	if !ok {
		if required {
			r.at(f.node, join(path, key), "required field is missing")
		}
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Value == "" {
		r.at(n, join(path, key), "got %s, want a non-empty string", kindName(n))
		return ""
	}
	return n.Value
}

// integer reads a whole number ≥ min; def is used when the key is absent
// and required is false.
func (r reporter) integer(f fields, path, key string, required bool, def, min int) int {
	n, ok := f.get(key)
	if !ok {
		if required {
			r.at(f.node, join(path, key), "required field is missing")
		}
		return def
	}
	v, err := parseInt(n)
	if err != nil {
		r.at(n, join(path, key), "got %s, want a whole number", kindName(n))
		return def
	}
	if v < min {
		r.at(n, join(path, key), "%d is below the minimum %d", v, min)
		return def
	}
	return v
}

func (r reporter) boolean(f fields, path, key string) bool {
	n, ok := f.get(key)
	if !ok {
		return false
	}
	v, ok := parseBool(n)
	if !ok {
		r.at(n, join(path, key), "got %s, want true or false", kindName(n))
	}
	return v
}

// parseInt reads a whole number as PyYAML (YAML 1.1) does, which is how
// upstream reads these files: 2_063_837, 0x1f and 010 (octal) included.
func parseInt(n *yaml.Node) (int, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, fmt.Errorf("not an integer")
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	return int(v), err
}

// yaml11Bools are the booleans PyYAML accepts beyond true and false.
var yaml11Bools = map[string]bool{"yes": true, "on": true, "no": false, "off": false}

func parseBool(n *yaml.Node) (v, ok bool) {
	if n.Kind != yaml.ScalarNode {
		return false, false
	}
	if n.Tag == "!!bool" {
		return strings.EqualFold(n.Value, "true"), true
	}
	if n.Tag == "!!str" && n.Style == 0 {
		v, ok = yaml11Bools[strings.ToLower(n.Value)]
	}
	return v, ok
}

func (r reporter) list(f fields, path, key string) []*yaml.Node {
	n, ok := f.get(key)
	if !ok {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.at(n, join(path, key), "got %s, want a list", kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func parseDocument(file string, data []byte, errs *Errors) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml reports "yaml: line N: message"; keep the line.
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		e := &Error{File: file, Msg: "not valid YAML: " + msg}
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if num, tail, ok := strings.Cut(rest, ":"); ok {
				if line, err := strconv.Atoi(num); err == nil {
					e.Line, e.Col, e.Msg = line, 1, "not valid YAML:"+tail
				}
			}
		}
		*errs = append(*errs, e)
		return nil
	}
	if len(doc.Content) == 0 {
		*errs = append(*errs, &Error{File: file, Msg: "file is empty"})
		return nil
	}
	return resolve(doc.Content[0])
}
