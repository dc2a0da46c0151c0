package sweep

import (
	"errors"
	"fmt"
	"math/big"
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

// Upstream's generator constants (utils/matrix_logic/generate_sweep_configs.py).
const (
	// AgenticDurationSeconds is how long every agentic point replays traces.
	AgenticDurationSeconds = 3600
	// maxAgenticCPUDRAMMiB caps a node's offload DRAM at 3 TB (decimal)
	// before the utilization share.
	maxAgenticCPUDRAMMiB = 2_861_022
	// minEvalConc is the lowest concurrency an eval runs at.
	minEvalConc = 16
)

// Filters narrow an expansion the way upstream's generator flags do
// (`full-sweep`). Empty or zero means "no filter".
type Filters struct {
	// ModelPrefixes keep entries whose name starts with one of them
	// (upstream matches the entry key, not its model-prefix field).
	ModelPrefixes []string
	Precisions    []string
	Frameworks    []string
	Runners       []string // runner labels
	SeqLens       []string // like 1k1k, 8k1k
	StepSize      int      // concurrency multiplier, default 2
	MinConc       int
	MaxConc       int
	MaxTP         int
	MaxEP         int
	SingleNode    bool
	MultiNode     bool
	ScenarioType  string   // fixed-seq-len or agentic-coding; empty: both
	ConfigKeys    []string // globs over entry names
	// RunnerNodeFilter expands each entry to the nodes of its label whose
	// name contains it, one row per node.
	RunnerNodeFilter string `json:",omitempty"`
	NoEvals          bool   `json:",omitempty"`
	EvalsOnly        bool   `json:",omitempty"`
	AllEvals         bool   `json:",omitempty"`
	// Changelog, when it names a file, plans what the selected entries
	// of upstream's perf-changelog.yaml run instead of the full sweep.
	Changelog ChangelogSelection `json:",omitzero"`
}

// Check refuses the flag combinations upstream's generator refuses.
func (f Filters) Check() error {
	var problems []string
	if f.StepSize != 0 && f.StepSize < 2 {
		problems = append(problems, fmt.Sprintf("--step-size %d: want 2 or more", f.StepSize))
	}
	if f.MinConc < 0 || f.MaxConc < 0 || f.MaxTP < 0 || f.MaxEP < 0 {
		problems = append(problems, "--min-conc, --max-conc, --max-tp and --max-ep want positive values")
	}
	if f.MinConc > 0 && f.MaxConc > 0 && f.MinConc > f.MaxConc {
		problems = append(problems, fmt.Sprintf("--min-conc %d is above --max-conc %d", f.MinConc, f.MaxConc))
	}
	if f.SingleNode && f.MultiNode {
		problems = append(problems, "--single-node and --multi-node exclude each other (give neither for both)")
	}
	if f.NoEvals && (f.AllEvals || f.EvalsOnly) {
		problems = append(problems, "--no-evals cannot be combined with --evals-only or --all-evals")
	}
	if f.ScenarioType != "" && f.ScenarioType != ScenarioFixedSeqLen && f.ScenarioType != ScenarioAgentic {
		problems = append(problems, fmt.Sprintf("--scenario-type %q: want fixed-seq-len or agentic-coding", f.ScenarioType))
	}
	if f.Changelog.File == "" && (f.Changelog.Entry != 0 || f.Changelog.Last != 0) {
		problems = append(problems, "--entry and --last select changelog entries: give --changelog")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkRunnerTypes refuses a runner-type filter naming no label, as
// upstream does: a typo would otherwise plan nothing, silently.
func (f Filters) checkRunnerTypes(runners Runners) error {
	var unknown []string
	for _, r := range f.Runners {
		if _, ok := runners.Labels[r]; !ok {
			unknown = append(unknown, r)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("--runner-type %s: not a label of %s", strings.Join(unknown, ", "), runners.File)
	}
	return nil
}

// seqLenName is upstream's exp-name form of a length pair: 1k1k and 8k1k
// by name, anything else isl_osl.
func seqLenName(isl, osl int) string {
	switch {
	case isl == 1024 && osl == 1024:
		return "1k1k"
	case isl == 8192 && osl == 1024:
		return "8k1k"
	}
	return fmt.Sprintf("%d_%d", isl, osl)
}

// SeqLenName is a length as --seq-lens names it: 1024 → 1k.
// WorkloadName names a figure's workload in reports: its sequence
// lengths ("8k/1k"), or agentic-coding for a trace replay, the only
// points without them.
func WorkloadName(isl, osl int) string {
	if isl == 0 && osl == 0 {
		return ScenarioAgentic
	}
	return SeqLenName(isl) + "/" + SeqLenName(osl)
}

func SeqLenName(n int) string {
	if n%1024 == 0 {
		return strconv.Itoa(n/1024) + "k"
	}
	return strconv.Itoa(n)
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

func (f Filters) keepEntry(e *Entry) bool {
	match := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	prefixed := len(f.ModelPrefixes) == 0 || slices.ContainsFunc(f.ModelPrefixes, func(p string) bool { return strings.HasPrefix(e.Name, p) })
	if !prefixed || !match(f.Precisions, e.Precision) || !match(f.Frameworks, e.Framework) || !match(f.Runners, e.Runner) {
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

func (f Filters) step() int { return max(f.StepSize, 2) }

// fixedConcs is upstream's concurrency selection for a fixed-seq-len
// layout: ranges are clamped to [min, max] before stepping, lists are
// filtered, and a layout entirely above max-conc runs at max-conc. ok is
// false when the layout is skipped.
func (f Filters) fixedConcs(s Search, multinode bool) (concs []int, ok bool) {
	if len(s.ConcList) > 0 || multinode {
		all := s.ConcList
		if len(all) == 0 {
			all = concurrencies(s.ConcStart, s.ConcEnd, f.step())
		}
		if f.MinConc > 0 {
			all = slices.DeleteFunc(slices.Clone(all), func(c int) bool { return c < f.MinConc })
			if len(all) == 0 {
				return nil, false
			}
		}
		if f.MaxConc > 0 {
			kept := slices.DeleteFunc(slices.Clone(all), func(c int) bool { return c > f.MaxConc })
			if len(kept) == 0 {
				kept = []int{f.MaxConc}
			}
			all = kept
		}
		return all, true
	}
	start, end := s.ConcStart, s.ConcEnd
	if f.MinConc > 0 {
		if end < f.MinConc {
			return nil, false
		}
		start = max(start, f.MinConc)
	}
	if f.MaxConc > 0 {
		if start > f.MaxConc {
			start, end = f.MaxConc, f.MaxConc
		} else {
			end = min(end, f.MaxConc)
		}
	}
	return concurrencies(start, end, f.step()), true
}

// agenticConcs filters without the max-conc fallback, as upstream does
// for agentic layouts.
func (f Filters) agenticConcs(s Search) []int {
	all := s.ConcList
	if len(all) == 0 {
		all = concurrencies(s.ConcStart, s.ConcEnd, f.step())
	}
	return slices.DeleteFunc(slices.Clone(all), func(c int) bool {
		return (f.MinConc > 0 && c < f.MinConc) || (f.MaxConc > 0 && c > f.MaxConc)
	})
}

// expander holds what expansion needs beyond the entries: the runners
// file (node filter, hardware) and the hardware catalogue.
type expander struct {
	f        Filters
	runners  Runners
	hardware map[string]RunnerHardware
}

// ExpandRows expands entries into upstream's matrix rows, in upstream's
// order, with its eval selection applied. Errors are the ones upstream's
// generator raises while expanding (an offload budget it cannot size).
func ExpandRows(entries []Entry, runners Runners, hardware map[string]RunnerHardware, f Filters) ([]Row, error) {
	x := expander{f: f, runners: runners, hardware: hardware}
	var rows []Row
	var errs Errors
	for i := range entries {
		e := &entries[i]
		if !f.keepEntry(e) {
			continue
		}
		runnerValues := []string{e.Runner}
		if f.RunnerNodeFilter != "" {
			runnerValues = slices.DeleteFunc(slices.Clone(runners.Labels[e.Runner]), func(n string) bool { return !strings.Contains(n, f.RunnerNodeFilter) })
			if len(runnerValues) == 0 {
				continue
			}
		}
		if (e.Multinode && f.SingleNode) || (!e.Multinode && f.MultiNode) {
			continue
		}
		if f.ScenarioType == "" || f.ScenarioType == ScenarioFixedSeqLen {
			rows = x.fixed(rows, e, runnerValues)
		}
		if f.ScenarioType == "" || f.ScenarioType == ScenarioAgentic {
			var err *Error
			if rows, err = x.agentic(rows, e, runnerValues); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if !f.NoEvals {
		markEvals(rows, f.EvalsOnly || f.AllEvals)
		if f.AllEvals {
			rows = markAllEvals(rows)
		}
	}
	if f.EvalsOnly || f.AllEvals {
		rows = slices.DeleteFunc(rows, func(r Row) bool { return !r.RunEval })
		for i := range rows {
			rows[i].EvalOnly = true
		}
	}
	return rows, nil
}

func (x expander) base(e *Entry, runner string, s Search) Row {
	r := Row{
		Entry: e.Name, Label: e.Runner, Image: e.Image, Model: e.Model, ModelPrefix: e.ModelPrefix, Precision: e.Precision,
		Framework: e.Framework, Runner: runner, SpecDecoding: s.SpecDecoding, Multinode: e.Multinode, Disagg: e.Disagg,
		Router: e.Router, KVP2PTransfer: e.KVP2PTransfer, hasRunEval: true,
	}
	if s.Router != nil {
		r.Router = s.Router
	}
	if s.KVP2PTransfer != "" {
		r.KVP2PTransfer = s.KVP2PTransfer
	}
	if e.Multinode {
		r.Prefill, r.Decode = s.Prefill, s.Decode
	} else {
		r.TP, r.PP, r.DCPSize, r.PCPSize, r.EP, r.DPAttn = s.TP, s.PP, s.DCPSize, s.PCPSize, max(s.EP, 1), s.DPAttn
	}
	return r
}

func (x expander) fixed(rows []Row, e *Entry, runnerValues []string) []Row {
	for _, sl := range e.FixedSeqLen {
		if len(x.f.SeqLens) > 0 && !slices.Contains(x.f.SeqLens, SeqLenName(sl.ISL)+SeqLenName(sl.OSL)) {
			continue
		}
		for _, s := range sl.SearchSpace {
			if !e.Multinode && x.f.MaxTP > 0 && s.TP > x.f.MaxTP {
				continue
			}
			concs, ok := x.f.fixedConcs(s, e.Multinode)
			if !ok {
				continue
			}
			add := func(runner string, concs []int) {
				r := x.base(e, runner, s)
				r.Scenario, r.ISL, r.OSL, r.Conc = ScenarioFixedSeqLen, sl.ISL, sl.OSL, concs
				r.MaxModelLen, r.ExpName = sl.ISL+sl.OSL+256, e.ModelPrefix+"_"+seqLenName(sl.ISL, sl.OSL)
				if !e.Multinode && x.f.MaxEP > 0 && s.EP > x.f.MaxEP {
					r.EP = x.f.MaxEP // as upstream: capped, not skipped
				}
				rows = append(rows, r)
			}
			if e.Multinode {
				for _, runner := range runnerValues {
					add(runner, concs)
				}
				continue
			}
			for _, c := range concs {
				for _, runner := range runnerValues {
					add(runner, []int{c})
				}
			}
		}
	}
	return rows
}

func (x expander) agentic(rows []Row, e *Entry, runnerValues []string) ([]Row, *Error) {
	for _, a := range e.Agentic {
		for _, s := range a.SearchSpace {
			dramGB, err := x.offloadGB(e, a, s)
			if err != nil {
				return rows, err
			}
			concs := x.f.agenticConcs(s)
			if len(concs) == 0 {
				continue
			}
			kv := s.KVOffloading
			if kv == "" {
				kv = "none"
			}
			suffix := "kvnone"
			if kv != "none" {
				suffix = "kv" + kv + "-" + s.KVOffloadBackend.Name
			}
			add := func(runner string, c int) {
				r := x.base(e, runner, s)
				r.Scenario, r.Conc, r.KVOffloading, r.KVOffloadBackend = ScenarioAgentic, []int{c}, kv, s.KVOffloadBackend
				r.TotalCPUDRAMGB, r.Duration, r.hasRunEval = dramGB, AgenticDurationSeconds, false
				if e.Multinode {
					r.ExpName = fmt.Sprintf("%s_%s_%s_conc%d", e.ModelPrefix, workerTag(s.Prefill, "p"), workerTag(s.Decode, "d"), c)
					if kv != "none" {
						r.ExpName += "_" + suffix
					}
				} else {
					r.ExpName = fmt.Sprintf("%s_tp%d_conc%d_%s", e.ModelPrefix, s.TP, c, suffix)
					if s.SpecDecoding != "none" {
						r.ExpName += "_spec-" + s.SpecDecoding
					}
				}
				rows = append(rows, r)
			}
			// Upstream runs one agentic concurrency per allocation, also
			// multinode: runner-major there, concurrency-major single-node.
			if e.Multinode {
				for _, runner := range runnerValues {
					for _, c := range concs {
						add(runner, c)
					}
				}
				continue
			}
			for _, c := range concs {
				for _, runner := range runnerValues {
					add(runner, c)
				}
			}
		}
	}
	return rows, nil
}

func workerTag(w *Workers, role string) string {
	tag := fmt.Sprintf("%s%dx%d", role, w.NumWorker, w.TP)
	if w.EP != 1 {
		tag += fmt.Sprintf("ep%d", w.EP)
	}
	if w.DPAttn {
		tag += "dpa"
	}
	return tag
}

// offloadGB is upstream's CPU DRAM budget for one agentic server node:
// the node's available DRAM (capped at 3 TB) × dram-utilization × the
// share of the node's GPUs one replica (multinode: one prefill worker)
// uses, in whole decimal GB, rounded down.
func (x expander) offloadGB(e *Entry, a AgenticConfig, s Search) (int, *Error) {
	if s.KVOffloading != "dram" {
		return 0, nil
	}
	fail := func(format string, args ...any) (int, *Error) {
		return 0, &Error{File: e.File, Line: s.pos.Line, Col: s.pos.Col, Path: s.path, Msg: fmt.Sprintf(format, args...)}
	}
	hw, ok := x.nodeHardware(e.Runner)
	if !ok {
		return fail("kv-offloading: dram needs the node's CPU DRAM: runner %q has no hardware entry in %s, and its SKU is not in the catalogue (set node-hardware in settings)", e.Runner, x.runners.File)
	}
	var gpus int
	if s.Prefill != nil {
		replica := s.Prefill.TP * s.Prefill.PP * s.Prefill.PCPSize
		switch {
		case replica > hw.GPUsPerNode && replica%hw.GPUsPerNode != 0:
			return fail("prefill tp*pp*pcp-size=%d spans nodes but is not a multiple of gpus-per-node=%d", replica, hw.GPUsPerNode)
		case replica > hw.GPUsPerNode:
			gpus = hw.GPUsPerNode
		case hw.GPUsPerNode%replica != 0:
			return fail("prefill tp*pp*pcp-size=%d does not divide gpus-per-node=%d evenly", replica, hw.GPUsPerNode)
		default:
			gpus = replica
		}
	} else {
		gpus = s.TP * s.PP * s.PCPSize
		if gpus > hw.GPUsPerNode {
			return fail("tp*pp*pcp-size=%d exceeds gpus-per-node=%d of runner %q", gpus, hw.GPUsPerNode, e.Runner)
		}
	}
	util, _ := new(big.Rat).SetString(a.DRAMUtilization)
	bytes := new(big.Rat).SetInt64(int64(min(hw.AvailableCPUDRAMMiB, maxAgenticCPUDRAMMiB)) * 1024 * 1024)
	bytes.Mul(bytes, util).Mul(bytes, big.NewRat(int64(gpus), int64(hw.GPUsPerNode)))
	gb := new(big.Int).Quo(bytes.Num(), new(big.Int).Mul(bytes.Denom(), big.NewInt(1_000_000_000)))
	return int(gb.Int64()), nil
}

// nodeHardware is what one node of a label has: runners.yaml's hardware
// entry, else the catalogue (settings node-hardware) by label, else by
// the label's SKU.
func (x expander) nodeHardware(label string) (RunnerHardware, bool) {
	return NodeHardware(label, x.runners, x.hardware)
}
