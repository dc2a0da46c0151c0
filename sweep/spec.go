package sweep

import (
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
	Agentic       []AgenticConfig
}

type position struct{ line, col int }

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
	pos              position
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
		if strings.Contains(k.Value, "*") {
			// Upstream reserves '*' for the config-keys globs of its changelog.
			r.at(k, k.Value, "'*' is not allowed in entry names (it is reserved for config-keys globs)")
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
	f, ok := r.mapping(v, name, entryFields...)
	if !ok {
		return Entry{}, false
	}
	e := Entry{
		Name: name, File: r.file, Line: k.Line,
		Image: r.str(f, name, "image", true), Model: r.str(f, name, "model", true), ModelPrefix: r.str(f, name, "model-prefix", true),
		Runner: r.str(f, name, "runner", true), Precision: r.str(f, name, "precision", true), Framework: r.str(f, name, "framework", true),
		Multinode: r.boolean(f, name, "multinode"), Disagg: r.boolean(f, name, "disagg"),
		Router: r.component(f, name, "router", true), KVP2PTransfer: r.str(f, name, "kv-p2p-transfer", false),
	}
	if n, ok := f.get("runner"); ok {
		e.runnerPos = position{n.Line, n.Column}
	}
	if e.Disagg && !e.Multinode {
		r.at(f.values["disagg"], join(name, "disagg"), "disagg needs multinode: true")
	}
	if _, ok := f.get("kv-p2p-transfer"); ok && !e.Multinode {
		r.at(f.keys["kv-p2p-transfer"], join(name, "kv-p2p-transfer"), "kv-p2p-transfer is only valid when multinode: true")
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
		r.scenarios(scenarios, join(name, "scenarios"), &e)
	default:
		r.at(f.node, join(name, "scenarios"), "required field is missing")
	}
	if len(e.Agentic) > 0 && e.Runner != "" && !strings.HasPrefix(e.Runner, ClusterLabelPrefix) {
		r.at(f.values["runner"], join(name, "runner"), "agentic-coding entries must use a '%s<name>' runner, so every point runs on one exact fleet", ClusterLabelPrefix)
	}
	r.componentScope(f, &e)
	return e, true
}

func (r reporter) scenarios(n *yaml.Node, path string, e *Entry) {
	sf, ok := r.mapping(n, path, ScenarioFixedSeqLen, ScenarioAgentic)
	if !ok {
		return
	}
	if n, ok := sf.get(ScenarioFixedSeqLen); ok {
		e.seqLenKey = "scenarios." + ScenarioFixedSeqLen
		e.FixedSeqLen = r.seqLens(n, join(path, ScenarioFixedSeqLen), e)
	}
	if n, ok := sf.get(ScenarioAgentic); ok {
		ap := join(path, ScenarioAgentic)
		items := r.list(sf, path, ScenarioAgentic)
		if n.Kind == yaml.SequenceNode && len(items) == 0 {
			r.at(n, ap, "empty: want at least one {search-space, dram-utilization}")
		}
		for i, item := range items {
			if a, ok := r.agentic(item, index(ap, i), e); ok {
				e.Agentic = append(e.Agentic, a)
			}
		}
	}
	if len(sf.values) == 0 {
		r.at(sf.node, path, "no scenario: want fixed-seq-len or agentic-coding")
	}
}

// componentScope applies upstream's rules for where a router and a KV
// transfer may be declared: in one place, and a disaggregated entry must
// say how its KV cache moves.
func (r reporter) componentScope(f fields, e *Entry) {
	searches := e.searches()
	for _, key := range []string{"router", "kv-p2p-transfer"} {
		if _, top := f.get(key); !top {
			continue
		}
		for _, s := range searches {
			if (key == "router" && s.Router != nil) || (key == "kv-p2p-transfer" && s.KVP2PTransfer != "") {
				r.at(f.keys[key], join(e.Name, key), "declared at the top level and in %s: declare it in one place", s.path)
				break
			}
		}
	}
	if !e.Multinode {
		for _, s := range searches {
			if s.KVP2PTransfer != "" {
				r.atPos(s.pos, s.path+".kv-p2p-transfer", "kv-p2p-transfer is only valid when multinode: true")
			}
		}
	}
	if e.Disagg && e.Multinode && e.KVP2PTransfer == "" {
		for _, s := range searches {
			if s.KVP2PTransfer == "" {
				r.atPos(s.pos, s.path, "disagg: true needs kv-p2p-transfer at the top level or in every search-space entry")
			}
		}
	}
}

func (r reporter) component(f fields, path, key string, versionRequired bool) *Component {
	n, ok := f.get(key)
	if !ok {
		return nil
	}
	p := join(path, key)
	cf, ok := r.mapping(n, p, "name", "version")
	if !ok {
		return nil
	}
	c := &Component{Name: r.str(cf, p, "name", true), Version: r.str(cf, p, "version", versionRequired)}
	if strings.HasPrefix(c.Version, "image:") {
		r.at(cf.values["version"], join(p, "version"), "want the component's own release, package version or source commit, not an image reference")
	}
	c.versionFirst = len(cf.node.Content) > 0 && cf.node.Content[0].Value == "version"
	return c
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
	f, ok := r.mapping(n, path, "search-space", "dram-utilization")
	if !ok {
		return AgenticConfig{}, false
	}
	a := AgenticConfig{DRAMUtilization: r.fraction(f, path, "dram-utilization")}
	a.SearchSpace = r.searchSpace(f, path, e, agentic)
	for _, s := range a.SearchSpace {
		if s.KVOffloading == "dram" && a.DRAMUtilization == "" {
			r.atPos(s.pos, s.path+".kv-offloading", "kv-offloading: dram needs dram-utilization in its agentic-coding scenario")
		}
	}
	return a, true
}
