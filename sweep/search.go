package sweep

import (
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/specyaml"
	"go.yaml.in/yaml/v3"
)

// searchKind is where a search-space entry sits: each place has its own
// fields, as in upstream's validation models.
type searchKind int

const (
	fixedSingle searchKind = iota
	fixedMulti
	agentic
)

var searchFields = map[searchKind][]string{
	fixedSingle: {"tp", "pp", "dcp-size", "pcp-size", "ep", "spec-decoding", "dp-attn", "router", "conc-start", "conc-end", "conc-list"},
	fixedMulti:  {"spec-decoding", "prefill", "decode", "router", "kv-p2p-transfer", "conc-start", "conc-end", "conc-list"},
	agentic: {"tp", "pp", "dcp-size", "pcp-size", "ep", "dp-attn", "spec-decoding", "prefill", "decode", "kv-offloading", "kv-offload-backend",
		"router", "kv-p2p-transfer", "conc-start", "conc-end", "conc-list"},
}

// misplaced explains the fields that are valid in a search-space entry of
// another kind, rather than calling them unknown.
var misplaced = map[searchKind]map[string]string{
	fixedSingle: {
		"prefill": "prefill and decode blocks need multinode: true", "decode": "prefill and decode blocks need multinode: true",
		"kv-p2p-transfer":    "kv-p2p-transfer is only valid when multinode: true",
		"kv-offloading":      "only agentic-coding entries offload the KV cache",
		"kv-offload-backend": "only agentic-coding entries offload the KV cache",
	},
	fixedMulti: {
		"tp": "multinode entries set parallelism in prefill and decode", "ep": "multinode entries set parallelism in prefill and decode",
		"pp": "multinode entries set parallelism in prefill and decode", "dp-attn": "multinode entries set parallelism in prefill and decode",
		"dcp-size": "multinode entries set parallelism in prefill and decode", "pcp-size": "multinode entries set parallelism in prefill and decode",
		"kv-offloading":      "only agentic-coding entries offload the KV cache",
		"kv-offload-backend": "only agentic-coding entries offload the KV cache",
	},
}

func (r reporter) searchSpace(parent specyaml.Fields, path string, e *Entry, kind searchKind) []Search {
	items := r.List(parent, path, "search-space")
	if _, ok := parent.Get("search-space"); !ok {
		r.At(parent.Node, specyaml.Join(path, "search-space"), "required field is missing")
	} else if len(items) == 0 && parent.Values["search-space"].Kind == yaml.SequenceNode {
		r.At(parent.Values["search-space"], specyaml.Join(path, "search-space"), "empty: want at least one entry")
	}
	var out []Search
	for i, item := range items {
		p := specyaml.Index(specyaml.Join(path, "search-space"), i)
		f, ok := r.MappingTolerating(item, p, searchFields[kind], misplaced[kind])
		if !ok {
			continue
		}
		for key, why := range misplaced[kind] {
			if _, ok := f.Get(key); ok {
				r.At(f.Keys[key], specyaml.Join(p, key), "%s", why)
			}
		}
		out = append(out, r.search(f, p, e, kind))
	}
	return out
}

func (r reporter) search(f specyaml.Fields, p string, e *Entry, kind searchKind) Search {
	s := Search{
		pos: specyaml.PosOf(f.Node), path: p, PP: 1, DCPSize: 1, PCPSize: 1,
		Router: r.component(f, p, "router", true), SpecDecoding: r.Str(f, p, "spec-decoding", false),
	}
	if kind != fixedMulti {
		s.PP, s.DCPSize, s.PCPSize = r.Integer(f, p, "pp", false, 1, 1), r.Integer(f, p, "dcp-size", false, 1, 1), r.Integer(f, p, "pcp-size", false, 1, 1)
		s.EP, s.DPAttn = r.Integer(f, p, "ep", false, 0, 1), r.Boolean(f, p, "dp-attn")
	}
	if kind != fixedSingle {
		s.KVP2PTransfer = r.Str(f, p, "kv-p2p-transfer", false)
	}
	if kind == agentic {
		s.KVOffloading, s.KVOffloadBackend = r.Str(f, p, "kv-offloading", false), r.component(f, p, "kv-offload-backend", false)
	}
	if s.SpecDecoding == "" {
		s.SpecDecoding = "none"
	}
	r.oneOf(f, p, "spec-decoding", s.SpecDecoding, SpecDecodings)
	r.oneOf(f, p, "kv-offloading", s.KVOffloading, KVOffloadings)
	r.kvOffload(f, p, s)
	r.concurrency(f, p, &s)

	_, hasTP := f.Get("tp")
	_, hasPrefill := f.Get("prefill")
	_, hasDecode := f.Get("decode")
	switch {
	case kind == fixedSingle:
		s.TP = r.Integer(f, p, "tp", true, 0, 1)
	case kind == fixedMulti:
		s.Prefill, s.Decode = r.workers(f, p, "prefill"), r.workers(f, p, "decode")
	case hasTP && (hasPrefill || hasDecode), !hasTP && !(hasPrefill && hasDecode):
		r.At(f.Node, p, "agentic search-space entries give either tp or both prefill and decode")
	case hasTP && e.Multinode:
		r.At(f.Keys["tp"], specyaml.Join(p, "tp"), "multinode entries give prefill and decode, not tp")
	case hasTP:
		s.TP = r.Integer(f, p, "tp", true, 0, 1)
		if s.KVOffloading == "" {
			r.At(f.Node, specyaml.Join(p, "kv-offloading"), "required field is missing (single-node agentic entries say none or dram)")
		}
	case !e.Multinode:
		r.At(f.Keys["prefill"], specyaml.Join(p, "prefill"), "prefill and decode blocks need multinode: true")
	default:
		for _, key := range []string{"pp", "dcp-size", "pcp-size"} {
			if _, ok := f.Get(key); ok {
				r.At(f.Keys[key], specyaml.Join(p, key), "multinode agentic entries set %s in prefill and decode", key)
			}
		}
		s.Prefill, s.Decode = r.workers(f, p, "prefill"), r.workers(f, p, "decode")
	}
	if s.TP > 0 && s.TP%s.DCPSize != 0 {
		r.At(f.Values["dcp-size"], specyaml.Join(p, "dcp-size"), "%d does not divide tp %d", s.DCPSize, s.TP)
	}
	if s.Prefill != nil && s.Decode != nil && (s.Prefill.Hardware == "") != (s.Decode.Hardware == "") {
		r.At(f.Keys["decode"], specyaml.Join(p, "decode.hardware"), "set hardware on both prefill and decode, or on neither")
	}
	return s
}

// kvOffload applies upstream's rule: a back end exactly when offloading
// is on.
func (r reporter) kvOffload(f specyaml.Fields, p string, s Search) {
	switch {
	case s.KVOffloadBackend != nil && s.KVOffloading == "":
		r.At(f.Keys["kv-offload-backend"], specyaml.Join(p, "kv-offload-backend"), "needs kv-offloading")
	case s.KVOffloadBackend != nil && s.KVOffloading == "none":
		r.At(f.Keys["kv-offload-backend"], specyaml.Join(p, "kv-offload-backend"), "only with kv-offloading other than none")
	case s.KVOffloadBackend == nil && s.KVOffloading == "dram":
		r.At(f.Keys["kv-offloading"], specyaml.Join(p, "kv-offload-backend"), "required when kv-offloading is dram")
	}
}

// concurrency reads conc-list or conc-start/conc-end, as upstream: a
// non-empty list or a whole range, not both.
func (r reporter) concurrency(f specyaml.Fields, p string, s *Search) {
	_, hasStart := f.Get("conc-start")
	_, hasEnd := f.Get("conc-end")
	for i, c := range r.List(f, p, "conc-list") {
		v, err := specyaml.ParseInt(c)
		if err != nil || v < 1 {
			r.At(c, specyaml.Index(specyaml.Join(p, "conc-list"), i), "got %s, want a whole number above 0", specyaml.KindName(c))
			continue
		}
		s.ConcList = append(s.ConcList, v)
	}
	hasList := len(s.ConcList) > 0
	switch {
	case hasList && hasStart && hasEnd:
		r.At(f.Keys["conc-list"], specyaml.Join(p, "conc-list"), "give conc-list or conc-start/conc-end, not both")
	case hasList:
	case !hasStart || !hasEnd:
		if _, listGiven := f.Get("conc-list"); !listGiven || hasStart || hasEnd {
			r.At(f.Node, specyaml.Join(p, "conc-start"), "want conc-list or both conc-start and conc-end")
		}
	default:
		s.ConcStart = r.Integer(f, p, "conc-start", true, 0, 1)
		s.ConcEnd = r.Integer(f, p, "conc-end", true, 0, 1)
		if s.ConcStart > 0 && s.ConcEnd > 0 && s.ConcEnd < s.ConcStart {
			r.At(f.Values["conc-end"], specyaml.Join(p, "conc-end"), "%d is below conc-start %d", s.ConcEnd, s.ConcStart)
		}
	}
}

var settingPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=.*$`)

var workerFields = []string{"num-worker", "tp", "pp", "ep", "dp-attn", "dcp-size", "pcp-size", "hardware", "additional-settings"}

func (r reporter) workers(parent specyaml.Fields, p, key string) *Workers {
	n, ok := parent.Get(key)
	if !ok {
		r.At(parent.Node, specyaml.Join(p, key), "required field is missing (multinode entries need prefill and decode)")
		return nil
	}
	wp := specyaml.Join(p, key)
	f, ok := r.Mapping(n, wp, workerFields...)
	if !ok {
		return nil
	}
	w := &Workers{
		// num-worker 0 is upstream's aggregated form: one role, no split.
		NumWorker: r.Integer(f, wp, "num-worker", true, 0, 0), TP: r.Integer(f, wp, "tp", true, 0, 1),
		PP: r.Integer(f, wp, "pp", false, 1, 1), EP: r.Integer(f, wp, "ep", true, 1, 1), DCPSize: r.Integer(f, wp, "dcp-size", false, 1, 1),
		PCPSize: r.Integer(f, wp, "pcp-size", false, 1, 1), Hardware: r.Str(f, wp, "hardware", false),
	}
	if _, ok := f.Get("dp-attn"); ok {
		w.DPAttn = r.Boolean(f, wp, "dp-attn")
	} else {
		r.At(f.Node, specyaml.Join(wp, "dp-attn"), "required field is missing")
	}
	for i := 0; i+1 < len(f.Node.Content); i += 2 {
		if _, known := f.Values[f.Node.Content[i].Value]; known {
			w.keys = append(w.keys, f.Node.Content[i].Value)
		}
	}
	if w.TP > 0 && w.TP%w.DCPSize != 0 {
		r.At(f.Values["dcp-size"], specyaml.Join(wp, "dcp-size"), "%d does not divide tp %d", w.DCPSize, w.TP)
	}
	w.AdditionalSettings = []string{}
	for i, s := range r.List(f, wp, "additional-settings") {
		if s.Kind != yaml.ScalarNode || !settingPattern.MatchString(s.Value) {
			r.At(s, specyaml.Index(specyaml.Join(wp, "additional-settings"), i), "got %s, want KEY=VALUE", specyaml.KindName(s))
			continue
		}
		w.AdditionalSettings = append(w.AdditionalSettings, s.Value)
	}
	return w
}

// fraction reads a number in (0, 1] and keeps its text for exact
// arithmetic.
func (r reporter) fraction(f specyaml.Fields, path, key string) string {
	n, ok := f.Get(key)
	if !ok {
		return ""
	}
	v, exact := new(big.Rat).SetString(n.Value)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") || !exact {
		r.At(n, specyaml.Join(path, key), "got %s, want a number", specyaml.KindName(n))
		return ""
	}
	if v.Sign() <= 0 || v.Cmp(big.NewRat(1, 1)) > 0 {
		r.At(n, specyaml.Join(path, key), "%s is outside (0, 1]", n.Value)
		return ""
	}
	return n.Value
}

func (r reporter) oneOf(f specyaml.Fields, path, key, value string, allowed []string) {
	if value != "" && !slices.Contains(allowed, value) {
		r.At(f.Values[key], specyaml.Join(path, key), "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}
