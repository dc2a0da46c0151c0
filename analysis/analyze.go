package analysis

import (
	"cmp"
	"sort"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// Group is one comparable set of points: same model, precision and
// sequence lengths, across hardware and frameworks.
type Group struct {
	Model     string   `json:"model"`
	Precision string   `json:"precision"`
	ISL       int      `json:"isl"`
	OSL       int      `json:"osl"`
	Series    []Series `json:"series"`
	// Overall is the frontier over every series.
	Overall []Point `json:"overall_frontier"`
	// OverallE2E is the frontier of throughput per GPU against median
	// end-to-end latency (ms, lower is better) over every series.
	OverallE2E []Point `json:"overall_e2e_frontier"`
	// Cheapest lists, per target interactivity, the offers by cost.
	Cheapest []TargetOffers `json:"cheapest"`
}

// Series is one (hardware pool, framework, speculative decoding,
// multinode topology) curve.
type Series struct {
	Key          string `json:"key"` // SeriesName
	Runner       string `json:"runner"`
	Framework    string `json:"framework"`
	SpecDecoding string `json:"spec_decoding,omitempty"`
	Hardware     string `json:"hardware,omitempty"`
	// Topology is a multinode series' roles and parallelism, "" for
	// single-node ones.
	Topology string  `json:"topology,omitempty"`
	Points   int     `json:"points"`
	Frontier []Point `json:"frontier"`
	// E2EFrontier plots throughput per GPU against median E2E latency (ms).
	E2EFrontier []Point `json:"e2e_frontier"`
	// SessionFrontier plots an agentic series' throughput per GPU against
	// median session latency (ms, a whole task as its user waits for it);
	// empty for series that replay no sessions.
	SessionFrontier []Point `json:"session_frontier,omitempty"`
}

// SeriesName names a row's series: runner/framework, and +mtp (or
// whichever speculative decoding) for points that decode speculatively,
// since their curve is another one. Plain points keep the name they had
// before speculative decoding was told apart, so their history compares.
// A multinode point's series also names its deployment's roles and
// parallelism ("gb200/dynamo-sglang 1P (TP8/EP8/DPA) x 2D (TP16/EP16/DPA)"):
// each topology of an entry is a curve of its own, beside the
// single-node ones, and an agentic point that offloads its KV cache is a
// curve apart from one that keeps it in HBM ("… kv:dram/vllm-native").
func SeriesName(r results.PointRow) string {
	name := r.Runner + "/" + r.Framework
	if spec := specDecoding(r); spec != "" {
		name += "+" + spec
	}
	if tag := topologyTag(r); tag != "" {
		name += " " + tag
	}
	if tag := r.OffloadTag(); tag != "" {
		name += " " + tag
	}
	return name
}

// topologyTag is a multinode row's roles and parallelism, without its
// node count (the same workers on other nodes are the same curve); rows
// from before the deployment columns fall back to their Topology text.
func topologyTag(r results.PointRow) string {
	if r.IsMultinode {
		return r.DeploymentLabel()
	}
	return r.Topology
}

func specDecoding(r results.PointRow) string {
	if r.SpecDecoding == "none" {
		return ""
	}
	return r.SpecDecoding
}

// TargetOffers are the offers at one target interactivity.
type TargetOffers struct {
	Interactivity float64 `json:"interactivity"`
	Tier          Tier    `json:"tier"`
	Offers        []Offer `json:"offers"`
}

// DefaultTargets are the interactivities (tok/s/user) reports compare at.
var DefaultTargets = []float64{10, 20, 50, 100}

// Analyze groups a sweep's succeeded points and computes each series'
// frontier of throughput per GPU against interactivity (1000 / median
// TPOT), the overall frontier, and the cheapest series at each target.
// Points without either figure are left out, never filled in.
func Analyze(rows []results.PointRow, costs map[string]sweep.HardwareCost, tier Tier, targets []float64) []Group {
	type groupKey struct {
		model, precision string
		isl, osl         int32
	}
	byGroup := map[groupKey]map[string][]Point{}
	byGroupE2E := map[groupKey]map[string][]Point{}
	byGroupSession := map[groupKey]map[string][]Point{}
	meta := map[groupKey]map[string]Series{}
	for _, r := range rows {
		if r.Status != "succeeded" || r.TputPerGPU == nil || r.Interactivity == nil {
			continue
		}
		g := groupKey{r.Model, r.Precision, r.ISL, r.OSL}
		key := SeriesName(r)
		if byGroup[g] == nil {
			byGroup[g], byGroupE2E[g], byGroupSession[g], meta[g] = map[string][]Point{}, map[string][]Point{}, map[string][]Point{}, map[string]Series{}
		}
		pt := Point{ID: r.PointID, X: *r.Interactivity, Y: *r.TputPerGPU, Launch: r.LaunchFingerprint, Deployment: r.DeploymentID, Topology: r.Topology}
		byGroup[g][key] = append(byGroup[g][key], pt)
		if r.E2EL.Median != nil {
			pt.X = *r.E2EL.Median
			byGroupE2E[g][key] = append(byGroupE2E[g][key], pt)
		}
		if r.SessionLatency.Median != nil {
			pt.X = *r.SessionLatency.Median
			byGroupSession[g][key] = append(byGroupSession[g][key], pt)
		}
		hw, _ := HardwareOf(r.Runner, costs)
		meta[g][key] = Series{Key: key, Runner: r.Runner, Framework: r.Framework, SpecDecoding: specDecoding(r), Hardware: hw, Topology: topologyTag(r)}
	}
	keys := make([]groupKey, 0, len(byGroup))
	for g := range byGroup {
		keys = append(keys, g)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return cmp.Or(cmp.Compare(a.model, b.model), cmp.Compare(a.precision, b.precision), cmp.Compare(a.isl, b.isl), cmp.Compare(a.osl, b.osl)) < 0
	})
	var out []Group
	for _, g := range keys {
		group := Group{Model: g.model, Precision: g.precision, ISL: int(g.isl), OSL: int(g.osl)}
		frontiers := map[string][]Point{}
		hardware := map[string]string{}
		var all, allE2E []Point
		seriesKeys := make([]string, 0, len(byGroup[g]))
		for k := range byGroup[g] {
			seriesKeys = append(seriesKeys, k)
		}
		sort.Strings(seriesKeys)
		for _, k := range seriesKeys {
			s := meta[g][k]
			s.Points = len(byGroup[g][k])
			s.Frontier = Frontier(byGroup[g][k])
			s.E2EFrontier = LatencyFrontier(byGroupE2E[g][k])
			s.SessionFrontier = LatencyFrontier(byGroupSession[g][k])
			allE2E = append(allE2E, byGroupE2E[g][k]...)
			group.Series = append(group.Series, s)
			frontiers[k], hardware[k] = s.Frontier, s.Hardware
			all = append(all, byGroup[g][k]...)
		}
		group.Overall = Frontier(all)
		group.OverallE2E = LatencyFrontier(allE2E)
		for _, target := range targets {
			group.Cheapest = append(group.Cheapest, TargetOffers{Interactivity: target, Tier: tier, Offers: CheapestAt(frontiers, hardware, costs, tier, target)})
		}
		out = append(out, group)
	}
	return out
}
