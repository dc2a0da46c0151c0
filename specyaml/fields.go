package specyaml

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Fields is a mapping node's members by key, after checking that every
// key is known and none repeats.
type Fields struct {
	Node   *yaml.Node // the mapping itself: where a missing field is reported
	Values map[string]*yaml.Node
	Keys   map[string]*yaml.Node
}

// Get is the value of key, aliases resolved.
func (f Fields) Get(key string) (*yaml.Node, bool) {
	n, ok := f.Values[key]
	return n, ok
}

// Resolve follows aliases to the node they name.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// KindName says what a node is, for "got …, want …" messages.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// IsNull reports an explicit or implied null (`key:` with no value).
func IsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// Join extends a field path by a key.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index extends a field path by a list index.
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// Mapping checks n is a mapping with only known keys. Unknown fields are
// errors, as in InferenceMAX's own validator: a typo must not silently
// fall back to a default.
func (r Reporter) Mapping(n *yaml.Node, path string, known ...string) (Fields, bool) {
	return r.MappingTolerating(n, path, known, nil)
}

// MappingTolerating is Mapping that also keeps the keys in tolerated
// without calling them unknown: fields valid elsewhere, which the caller
// explains itself.
func (r Reporter) MappingTolerating(n *yaml.Node, path string, known []string, tolerated map[string]string) (Fields, bool) {
	n = Resolve(n)
	f := Fields{Node: n, Values: map[string]*yaml.Node{}, Keys: map[string]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		r.At(n, path, "got %s, want a mapping", KindName(n))
		return f, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], Resolve(n.Content[i+1])
		if _, dup := f.Values[k.Value]; dup {
			r.At(k, Join(path, k.Value), "duplicate key (first at line %d)", f.Keys[k.Value].Line)
			continue
		}
		if _, ok := tolerated[k.Value]; !ok && !slices.Contains(known, k.Value) {
			r.At(k, Join(path, k.Value), "unknown field (want one of %s)", strings.Join(known, ", "))
			continue
		}
		f.Values[k.Value], f.Keys[k.Value] = v, k
	}
	return f, true
}

// Str reads a non-empty string.
func (r Reporter) Str(f Fields, path, key string, required bool) string {
	n, ok := f.Get(key)
	if !ok {
		if required {
			r.At(f.Node, Join(path, key), "required field is missing")
		}
		return ""
	}
	if n.Kind != yaml.ScalarNode || IsNull(n) || n.Value == "" {
		r.At(n, Join(path, key), "got %s, want a non-empty string", KindName(n))
		return ""
	}
	return n.Value
}

// Integer reads a whole number ≥ min; def is used when the key is absent
// and required is false.
func (r Reporter) Integer(f Fields, path, key string, required bool, def, min int) int {
	n, ok := f.Get(key)
	if !ok {
		if required {
			r.At(f.Node, Join(path, key), "required field is missing")
		}
		return def
	}
	v, err := ParseInt(n)
	if err != nil {
		r.At(n, Join(path, key), "got %s, want a whole number", KindName(n))
		return def
	}
	if v < min {
		r.At(n, Join(path, key), "%d is below the minimum %d", v, min)
		return def
	}
	return v
}

// Boolean reads true or false (YAML 1.1's yes/no/on/off too); absent is
// false.
func (r Reporter) Boolean(f Fields, path, key string) bool {
	n, ok := f.Get(key)
	if !ok {
		return false
	}
	v, ok := ParseBool(n)
	if !ok {
		r.At(n, Join(path, key), "got %s, want true or false", KindName(n))
	}
	return v
}

// List reads a list, its items' aliases resolved; absent is nil.
func (r Reporter) List(f Fields, path, key string) []*yaml.Node {
	n, ok := f.Get(key)
	if !ok {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.At(n, Join(path, key), "got %s, want a list", KindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = Resolve(c)
	}
	return out
}

// ParseInt reads a whole number as PyYAML (YAML 1.1) does, which is how
// upstream reads its files: 2_063_837, 0x1f and 010 (octal) included.
func ParseInt(n *yaml.Node) (int, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, fmt.Errorf("not an integer")
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	return int(v), err
}

// yaml11Bools are the booleans PyYAML accepts beyond true and false.
var yaml11Bools = map[string]bool{"yes": true, "on": true, "no": false, "off": false}

// ParseBool reads a boolean as PyYAML does: unquoted yes/no/on/off too.
func ParseBool(n *yaml.Node) (v, ok bool) {
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
