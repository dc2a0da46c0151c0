package results

import (
	"fmt"
	"strings"

	"github.com/infersweep/infersweep/sweep"
)

func i32(v int) *int32 { n := int32(v); return &n }

func boolp(v bool) *bool { return &v }

func gpusOf(w *sweep.Workers) int { return w.NumWorker * w.TP * max(w.PP, 1) * max(w.PCPSize, 1) }

// SetTopology fills a multinode point's deployment columns, as
// process_result.py does from the PREFILL_* and DECODE_* variables the
// multinode workflow sets (843c625, lines 158-238), and its Topology
// label; a single-node point's stay null. An aggregated deployment
// (decode num-worker 0) is written as upstream writes it: its workers
// are the prefill role, decode has 0 GPUs, decode TP and EP 0 and
// decode PP, DCP and PCP 1 (lines 207-213).
func (p *PointRow) SetTopology(pt sweep.Point) {
	if !pt.Multinode || pt.Prefill == nil || pt.Decode == nil {
		return
	}
	pre, dec := pt.Prefill, pt.Decode
	p.IsMultinode, p.DeploymentID = true, pt.DeploymentID
	p.PrefillNumWorkers, p.PrefillTP, p.PrefillPP = i32(pre.NumWorker), i32(pre.TP), i32(max(pre.PP, 1))
	p.PrefillDCPSize, p.PrefillPCPSize, p.PrefillEP = i32(max(pre.DCPSize, 1)), i32(max(pre.PCPSize, 1)), i32(pre.EP)
	p.PrefillDPAttention, p.NumPrefillGPU = boolp(pre.DPAttn), i32(gpusOf(pre))
	p.DecodeNumWorkers, p.DecodeTP, p.DecodePP = i32(dec.NumWorker), i32(dec.TP), i32(max(dec.PP, 1))
	p.DecodeDCPSize, p.DecodePCPSize, p.DecodeEP = i32(max(dec.DCPSize, 1)), i32(max(dec.PCPSize, 1)), i32(dec.EP)
	p.DecodeDPAttention, p.NumDecodeGPU = boolp(dec.DPAttn), i32(gpusOf(dec))
	if *p.NumDecodeGPU == 0 {
		p.DecodeTP, p.DecodeEP, p.DecodePP, p.DecodeDCPSize, p.DecodePCPSize = i32(0), i32(0), i32(1), i32(1), i32(1)
	}
	if pre.Hardware != "" && dec.Hardware != "" { // upstream records both or neither
		p.PrefillHW, p.DecodeHW = pre.Hardware, dec.Hardware
	}
	if len(pt.Roles) > 0 {
		p.Nodes, p.PrefillNodes, p.DecodeNodes = i32(pt.Nodes), i32(0), i32(0)
		for _, r := range pt.Roles {
			switch r.Role {
			case sweep.RolePrefill, sweep.RoleAggregated:
				*p.PrefillNodes += int32(r.Nodes)
			case sweep.RoleDecode:
				*p.DecodeNodes += int32(r.Nodes)
			}
		}
	}
	p.Topology = p.DeploymentLabel()
	if p.Nodes != nil {
		p.Topology += fmt.Sprintf(", %d nodes", *p.Nodes)
	}
}

// Aggregated reports a multinode deployment whose workers serve both
// phases: upstream's decode num-worker 0, no decode GPUs.
func (p *PointRow) Aggregated() bool {
	return p.IsMultinode && p.NumDecodeGPU != nil && *p.NumDecodeGPU == 0
}

// DeploymentLabel names the deployment's roles and their parallelism the way
// upstream's multinode job names do (benchmark-multinode-tmpl.yml):
// "1P (TP8/EP8/DPA) x 2D (TP16/EP16/DPA)"; an aggregated one is
// "2× (TP16/EP16) aggregated". It is "" for a single-node row.
func (p *PointRow) DeploymentLabel() string {
	if !p.IsMultinode || p.PrefillNumWorkers == nil {
		return ""
	}
	prefill := parallelism(p.PrefillTP, p.PrefillPP, p.PrefillDCPSize, p.PrefillPCPSize, p.PrefillEP, p.PrefillDPAttention)
	if p.Aggregated() {
		return fmt.Sprintf("%d× (%s) aggregated", *p.PrefillNumWorkers, prefill)
	}
	decode := parallelism(p.DecodeTP, p.DecodePP, p.DecodeDCPSize, p.DecodePCPSize, p.DecodeEP, p.DecodeDPAttention)
	return fmt.Sprintf("%dP (%s) x %dD (%s)", *p.PrefillNumWorkers, prefill, val(p.DecodeNumWorkers), decode)
}

// parallelism is upstream's TP8/PP2/DCP2/PCP2/EP8/DPA: TP always, the
// others only when not 1, DPA with DP attention.
func parallelism(tp, pp, dcp, pcp, ep *int32, dpa *bool) string {
	parts := []string{fmt.Sprintf("TP%d", val(tp))}
	for _, f := range []struct {
		name string
		v    *int32
	}{{"PP", pp}, {"DCP", dcp}, {"PCP", pcp}, {"EP", ep}} {
		if f.v != nil && *f.v != 1 && *f.v != 0 {
			parts = append(parts, fmt.Sprintf("%s%d", f.name, *f.v))
		}
	}
	if dpa != nil && *dpa {
		parts = append(parts, "DPA")
	}
	return strings.Join(parts, "/")
}

func val(v *int32) int32 {
	if v == nil {
		return 0
	}
	return *v
}

// gpuDenominators are what process_result.py divides throughput by:
// total over all GPUs, input over prefill GPUs, output over decode GPUs
// or, with none (aggregated), over all (lines 201-234); a single-node row
// divides all three by its GPUs (lines 264-266). 0 means no denominator.
func (p *PointRow) gpuDenominators() (total, input, output float64) {
	if p.IsMultinode && p.NumPrefillGPU != nil && p.NumDecodeGPU != nil {
		prefill, decode := float64(*p.NumPrefillGPU), float64(*p.NumDecodeGPU)
		total, input, output = prefill+decode, prefill, decode
		if decode <= 0 {
			output = total
		}
		return total, input, output
	}
	g := float64(p.GPUs)
	return g, g, g
}

// UpstreamEnv is the environment InferenceX's workflows give
// utils/process_result.py for this row (benchmark-multinode-tmpl.yml
// for a multinode one, with PREFILL_GPUS and DECODE_GPUS as its Process
// result step derives them), less the run's own RUNNER_TYPE, FRAMEWORK,
// RESULT_FILENAME and the like: with it, the script divides a result
// file of ours as SummaryFigures does.
func (p *PointRow) UpstreamEnv() []string {
	n := func(v *int32) string { return fmt.Sprint(val(v)) }
	b := func(v *bool) string { return fmt.Sprint(v != nil && *v) }
	if !p.IsMultinode {
		return []string{"IS_MULTINODE=false", "DISAGG=false", fmt.Sprintf("TP=%d", p.TP), fmt.Sprintf("EP_SIZE=%d", p.EP),
			fmt.Sprintf("DP_ATTENTION=%t", p.DPAttn), fmt.Sprintf("PP_SIZE=%d", max(p.PP, 1)),
			fmt.Sprintf("DCP_SIZE=%d", max(p.DCPSize, 1)), fmt.Sprintf("PCP_SIZE=%d", max(p.PCPSize, 1))}
	}
	env := []string{"IS_MULTINODE=true", fmt.Sprintf("DISAGG=%t", p.Disagg),
		"PREFILL_GPUS=" + n(p.NumPrefillGPU), "PREFILL_NUM_WORKERS=" + n(p.PrefillNumWorkers), "PREFILL_TP=" + n(p.PrefillTP),
		"PREFILL_PP_SIZE=" + n(p.PrefillPP), "PREFILL_DCP_SIZE=" + n(p.PrefillDCPSize), "PREFILL_PCP_SIZE=" + n(p.PrefillPCPSize),
		"PREFILL_EP=" + n(p.PrefillEP), "PREFILL_DP_ATTN=" + b(p.PrefillDPAttention),
		"DECODE_GPUS=" + n(p.NumDecodeGPU), "DECODE_NUM_WORKERS=" + n(p.DecodeNumWorkers), "DECODE_TP=" + n(p.DecodeTP),
		"DECODE_PP_SIZE=" + n(p.DecodePP), "DECODE_DCP_SIZE=" + n(p.DecodeDCPSize), "DECODE_PCP_SIZE=" + n(p.DecodePCPSize),
		"DECODE_EP=" + n(p.DecodeEP), "DECODE_DP_ATTN=" + b(p.DecodeDPAttention)}
	if p.PrefillHW != "" {
		env = append(env, "PREFILL_HARDWARE="+p.PrefillHW, "DECODE_HARDWARE="+p.DecodeHW)
	}
	return env
}
