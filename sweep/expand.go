package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Scenario types.
const (
	ScenarioFixedSeqLen = "fixed-seq-len"
	ScenarioAgentic     = "agentic-coding"
)

// Point is one benchmark to run: an engine layout at one concurrency.
type Point struct {
	ID            string     `json:"id"`
	Entry         string     `json:"entry"`
	Scenario      string     `json:"scenario"`
	Image         string     `json:"image"`
	Model         string     `json:"model"`
	ModelPrefix   string     `json:"model_prefix"`
	Runner        string     `json:"runner"`
	TaskQueue     string     `json:"task_queue"`
	Precision     string     `json:"precision"`
	Framework     string     `json:"framework"`
	ISL           int        `json:"isl,omitempty"`
	OSL           int        `json:"osl,omitempty"`
	TraceSource   string     `json:"trace_source,omitempty"`
	Conc          int        `json:"conc"`
	TP            int        `json:"tp,omitempty"`
	EP            int        `json:"ep,omitempty"`
	PP            int        `json:"pp,omitempty"`
	DPAttn        bool       `json:"dp_attn"`
	DCPSize       int        `json:"dcp_size,omitempty"`
	PCPSize       int        `json:"pcp_size,omitempty"`
	SpecDecoding  string     `json:"spec_decoding"`
	Router        *Component `json:"router,omitempty"`
	KVP2PTransfer string     `json:"kv_p2p_transfer,omitempty"`
	KVOffloading  string     `json:"kv_offloading,omitempty"`
	KVOffloadBack *Component `json:"kv_offload_backend,omitempty"`
	Multinode     bool       `json:"multinode"`
	Disagg        bool       `json:"disagg"`
	Prefill       *Workers   `json:"prefill,omitempty"`
	Decode        *Workers   `json:"decode,omitempty"`
	GPUs          int        `json:"gpus"`
	MaxModelLen   int        `json:"max_model_len,omitempty"`
	ExpName       string     `json:"exp_name"`
}

// Filters narrow an expansion the way InferenceMAX's generator flags do.
// Empty means "no filter".
type Filters struct {
	ModelPrefixes []string
	Precisions    []string
	Frameworks    []string
	Runners       []string
	SeqLens       []string // like 1k1k, 8k1k
	StepSize      int      // concurrency multiplier, default 2
	MinConc       int
	MaxConc       int
	MaxTP         int
	MaxEP         int
	SingleNode    bool
	MultiNode     bool
	ScenarioType  string
	ConfigKeys    []string // globs over entry names
}

// concurrencies multiplies from start by step and always ends at end:
// 4..128 → 4 8 16 32 64 128; 4..100 → 4 8 16 32 64 100.
func concurrencies(start, end, step int) []int {
	var out []int
	for c := start; c < end; c *= step {
		out = append(out, c)
	}
	return append(out, end)
}

// SeqLenName is InferenceMAX's short name for a length: 1024 → 1k.
func SeqLenName(n int) string {
	if n%1024 == 0 {
		return strconv.Itoa(n/1024) + "k"
	}
	return strconv.Itoa(n)
}

func (f Filters) keepEntry(e *Entry) bool {
	match := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !match(f.ModelPrefixes, e.ModelPrefix) || !match(f.Precisions, e.Precision) || !match(f.Frameworks, e.Framework) || !match(f.Runners, e.Runner) {
		return false
	}
	if (f.SingleNode && e.Multinode) || (f.MultiNode && !e.Multinode) {
		return false
	}
	if len(f.ConfigKeys) == 0 {
		return true
	}
	for _, glob := range f.ConfigKeys {
		if ok, _ := path.Match(glob, e.Name); ok {
			return true
		}
	}
	return false
}

func (f Filters) concs(s Search) []int {
	step := f.StepSize
	if step < 2 {
		step = 2
	}
	all := s.ConcList
	if len(all) == 0 {
		all = concurrencies(s.ConcStart, s.ConcEnd, step)
	}
	var out []int
	for _, c := range all {
		if c >= f.MinConc && (f.MaxConc == 0 || c <= f.MaxConc) {
			out = append(out, c)
		}
	}
	// As upstream: when every value exceeds max-conc, run at max-conc.
	if len(out) == 0 && f.MaxConc > 0 && all[0] > f.MaxConc && f.MaxConc >= f.MinConc {
		out = []int{f.MaxConc}
	}
	return out
}

// Expand turns validated entries into points, sorted by id-independent
// order: entry name, scenario, lengths, layout, concurrency.
func Expand(entries []Entry, f Filters) []Point {
	var points []Point
	for i := range entries {
		e := &entries[i]
		if !f.keepEntry(e) {
			continue
		}
		if f.ScenarioType == "" || f.ScenarioType == ScenarioFixedSeqLen {
			for _, sl := range e.FixedSeqLen {
				name := SeqLenName(sl.ISL) + SeqLenName(sl.OSL)
				if len(f.SeqLens) > 0 && !slices.Contains(f.SeqLens, name) {
					continue
				}
				for _, s := range sl.SearchSpace {
					points = f.appendPoints(points, e, s, ScenarioFixedSeqLen, sl.ISL, sl.OSL, "", e.ModelPrefix+"_"+name)
				}
			}
		}
		// Sequence-length filters name fixed lengths; agentic traces have none.
		if e.Agentic != nil && len(f.SeqLens) == 0 && (f.ScenarioType == "" || f.ScenarioType == ScenarioAgentic) {
			for _, s := range e.Agentic.SearchSpace {
				points = f.appendPoints(points, e, s, ScenarioAgentic, 0, 0, e.Agentic.TraceSource, e.ModelPrefix+"_agentic")
			}
		}
	}
	return points
}

func (f Filters) appendPoints(points []Point, e *Entry, s Search, scenario string, isl, osl int, trace, expName string) []Point {
	if !e.Multinode && ((f.MaxTP > 0 && s.TP > f.MaxTP) || (f.MaxEP > 0 && s.EP > f.MaxEP)) {
		return points
	}
	router, kv := e.Router, e.KVP2PTransfer
	if s.Router != nil {
		router = s.Router
	}
	if s.KVP2PTransfer != "" {
		kv = s.KVP2PTransfer
	}
	for _, c := range f.concs(s) {
		p := Point{
			Entry: e.Name, Scenario: scenario, Image: e.Image, Model: e.Model, ModelPrefix: e.ModelPrefix, Runner: e.Runner,
			TaskQueue: TaskQueue(e.Runner), Precision: e.Precision, Framework: e.Framework, ISL: isl, OSL: osl, TraceSource: trace,
			Conc: c, SpecDecoding: s.SpecDecoding, Router: router, KVP2PTransfer: kv, KVOffloading: s.KVOffloading,
			KVOffloadBack: s.KVOffloadBackend, Multinode: e.Multinode, Disagg: e.Disagg, ExpName: expName,
		}
		if isl > 0 {
			p.MaxModelLen = isl + osl + 256
		}
		if e.Multinode {
			p.Prefill, p.Decode = s.Prefill, s.Decode
			for _, w := range []*Workers{s.Prefill, s.Decode} {
				p.GPUs += w.NumWorker * w.TP * w.PP * w.PCPSize
			}
		} else {
			p.TP, p.EP, p.PP, p.DPAttn, p.DCPSize, p.PCPSize = s.TP, s.EP, s.PP, s.DPAttn, s.DCPSize, s.PCPSize
			p.GPUs = s.TP * s.PP * s.PCPSize
		}
		p.ID = pointID(p)
		points = append(points, p)
	}
	return points
}

// pointID hashes the point's normalized config: every field in a fixed
// order, so the id does not depend on the order of keys or entries in the
// files, and not on where the entry is defined. Written by hand rather than
// through JSON: expansion hashes every point, and reflection would be most
// of its cost.
func pointID(p Point) string {
	h := sha256.New()
	buf := make([]byte, 0, 512)
	str := func(v string) { buf = append(strconv.AppendInt(buf, int64(len(v)), 10), ':'); buf = append(buf, v...) }
	num := func(v int) { buf = append(strconv.AppendInt(buf, int64(v), 10), ';') }
	flag := func(v bool) { buf = strconv.AppendBool(buf, v); buf = append(buf, ';') }
	comp := func(c *Component) {
		if c == nil {
			str("")
			return
		}
		str(c.Name)
		str(c.Version)
	}
	workers := func(w *Workers) {
		if w == nil {
			num(-1)
			return
		}
		for _, v := range []int{w.NumWorker, w.TP, w.PP, w.EP, w.DCPSize, w.PCPSize} {
			num(v)
		}
		flag(w.DPAttn)
		str(w.Hardware)
		num(len(w.AdditionalSettings))
		for _, a := range w.AdditionalSettings {
			str(a)
		}
	}
	for _, v := range []string{p.Entry, p.Scenario, p.Image, p.Model, p.ModelPrefix, p.Runner, p.Precision, p.Framework, p.TraceSource, p.SpecDecoding, p.KVP2PTransfer, p.KVOffloading, p.ExpName} {
		str(v)
	}
	for _, v := range []int{p.ISL, p.OSL, p.Conc, p.TP, p.EP, p.PP, p.DCPSize, p.PCPSize, p.GPUs, p.MaxModelLen} {
		num(v)
	}
	flag(p.DPAttn)
	flag(p.Multinode)
	flag(p.Disagg)
	comp(p.Router)
	comp(p.KVOffloadBack)
	workers(p.Prefill)
	workers(p.Decode)
	h.Write(buf)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// Counts summarises a plan for humans: points per runner, framework and
// sequence length.
type Counts struct {
	Total       int            `json:"total"`
	ByRunner    map[string]int `json:"by_runner"`
	ByFramework map[string]int `json:"by_framework"`
	BySeqLen    map[string]int `json:"by_seq_len"`
	GPUs        map[string]int `json:"gpu_points_by_runner"`
}

// Count tallies points.
func Count(points []Point) Counts {
	c := Counts{Total: len(points), ByRunner: map[string]int{}, ByFramework: map[string]int{}, BySeqLen: map[string]int{}, GPUs: map[string]int{}}
	for _, p := range points {
		c.ByRunner[p.Runner]++
		c.ByFramework[p.Framework]++
		seq := ScenarioAgentic
		if p.Scenario == ScenarioFixedSeqLen {
			seq = SeqLenName(p.ISL) + SeqLenName(p.OSL)
		}
		c.BySeqLen[seq]++
		c.GPUs[p.Runner] += p.GPUs
	}
	return c
}

// ParseSeqLens reads "1k1k,8k1k" into names, checking their shape.
func ParseSeqLens(spec string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Count(s, "k") < 1 {
			return nil, fmt.Errorf("seq-lens %q: want names like 1k1k or 8k1k", s)
		}
		out = append(out, s)
	}
	return out, nil
}
