package analysis

import (
	"math"
	"slices"
	"sort"

	"github.com/infersweep/infersweep/sweep"
)

// Tier names a price tier of a GPU-hour.
type Tier string

const (
	TierHyperscaler Tier = "hyperscaler"
	TierNeocloud    Tier = "neocloud"
	TierRental3Y    Tier = "rental-3y"
)

func price(c sweep.HardwareCost, t Tier) float64 {
	switch t {
	case TierNeocloud:
		return c.Neocloud
	case TierRental3Y:
		return c.Rental3Y
	}
	return c.Hyperscaler
}

// CostPerMillionTokens is $/GPU-hour ÷ (tokens/s per GPU · 3600 / 1e6).
// ok is false when either figure is missing.
func CostPerMillionTokens(usdPerGPUHour, tputPerGPU float64) (float64, bool) {
	if usdPerGPUHour <= 0 || tputPerGPU <= 0 || math.IsNaN(tputPerGPU) {
		return 0, false
	}
	return usdPerGPUHour / (tputPerGPU * 3600 / 1e6), true
}

// TokensPerSecondPerMW is tokens/s per GPU · 1000 / all-in kW per GPU.
func TokensPerSecondPerMW(tputPerGPU, kwPerGPU float64) (float64, bool) {
	if kwPerGPU <= 0 || tputPerGPU <= 0 {
		return 0, false
	}
	return tputPerGPU * 1000 / kwPerGPU, true
}

// JoulesPerToken is kW per GPU · 1000 / tokens/s per GPU.
func JoulesPerToken(kwPerGPU, tputPerGPU float64) (float64, bool) {
	if kwPerGPU <= 0 || tputPerGPU <= 0 {
		return 0, false
	}
	return kwPerGPU * 1000 / tputPerGPU, true
}

// HardwareOf maps a runner label to a hardware name of the cost table:
// sim-h100, h100-cw, H100 or cluster:h100-dgxc (cluster.h100-dgxc as a
// pool) all mean h100.
func HardwareOf(runner string, costs map[string]sweep.HardwareCost) (string, bool) {
	sku := sweep.SKU(runner, costs)
	return sku, sku != ""
}

// Offer is one series' best throughput at a target interactivity and what
// a million tokens cost there.
type Offer struct {
	Series       string
	Hardware     string
	TputPerGPU   float64
	USDPerMTok   float64
	Interpolated bool // false when the target is a measured point
	// TokPerSecPerMW and JoulesPerToken assume the hardware's all-in
	// power per GPU (settings), not a measurement; nil without one.
	TokPerSecPerMW *float64
	JoulesPerToken *float64
}

// CheapestAt answers "which hardware is cheapest at N tok/s/user": each
// series' frontier is interpolated at the target (series whose frontier
// does not reach it are left out), priced in the tier, and sorted by cost.
func CheapestAt(frontiers map[string][]Point, hardware map[string]string, costs map[string]sweep.HardwareCost, tier Tier, target float64) []Offer {
	var offers []Offer
	series := make([]string, 0, len(frontiers))
	for s := range frontiers {
		series = append(series, s)
	}
	sort.Strings(series)
	for _, s := range series {
		front := frontiers[s]
		tput, ok := InterpolateAt(front, target)
		if !ok {
			continue
		}
		interpolated := !slices.ContainsFunc(front, func(p Point) bool { return p.X == target })
		cost, ok := costs[hardware[s]]
		if !ok {
			continue
		}
		usd, ok := CostPerMillionTokens(price(cost, tier), tput)
		if !ok {
			continue
		}
		offer := Offer{Series: s, Hardware: hardware[s], TputPerGPU: tput, USDPerMTok: usd, Interpolated: interpolated}
		if v, ok := TokensPerSecondPerMW(tput, cost.KWPerGPU); ok {
			offer.TokPerSecPerMW = &v
		}
		if v, ok := JoulesPerToken(cost.KWPerGPU, tput); ok {
			offer.JoulesPerToken = &v
		}
		offers = append(offers, offer)
	}
	sort.SliceStable(offers, func(i, j int) bool { return offers[i].USDPerMTok < offers[j].USDPerMTok })
	return offers
}
