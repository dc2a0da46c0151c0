package specyaml

import (
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Nodes are the value nodes Decode read, by field path, so that checks
// made on the decoded values can still point at a line.
type Nodes map[string]*yaml.Node

// Of is the node written at path or, where the file left that field out
// (a default is wrong), at its nearest enclosing field: the file itself
// when nothing encloses it.
func (ns Nodes) Of(path string) *yaml.Node {
	for {
		if n, ok := ns[path]; ok {
			return n
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			return ns[""]
		}
		path = path[:cut]
	}
}

// Decode fills into (a pointer) from n as yaml.v3 with KnownFields would,
// but reports every problem at its own node instead of stopping at the
// first: unknown and repeated keys, values of the wrong kind. A field
// keeps what into held (its default) where n leaves it out, is null or
// is wrong. Struct fields are read by their yaml tags; a map's values and
// a list's items start from zero values, as in yaml.v3.
func (r Reporter) Decode(n *yaml.Node, path string, into any) Nodes {
	nodes := Nodes{}
	r.decode(Resolve(n), path, reflect.ValueOf(into).Elem(), nodes)
	return nodes
}

func (r Reporter) decode(n *yaml.Node, path string, v reflect.Value, nodes Nodes) {
	nodes[path] = n
	if IsNull(n) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		}
		return
	}
	switch {
	case v.Type() == durationType:
		r.scalar(n, path, v)
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		r.decode(n, path, v.Elem(), nodes)
	case v.Kind() == reflect.Struct:
		r.structure(n, path, v, nodes)
	case v.Kind() == reflect.Map:
		r.mapping(n, path, v, nodes)
	case v.Kind() == reflect.Slice:
		r.sequence(n, path, v, nodes)
	default:
		r.scalar(n, path, v)
	}
}

func (r Reporter) structure(n *yaml.Node, path string, v reflect.Value, nodes Nodes) {
	keys, fieldOf := yamlFields(v.Type())
	f, ok := r.Mapping(n, path, keys...)
	if !ok {
		return
	}
	for _, key := range keys {
		if value, ok := f.Get(key); ok {
			r.decode(value, Join(path, key), v.Field(fieldOf[key]), nodes)
		}
	}
}

// yamlFields are a struct's keys in declaration order and the field each
// fills; fields tagged "-" are not read.
func yamlFields(t reflect.Type) ([]string, map[string]int) {
	var keys []string
	fieldOf := map[string]int{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		keys = append(keys, name)
		fieldOf[name] = i
	}
	return keys, fieldOf
}

// mapping reads a map with string keys, merging into what v holds (as
// yaml.v3 does): a file names the entries it changes.
func (r Reporter) mapping(n *yaml.Node, path string, v reflect.Value, nodes Nodes) {
	var keys []string
	for i := 0; i+1 < len(n.Content) && n.Kind == yaml.MappingNode; i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	f, ok := r.Mapping(n, path, keys...)
	if !ok {
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if f.Keys[k.Value] != k {
			continue // a repeated key, reported by Mapping
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		r.decode(f.Values[k.Value], Join(path, k.Value), elem, nodes)
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
	}
}

// sequence reads a list, replacing what v held.
func (r Reporter) sequence(n *yaml.Node, path string, v reflect.Value, nodes Nodes) {
	if n.Kind != yaml.SequenceNode {
		r.At(n, path, "got %s, want a list", KindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		r.decode(Resolve(item), Index(path, i), out.Index(i), nodes)
	}
	v.Set(out)
}

var durationType = reflect.TypeFor[time.Duration]()

// scalar decodes a leaf with yaml.v3's own rules, so values read as they
// always have, and names what was expected when it fails.
func (r Reporter) scalar(n *yaml.Node, path string, v reflect.Value) {
	value := reflect.New(v.Type())
	if err := n.Decode(value.Interface()); err != nil {
		r.At(n, path, "got %s, want %s", KindName(n), want(v.Type()))
		return
	}
	v.Set(value.Elem())
}

func want(t reflect.Type) string {
	if t == durationType {
		return "a duration like 10m or 6h"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return t.String()
}
