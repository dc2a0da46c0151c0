package analysis

import (
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// Tiers are the price tiers, in the order pages list them.
var Tiers = []Tier{TierHyperscaler, TierNeocloud, TierRental3Y}

// Deployment kinds a dashboard filters on.
const (
	KindSingleNode    = "single-node"
	KindMultinode     = "multinode"
	KindDisaggregated = "disaggregated"
)

// Figures are what one plotted point's row implies under a cost table:
// the fields the dashboard draws and exports beside the row. Figures
// that a missing price or power leaves unknown are nil.
type Figures struct {
	Hardware string `parquet:"hardware,dict" json:"hardware"`
	// Series is the point's curve within its group (SeriesName).
	Series string `parquet:"series,dict" json:"series"`
	// Kind is single-node, multinode or disaggregated.
	Kind string `parquet:"deployment_kind,dict" json:"deployment_kind"`
	// SpecName is the speculative decoding, "none" for plain decoding.
	SpecName string `parquet:"spec_name,dict" json:"spec_name"`

	USDPerMTokHyperscaler *float64 `parquet:"usd_per_mtok_hyperscaler,optional" json:"usd_per_mtok_hyperscaler"`
	USDPerMTokNeocloud    *float64 `parquet:"usd_per_mtok_neocloud,optional" json:"usd_per_mtok_neocloud"`
	USDPerMTokRental3Y    *float64 `parquet:"usd_per_mtok_rental_3y,optional" json:"usd_per_mtok_rental_3y"`
	// TokPerSecPerMW assumes the hardware's all-in power per GPU.
	TokPerSecPerMW *float64 `parquet:"tok_s_per_mw,optional" json:"tok_s_per_mw"`
	// JPerToken is the measured J/token when power was sampled, else the
	// one the hardware's all-in power per GPU implies.
	JPerToken *float64 `parquet:"j_per_token,optional" json:"j_per_token"`

	// OnFrontier and OnE2EFrontier: the point is on its series' Pareto
	// frontier against interactivity, or against median E2E latency.
	OnFrontier    bool `parquet:"on_frontier" json:"on_frontier"`
	OnE2EFrontier bool `parquet:"on_e2e_frontier" json:"on_e2e_frontier"`
	// OnSessionFrontier: an agentic point is on its series' frontier of
	// throughput per GPU against median session latency (lower is better).
	OnSessionFrontier bool `parquet:"on_session_frontier" json:"on_session_frontier"`
}

// USDPerMTok is the cost per million tokens in tier t.
func (f Figures) USDPerMTok(t Tier) *float64 { return *f.usdSlot(t) }

// Plotted are the rows a chart of throughput per GPU draws (succeeded,
// with both figures, as Analyze keeps them) and their figures, in row
// order. Frontier membership is Analyze's.
func Plotted(rows []results.PointRow, costs map[string]sweep.HardwareCost) ([]results.PointRow, []Figures) {
	onFront, onE2E, onSession := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, g := range Analyze(rows, costs, TierHyperscaler, nil) {
		for _, s := range g.Series {
			for _, p := range s.Frontier {
				onFront[p.ID] = true
			}
			for _, p := range s.E2EFrontier {
				onE2E[p.ID] = true
			}
			for _, p := range s.SessionFrontier {
				onSession[p.ID] = true
			}
		}
	}
	var kept []results.PointRow
	var figures []Figures
	for _, r := range rows {
		if r.Status != "succeeded" || r.TputPerGPU == nil || r.Interactivity == nil {
			continue
		}
		f := figuresOf(r, costs)
		f.OnFrontier, f.OnE2EFrontier, f.OnSessionFrontier = onFront[r.PointID], onE2E[r.PointID], onSession[r.PointID]
		kept = append(kept, r)
		figures = append(figures, f)
	}
	return kept, figures
}

func figuresOf(r results.PointRow, costs map[string]sweep.HardwareCost) Figures {
	f := Figures{Series: SeriesName(r), Kind: KindSingleNode, SpecName: specDecoding(r)}
	switch {
	case r.Disagg:
		f.Kind = KindDisaggregated
	case r.IsMultinode:
		f.Kind = KindMultinode
	}
	if f.SpecName == "" {
		f.SpecName = "none"
	}
	hw, priced := HardwareOf(r.Runner, costs)
	f.Hardware = hw
	if !priced {
		// Unpriced hardware still filters by its runner label.
		f.Hardware = r.Runner
	}
	tput := *r.TputPerGPU
	cost := costs[hw]
	for _, t := range Tiers {
		if v, ok := CostPerMillionTokens(price(cost, t), tput); ok {
			*f.usdSlot(t) = &v
		}
	}
	if v, ok := TokensPerSecondPerMW(tput, cost.KWPerGPU); ok {
		f.TokPerSecPerMW = &v
	}
	f.JPerToken = r.JoulesPerToken
	if v, ok := JoulesPerToken(cost.KWPerGPU, tput); ok && f.JPerToken == nil {
		f.JPerToken = &v
	}
	return f
}

// usdSlot is the field holding tier t's cost.
func (f *Figures) usdSlot(t Tier) **float64 {
	switch t {
	case TierNeocloud:
		return &f.USDPerMTokNeocloud
	case TierRental3Y:
		return &f.USDPerMTokRental3Y
	}
	return &f.USDPerMTokHyperscaler
}

// ExportRow is a point's row with its figures: what the dashboard's CSV
// and Parquet exports hold, one per plotted point.
type ExportRow struct {
	results.PointRow
	Figures
}
