package sweep

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Entry is one named entry of a master config.
type Entry struct {
	Name          string
	File          string
	Line          int
	runnerPos     position
	seqLenKey     string // where FixedSeqLen came from, for error paths
	Image         string
	Model         string
	ModelPrefix   string
	Runner        string
	Precision     string
	Framework     string
	Multinode     bool
	Disagg        bool
	Router        *Component
	KVP2PTransfer string
	FixedSeqLen   []SeqLen
	Agentic       *Agentic
}

type position struct{ line, col int }

// Component names a piece of software with an optional version.
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// SeqLen is one fixed sequence-length scenario.
type SeqLen struct {
	ISL, OSL    int
	SearchSpace []Search
}

// Agentic is the agentic-coding scenario: requests replayed from a trace.
type Agentic struct {
	TraceSource string
	SearchSpace []Search
}

// Search is one search-space entry: a parallelism layout swept over
// concurrencies.
type Search struct {
	pos              position
	TP, EP, PP       int
	DPAttn           bool
	DCPSize, PCPSize int
	ConcStart        int
	ConcEnd          int
	ConcList         []int
	Router           *Component
	KVP2PTransfer    string
	SpecDecoding     string
	KVOffloading     string
	KVOffloadBackend *Component
	Prefill, Decode  *Workers
}

// Workers is one side of a disaggregated (prefill/decode) deployment.
type Workers struct {
	NumWorker          int      `json:"num_worker"`
	TP                 int      `json:"tp"`
	PP                 int      `json:"pp"`
	EP                 int      `json:"ep"`
	DPAttn             bool     `json:"dp_attn"`
	DCPSize            int      `json:"dcp_size"`
	PCPSize            int      `json:"pcp_size"`
	Hardware           string   `json:"hardware,omitempty"`
	AdditionalSettings []string `json:"additional_settings,omitempty"`
}

// Frameworks InferenceMAX configs name, and the simulated engine.
var Frameworks = []string{"vllm", "sglang", "trt", "atom", "dynamo-trt", "dynamo-sglang", "dynamo-vllm", "sim"}

// Precisions a config may name.
var Precisions = []string{"bf16", "fp16", "fp8", "fp4", "mxfp4", "nvfp4", "int8", "int4"}

// SpecDecodings a search-space entry may name.
var SpecDecodings = []string{"none", "mtp", "eagle", "eagle3", "ngram", "draft"}

var entryFields = []string{"image", "model", "model-prefix", "runner", "precision", "framework", "multinode", "disagg", "router", "kv-p2p-transfer", "scenarios", "seq-len-configs"}

// ParseMaster reads one master config. Errors name file, line and path.
func ParseMaster(file string, data []byte) ([]Entry, Errors) {
	var errs Errors
	r := reporter{file: file, errs: &errs}
	root := parseDocument(file, data, &errs)
	if root == nil {
		return nil, errs
	}
	if root.Kind != yaml.MappingNode {
		r.at(root, "", "got %s, want a mapping of entry name to entry", kindName(root))
		return nil, errs
	}
	var entries []Entry
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			r.at(k, k.Value, "duplicate entry (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		if e, ok := r.entry(k, v); ok {
			entries = append(entries, e)
		}
	}
	return entries, errs
}

func (r reporter) entry(k, v *yaml.Node) (Entry, bool) {
	name := k.Value
	f, ok := r.mapping(v, name, entryFields...)
	if !ok {
		return Entry{}, false
	}
	e := Entry{
		Name: name, File: r.file, Line: k.Line,
		Image: r.str(f, name, "image", true), Model: r.str(f, name, "model", true), ModelPrefix: r.str(f, name, "model-prefix", true),
		Runner: r.str(f, name, "runner", true), Precision: r.str(f, name, "precision", true), Framework: r.str(f, name, "framework", true),
		Multinode: r.boolean(f, name, "multinode"), Disagg: r.boolean(f, name, "disagg"),
		Router: r.component(f, name, "router"), KVP2PTransfer: r.str(f, name, "kv-p2p-transfer", false),
	}
	if n, ok := f.get("runner"); ok {
		e.runnerPos = position{n.Line, n.Column}
	}
	r.oneOf(f, name, "precision", e.Precision, Precisions)
	r.oneOf(f, name, "framework", e.Framework, Frameworks)
	if e.Disagg && !e.Multinode {
		r.at(f.values["disagg"], join(name, "disagg"), "disagg needs multinode: true")
	}
	if e.KVP2PTransfer != "" && !e.Multinode {
		r.at(f.values["kv-p2p-transfer"], join(name, "kv-p2p-transfer"), "kv-p2p-transfer is for multinode entries")
	}

	scenarios, hasScenarios := f.get("scenarios")
	legacy, hasLegacy := f.get("seq-len-configs")
	switch {
	case hasScenarios && hasLegacy:
		r.at(f.keys["seq-len-configs"], join(name, "seq-len-configs"), "give scenarios or the older seq-len-configs, not both")
	case hasLegacy:
		e.seqLenKey = "seq-len-configs"
		e.FixedSeqLen = r.seqLens(legacy, join(name, "seq-len-configs"), &e)
	case hasScenarios:
		sf, ok := r.mapping(scenarios, join(name, "scenarios"), "fixed-seq-len", "agentic-coding")
		if ok {
			if n, ok := sf.get("fixed-seq-len"); ok {
				e.seqLenKey = "scenarios.fixed-seq-len"
				e.FixedSeqLen = r.seqLens(n, join(name, "scenarios.fixed-seq-len"), &e)
			}
			if n, ok := sf.get("agentic-coding"); ok {
				e.Agentic = r.agentic(n, join(name, "scenarios.agentic-coding"), &e)
			}
			if len(sf.values) == 0 {
				r.at(scenarios, join(name, "scenarios"), "no scenario: want fixed-seq-len or agentic-coding")
			}
		}
	default:
		r.at(f.node, join(name, "scenarios"), "required field is missing")
	}
	return e, true
}

func (r reporter) oneOf(f fields, path, key, value string, allowed []string) {
	if value != "" && !contains(allowed, value) {
		r.at(f.values[key], join(path, key), "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}

func (r reporter) component(f fields, path, key string) *Component {
	n, ok := f.get(key)
	if !ok {
		return nil
	}
	cf, ok := r.mapping(n, join(path, key), "name", "version")
	if !ok {
		return nil
	}
	return &Component{Name: r.str(cf, join(path, key), "name", true), Version: r.str(cf, join(path, key), "version", false)}
}

func (r reporter) seqLens(n *yaml.Node, path string, e *Entry) []SeqLen {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		r.at(n, path, "got %s, want a non-empty list of {isl, osl, search-space}", kindName(n))
		return nil
	}
	var out []SeqLen
	for i, item := range n.Content {
		p := index(path, i)
		f, ok := r.mapping(item, p, "isl", "osl", "search-space")
		if !ok {
			continue
		}
		s := SeqLen{ISL: r.integer(f, p, "isl", true, 0, 1), OSL: r.integer(f, p, "osl", true, 0, 1)}
		s.SearchSpace = r.searchSpace(f, p, e, false)
		out = append(out, s)
	}
	return out
}

func (r reporter) agentic(n *yaml.Node, path string, e *Entry) *Agentic {
	f, ok := r.mapping(n, path, "trace-source", "search-space")
	if !ok {
		return nil
	}
	a := &Agentic{TraceSource: r.str(f, path, "trace-source", true)}
	a.SearchSpace = r.searchSpace(f, path, e, true)
	return a
}

var searchFields = []string{"tp", "ep", "pp", "dp-attn", "dcp-size", "pcp-size", "conc-start", "conc-end", "conc-list", "router", "kv-p2p-transfer", "spec-decoding", "kv-offloading", "kv-offload-backend", "prefill", "decode"}

func (r reporter) searchSpace(parent fields, path string, e *Entry, agentic bool) []Search {
	items := r.list(parent, path, "search-space")
	if _, ok := parent.get("search-space"); !ok {
		r.at(parent.node, join(path, "search-space"), "required field is missing")
	} else if len(items) == 0 && parent.values["search-space"].Kind == yaml.SequenceNode {
		r.at(parent.values["search-space"], join(path, "search-space"), "empty: want at least one entry")
	}
	var out []Search
	for i, item := range items {
		p := index(join(path, "search-space"), i)
		f, ok := r.mapping(item, p, searchFields...)
		if !ok {
			continue
		}
		out = append(out, r.search(f, p, e, agentic))
	}
	return out
}

func (r reporter) search(f fields, p string, e *Entry, agentic bool) Search {
	s := Search{
		pos: position{f.node.Line, f.node.Column},
		EP:  r.integer(f, p, "ep", false, 1, 1), PP: r.integer(f, p, "pp", false, 1, 1),
		DPAttn: r.boolean(f, p, "dp-attn"), DCPSize: r.integer(f, p, "dcp-size", false, 1, 1), PCPSize: r.integer(f, p, "pcp-size", false, 1, 1),
		Router: r.component(f, p, "router"), KVP2PTransfer: r.str(f, p, "kv-p2p-transfer", false),
		SpecDecoding: r.str(f, p, "spec-decoding", false), KVOffloading: r.str(f, p, "kv-offloading", false),
		KVOffloadBackend: r.component(f, p, "kv-offload-backend"),
	}
	if s.SpecDecoding == "" {
		s.SpecDecoding = "none"
	}
	r.oneOf(f, p, "spec-decoding", s.SpecDecoding, SpecDecodings)
	if s.KVP2PTransfer != "" && !e.Multinode {
		r.at(f.values["kv-p2p-transfer"], join(p, "kv-p2p-transfer"), "kv-p2p-transfer is for multinode entries")
	} else if s.KVP2PTransfer != "" && e.KVP2PTransfer != "" {
		r.at(f.values["kv-p2p-transfer"], join(p, "kv-p2p-transfer"), "already set at the top of the entry: set it in one place")
	}
	if s.Router != nil && e.Router != nil {
		r.at(f.keys["router"], join(p, "router"), "already set at the top of the entry: set it in one place")
	}
	if !agentic {
		for _, key := range []string{"kv-offloading", "kv-offload-backend"} {
			if _, ok := f.get(key); ok {
				r.at(f.keys[key], join(p, key), "only agentic-coding entries offload the KV cache")
			}
		}
	}
	if s.KVOffloading != "" && s.KVOffloading != "dram" {
		r.at(f.values["kv-offloading"], join(p, "kv-offloading"), "%q is not supported (want dram)", s.KVOffloading)
	}
	if s.KVOffloadBackend != nil && s.KVOffloading == "" {
		r.at(f.keys["kv-offload-backend"], join(p, "kv-offload-backend"), "needs kv-offloading: dram")
	}

	r.concurrency(f, p, &s, e.Multinode)
	if e.Multinode {
		for _, key := range []string{"tp", "ep", "pp", "dp-attn", "dcp-size", "pcp-size"} {
			if _, ok := f.get(key); ok {
				r.at(f.keys[key], join(p, key), "multinode entries set parallelism in prefill and decode")
			}
		}
		s.Prefill = r.workers(f, p, "prefill")
		s.Decode = r.workers(f, p, "decode")
		if s.Prefill != nil && s.Decode != nil && (s.Prefill.Hardware == "") != (s.Decode.Hardware == "") {
			r.at(f.keys["decode"], join(p, "decode.hardware"), "set hardware on both prefill and decode, or on neither")
		}
		return s
	}
	for _, key := range []string{"prefill", "decode"} {
		if _, ok := f.get(key); ok {
			r.at(f.keys[key], join(p, key), "prefill and decode blocks need multinode: true")
		}
	}
	s.TP = r.integer(f, p, "tp", true, 0, 1)
	if s.TP > 0 && s.TP%s.DCPSize != 0 {
		r.at(f.values["dcp-size"], join(p, "dcp-size"), "%d does not divide tp %d", s.DCPSize, s.TP)
	}
	return s
}

func (r reporter) concurrency(f fields, p string, s *Search, multinode bool) {
	listNode, hasList := f.get("conc-list")
	_, hasStart := f.get("conc-start")
	_, hasEnd := f.get("conc-end")
	if hasList {
		if !multinode {
			r.at(f.keys["conc-list"], join(p, "conc-list"), "single-node entries use conc-start and conc-end")
			return
		}
		if hasStart || hasEnd {
			r.at(f.keys["conc-list"], join(p, "conc-list"), "give conc-list or conc-start/conc-end, not both")
			return
		}
		for i, c := range r.list(f, p, "conc-list") {
			v, err := parsePositive(c)
			if err != nil {
				r.at(c, index(join(p, "conc-list"), i), "%v", err)
				continue
			}
			s.ConcList = append(s.ConcList, v)
		}
		if len(s.ConcList) == 0 && resolve(listNode).Kind == yaml.SequenceNode && len(listNode.Content) == 0 {
			r.at(listNode, join(p, "conc-list"), "empty: want at least one concurrency")
		}
		return
	}
	s.ConcStart = r.integer(f, p, "conc-start", true, 0, 1)
	s.ConcEnd = r.integer(f, p, "conc-end", true, 0, 1)
	if s.ConcStart > 0 && s.ConcEnd > 0 && s.ConcEnd < s.ConcStart {
		r.at(f.values["conc-end"], join(p, "conc-end"), "%d is below conc-start %d", s.ConcEnd, s.ConcStart)
	}
}

func parsePositive(n *yaml.Node) (int, error) {
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, fmt.Errorf("got %s, want a whole number", kindName(n))
	}
	if _, err := fmt.Sscan(n.Value, &v); err != nil || v < 1 {
		return 0, fmt.Errorf("%s is below the minimum 1", n.Value)
	}
	return v, nil
}

var settingPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=.*$`)

func (r reporter) workers(parent fields, p, key string) *Workers {
	n, ok := parent.get(key)
	if !ok {
		r.at(parent.node, join(p, key), "required field is missing (multinode entries need prefill and decode)")
		return nil
	}
	wp := join(p, key)
	f, ok := r.mapping(n, wp, "num-worker", "tp", "pp", "ep", "dp-attn", "dcp-size", "pcp-size", "hardware", "additional-settings")
	if !ok {
		return nil
	}
	w := &Workers{
		NumWorker: r.integer(f, wp, "num-worker", true, 0, 1), TP: r.integer(f, wp, "tp", true, 0, 1),
		PP: r.integer(f, wp, "pp", false, 1, 1), EP: r.integer(f, wp, "ep", false, 1, 1), DPAttn: r.boolean(f, wp, "dp-attn"),
		DCPSize: r.integer(f, wp, "dcp-size", false, 1, 1), PCPSize: r.integer(f, wp, "pcp-size", false, 1, 1),
		Hardware: r.str(f, wp, "hardware", false),
	}
	if w.TP > 0 && w.TP%w.DCPSize != 0 {
		r.at(f.values["dcp-size"], join(wp, "dcp-size"), "%d does not divide tp %d", w.DCPSize, w.TP)
	}
	for i, s := range r.list(f, wp, "additional-settings") {
		if s.Kind != yaml.ScalarNode || !settingPattern.MatchString(s.Value) {
			r.at(s, index(join(wp, "additional-settings"), i), "got %s, want KEY=VALUE", kindName(s))
			continue
		}
		w.AdditionalSettings = append(w.AdditionalSettings, s.Value)
	}
	return w
}
