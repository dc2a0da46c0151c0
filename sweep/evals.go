package sweep

import (
	"slices"
)

// Eval selection follows upstream's generator (mark_eval_entries and
// mark_all_eval_entries): evals run at 8k1k only, and never below
// concurrency 16.
//   - Single-node: per (model, runner, framework, precision, lengths,
//     spec-decoding, dp-attn), every layout at the highest and at the
//     median concurrency.
//   - Multinode: per distinct deployment (every field but concurrency and
//     eval fields), the row holding its highest eligible concurrency,
//     with eval-conc set to it.
//   - Agentic (only with --evals-only or --all-evals): single-node, the
//     highest concurrency per (model, runner, framework, precision);
//     multinode as above.

func isEvalSeqLen(r *Row) bool { return r.ISL == 8192 && r.OSL == 1024 }

func eligibleEvalConcs(r *Row) []int {
	out := slices.DeleteFunc(slices.Clone(r.Conc), func(c int) bool { return c < minEvalConc })
	slices.Sort(out)
	return out
}

// deploymentKey is upstream's _multinode_parallelism_key: the row as
// printed without its concurrency, eval fields and exp-name.
func deploymentKey(r Row) string {
	r.Conc, r.RunEval, r.EvalOnly, r.EvalConc, r.EvalAllConcs, r.ExpName, r.hasRunEval = []int{0}, false, false, 0, false, "", false
	return string(r.AppendInferenceX(nil))
}

type singleNodeEvalKey struct {
	model, runner, framework, precision string
	isl, osl                            int
	spec                                string
	dpAttn                              bool
}

type bestConc struct{ row, conc int }

// markEvals sets run-eval on the selected rows (and eval-conc on
// multinode ones); includeAgentic adds agentic rows.
func markEvals(rows []Row, includeAgentic bool) {
	selected := map[int]bool{}
	evalConc := map[int]int{}
	singleGroups := map[singleNodeEvalKey][]int{}
	var singleOrder []singleNodeEvalKey
	best := map[string]bestConc{}
	pick := func(key string, i, conc int) {
		if b, ok := best[key]; !ok || conc > b.conc {
			best[key] = bestConc{i, conc}
		}
	}
	agenticBest := map[singleNodeEvalKey]bestConc{}
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Scenario == ScenarioAgentic && !includeAgentic:
		case r.Scenario == ScenarioAgentic && r.Multinode:
			if concs := eligibleEvalConcs(r); len(concs) > 0 {
				pick("agentic"+deploymentKey(*r), i, concs[len(concs)-1])
			}
		case r.Scenario == ScenarioAgentic:
			k := singleNodeEvalKey{model: r.Model, runner: r.Runner, framework: r.Framework, precision: r.Precision}
			if b, ok := agenticBest[k]; !ok || r.Conc[0] > b.conc {
				agenticBest[k] = bestConc{i, r.Conc[0]}
			}
		case !isEvalSeqLen(r) || len(eligibleEvalConcs(r)) == 0:
		case r.Multinode:
			concs := eligibleEvalConcs(r)
			pick("fixed"+deploymentKey(*r), i, concs[len(concs)-1])
		default:
			k := singleNodeEvalKey{r.Model, r.Runner, r.Framework, r.Precision, r.ISL, r.OSL, r.SpecDecoding, r.DPAttn}
			if _, ok := singleGroups[k]; !ok {
				singleOrder = append(singleOrder, k)
			}
			singleGroups[k] = append(singleGroups[k], i)
		}
	}
	for _, k := range singleOrder {
		members := singleGroups[k]
		var concs []int
		for _, i := range members {
			concs = append(concs, rows[i].Conc[0])
		}
		slices.Sort(concs)
		concs = slices.Compact(concs)
		highest, median := concs[len(concs)-1], concs[len(concs)/2]
		for _, i := range members {
			if c := rows[i].Conc[0]; c == highest || c == median {
				selected[i] = true
			}
		}
	}
	for _, b := range best {
		selected[b.row] = true
		evalConc[b.row] = b.conc
	}
	for _, b := range agenticBest {
		selected[b.row] = true
	}
	for i := range rows {
		rows[i].RunEval, rows[i].hasRunEval = selected[i], true
		if c, ok := evalConc[i]; ok {
			rows[i].EvalConc = c
		}
	}
}

// markAllEvals widens the selection to every 8k1k row and every agentic
// row. Multinode rows of one deployment merge into one row that runs its
// whole concurrency list: fixed-seq-len ones evaluate every concurrency
// (eval-all-concs), agentic ones (SWE-bench, one concurrency at a time)
// the highest.
func markAllEvals(rows []Row) []Row {
	out := make([]Row, 0, len(rows))
	merged := map[string]int{}
	mergeInto := func(key string, r Row) bool {
		at, ok := merged[key]
		if ok {
			out[at].Conc = sortedUnion(out[at].Conc, r.Conc)
			return true
		}
		merged[key] = len(out)
		return false
	}
	for _, r := range rows {
		switch {
		case r.Scenario == ScenarioAgentic && !r.Multinode:
			r.RunEval = true
		case r.Scenario == ScenarioAgentic:
			key := "agentic" + deploymentKey(r)
			if mergeInto(key, r) {
				out[merged[key]].EvalConc = slices.Max(out[merged[key]].Conc)
				continue
			}
			r.Conc, r.RunEval = sortedUnion(nil, r.Conc), true
			r.EvalConc = slices.Max(r.Conc)
		case !isEvalSeqLen(&r):
		case r.Multinode:
			if mergeInto("fixed"+deploymentKey(r), r) {
				continue
			}
			r.Conc, r.RunEval, r.EvalAllConcs, r.EvalConc = sortedUnion(nil, r.Conc), true, true, 0
		default:
			r.RunEval = true
		}
		out = append(out, r)
	}
	return out
}

func sortedUnion(a, b []int) []int {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
