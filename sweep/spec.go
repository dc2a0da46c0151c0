package sweep

import (
	"strings"

	"github.com/infersweep/infersweep/specyaml"
	"go.yaml.in/yaml/v3"
)

// Entry is one named entry of a master config.
type Entry struct {
	Name          string
	File          string
	Line          int
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
	Agentic       []AgenticConfig
}

// Component names a piece of software (a router, a KV offload back end)
// with its version.
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// versionFirst keeps the order the file gave, which upstream's
	// generator prints unchanged.
	versionFirst bool
}

// SeqLen is one fixed sequence-length scenario.
type SeqLen struct {
	ISL, OSL    int
	SearchSpace []Search
}

// AgenticConfig is one agentic-coding scenario: coding-agent traces
// replayed for a fixed duration at each concurrency.
type AgenticConfig struct {
	// DRAMUtilization is the share of a node's CPU DRAM the KV offload
	// may use, as the file wrote it (a decimal, kept as text so the
	// offload budget is computed exactly as upstream's Decimal does).
	DRAMUtilization string
	SearchSpace     []Search
}

// Search is one search-space entry: a parallelism layout swept over
// concurrencies. Single-node layouts set TP..PCPSize; multinode ones
// Prefill and Decode.
type Search struct {
	pos              specyaml.Pos
	path             string
	TP, PP           int
	DCPSize, PCPSize int
	EP               int  // 0: not given (1 in points)
	DPAttn           bool // false when not given
	ConcStart        int
	ConcEnd          int
	ConcList         []int
	Router           *Component
	KVP2PTransfer    string
	SpecDecoding     string
	KVOffloading     string // agentic only: none or dram
	KVOffloadBackend *Component
	Prefill, Decode  *Workers
}

// Workers is one role of a multinode deployment (prefill or decode), or
// its only role when NumWorker is 0 (upstream's aggregated form).
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
	// keys is the order the file gave its keys in: upstream's generator
	// prints a worker as the file wrote it, defaults appended.
	keys []string
}

// SpecDecodings a search-space entry may name (upstream's validation).
var SpecDecodings = []string{"mtp", "draft_model", "none"}

// KVOffloadings an agentic search-space entry may name.
var KVOffloadings = []string{"none", "dram"}

// ClusterLabelPrefix marks a runner label that names one exact fleet;
// upstream requires it of agentic entries.
const ClusterLabelPrefix = "cluster:"

var entryFields = []string{"image", "model", "model-prefix", "runner", "precision", "framework", "multinode", "disagg", "router", "kv-p2p-transfer", "scenarios", "seq-len-configs"}

// ParseMaster reads one master config. Errors name file, line and path.
func ParseMaster(file string, data []byte) ([]Entry, Errors) {
	var errs Errors
	r := reporter{specyaml.Reporter{File: file, Errs: &errs}}
	root := r.Document(data)
	if root == nil {
		return nil, errs
	}
	if root.Kind != yaml.MappingNode {
		r.At(root, "", "got %s, want a mapping of entry name to entry", specyaml.KindName(root))
		return nil, errs
	}
	var entries []Entry
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			r.At(k, k.Value, "duplicate entry (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		if strings.Contains(k.Value, "*") {
			// Upstream reserves '*' for the config-keys globs of its changelog.
			r.At(k, k.Value, "'*' is not allowed in entry names (it is reserved for config-keys globs)")
			continue
		}
		if e, ok := r.entry(k, v); ok {
			entries = append(entries, e)
		}
	}
	return entries, errs
}

func (r reporter) entry(k, v *yaml.Node) (Entry, bool) {
	name := k.Value
	f, ok := r.Mapping(v, name, entryFields...)
	if !ok {
		return Entry{}, false
	}
	e := Entry{
		Name: name, File: r.File, Line: k.Line,
		Image: r.Str(f, name, "image", true), Model: r.Str(f, name, "model", true), ModelPrefix: r.Str(f, name, "model-prefix", true),
		Runner: r.Str(f, name, "runner", true), Precision: r.Str(f, name, "precision", true), Framework: r.Str(f, name, "framework", true),
		Multinode: r.Boolean(f, name, "multinode"), Disagg: r.Boolean(f, name, "disagg"),
		Router: r.component(f, name, "router", true), KVP2PTransfer: r.Str(f, name, "kv-p2p-transfer", false),
	}
	if e.Disagg && !e.Multinode {
		r.At(f.Values["disagg"], specyaml.Join(name, "disagg"), "disagg needs multinode: true")
	}
	if _, ok := f.Get("kv-p2p-transfer"); ok && !e.Multinode {
		r.At(f.Keys["kv-p2p-transfer"], specyaml.Join(name, "kv-p2p-transfer"), "kv-p2p-transfer is only valid when multinode: true")
	}

	scenarios, hasScenarios := f.Get("scenarios")
	legacy, hasLegacy := f.Get("seq-len-configs")
	switch {
	case hasScenarios && hasLegacy:
		r.At(f.Keys["seq-len-configs"], specyaml.Join(name, "seq-len-configs"), "give scenarios or the older seq-len-configs, not both")
	case hasLegacy:
		e.seqLenKey = "seq-len-configs"
		e.FixedSeqLen = r.seqLens(legacy, specyaml.Join(name, "seq-len-configs"), &e)
	case hasScenarios:
		r.scenarios(scenarios, specyaml.Join(name, "scenarios"), &e)
	default:
		r.At(f.Node, specyaml.Join(name, "scenarios"), "required field is missing")
	}
	if len(e.Agentic) > 0 && e.Runner != "" && !strings.HasPrefix(e.Runner, ClusterLabelPrefix) {
		r.At(f.Values["runner"], specyaml.Join(name, "runner"), "agentic-coding entries must use a '%s<name>' runner, so every point runs on one exact fleet", ClusterLabelPrefix)
	}
	r.componentScope(f, &e)
	return e, true
}

func (r reporter) scenarios(n *yaml.Node, path string, e *Entry) {
	sf, ok := r.Mapping(n, path, ScenarioFixedSeqLen, ScenarioAgentic)
	if !ok {
		return
	}
	if n, ok := sf.Get(ScenarioFixedSeqLen); ok {
		e.seqLenKey = "scenarios." + ScenarioFixedSeqLen
		e.FixedSeqLen = r.seqLens(n, specyaml.Join(path, ScenarioFixedSeqLen), e)
	}
	if n, ok := sf.Get(ScenarioAgentic); ok {
		ap := specyaml.Join(path, ScenarioAgentic)
		items := r.List(sf, path, ScenarioAgentic)
		if n.Kind == yaml.SequenceNode && len(items) == 0 {
			r.At(n, ap, "empty: want at least one {search-space, dram-utilization}")
		}
		for i, item := range items {
			if a, ok := r.agentic(item, specyaml.Index(ap, i), e); ok {
				e.Agentic = append(e.Agentic, a)
			}
		}
	}
	if len(sf.Values) == 0 {
		r.At(sf.Node, path, "no scenario: want fixed-seq-len or agentic-coding")
	}
}

// componentScope applies upstream's rules for where a router and a KV
// transfer may be declared: in one place, and a disaggregated entry must
// say how its KV cache moves.
func (r reporter) componentScope(f specyaml.Fields, e *Entry) {
	searches := e.searches()
	for _, key := range []string{"router", "kv-p2p-transfer"} {
		if _, top := f.Get(key); !top {
			continue
		}
		for _, s := range searches {
			if (key == "router" && s.Router != nil) || (key == "kv-p2p-transfer" && s.KVP2PTransfer != "") {
				r.At(f.Keys[key], specyaml.Join(e.Name, key), "declared at the top level and in %s: declare it in one place", s.path)
				break
			}
		}
	}
	if !e.Multinode {
		for _, s := range searches {
			if s.KVP2PTransfer != "" {
				r.AtPos(s.pos, s.path+".kv-p2p-transfer", "kv-p2p-transfer is only valid when multinode: true")
			}
		}
	}
	if e.Disagg && e.Multinode && e.KVP2PTransfer == "" {
		for _, s := range searches {
			if s.KVP2PTransfer == "" {
				r.AtPos(s.pos, s.path, "disagg: true needs kv-p2p-transfer at the top level or in every search-space entry")
			}
		}
	}
}

func (r reporter) component(f specyaml.Fields, path, key string, versionRequired bool) *Component {
	n, ok := f.Get(key)
	if !ok {
		return nil
	}
	p := specyaml.Join(path, key)
	cf, ok := r.Mapping(n, p, "name", "version")
	if !ok {
		return nil
	}
	c := &Component{Name: r.Str(cf, p, "name", true), Version: r.Str(cf, p, "version", versionRequired)}
	if strings.HasPrefix(c.Version, "image:") {
		r.At(cf.Values["version"], specyaml.Join(p, "version"), "want the component's own release, package version or source commit, not an image reference")
	}
	c.versionFirst = len(cf.Node.Content) > 0 && cf.Node.Content[0].Value == "version"
	return c
}

func (r reporter) seqLens(n *yaml.Node, path string, e *Entry) []SeqLen {
	n = specyaml.Resolve(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		r.At(n, path, "got %s, want a non-empty list of {isl, osl, search-space}", specyaml.KindName(n))
		return nil
	}
	var out []SeqLen
	for i, item := range n.Content {
		p := specyaml.Index(path, i)
		f, ok := r.Mapping(item, p, "isl", "osl", "search-space")
		if !ok {
			continue
		}
		s := SeqLen{ISL: r.Integer(f, p, "isl", true, 0, 1), OSL: r.Integer(f, p, "osl", true, 0, 1)}
		kind := fixedSingle
		if e.Multinode {
			kind = fixedMulti
		}
		s.SearchSpace = r.searchSpace(f, p, e, kind)
		out = append(out, s)
	}
	return out
}

func (r reporter) agentic(n *yaml.Node, path string, e *Entry) (AgenticConfig, bool) {
	f, ok := r.Mapping(n, path, "search-space", "dram-utilization")
	if !ok {
		return AgenticConfig{}, false
	}
	a := AgenticConfig{DRAMUtilization: r.fraction(f, path, "dram-utilization")}
	a.SearchSpace = r.searchSpace(f, path, e, agentic)
	for _, s := range a.SearchSpace {
		if s.KVOffloading == "dram" && a.DRAMUtilization == "" {
			r.AtPos(s.pos, s.path+".kv-offloading", "kv-offloading: dram needs dram-utilization in its agentic-coding scenario")
		}
	}
	return a, true
}
