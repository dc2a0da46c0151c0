package simengine

import (
	"slices"
	"time"
)

// Prediction is one point of a closed-loop load, computed on the virtual
// clock: what the sim would report, without waiting for it.
type Prediction struct {
	Concurrency int
	// TputPerGPU is (input + output) tokens/s per GPU; OutputTputPerGPU
	// counts output tokens only.
	TputPerGPU       float64
	OutputTputPerGPU float64
	// Interactivity is 1000 / median TPOT, tokens/s per user.
	Interactivity float64
	MedianTTFT    time.Duration
	MedianTPOT    time.Duration
}

// Predict runs requests of isl input and osl output tokens at a fixed
// concurrency until n have finished, the way a closed-loop benchmark
// drives a server: a new request arrives as soon as one finishes.
func Predict(cfg EngineConfig, isl, osl, concurrency, n int) (Prediction, error) {
	e, err := NewEngine(cfg)
	if err != nil {
		return Prediction{}, err
	}
	var nextID uint64
	add := func() {
		nextID++
		e.Add(&Sequence{ID: nextID, PromptLen: isl, MaxTokens: osl})
	}
	for range concurrency {
		add()
	}
	var ttfts, tpots []time.Duration
	var tokens int
	for len(ttfts) < n {
		res := e.Step()
		if res.Batch == 0 {
			break
		}
		for _, s := range res.Finished {
			ttfts = append(ttfts, s.FirstToken-s.Arrival)
			if s.MaxTokens > 1 {
				tpots = append(tpots, (s.LastToken-s.FirstToken)/time.Duration(s.MaxTokens-1))
			}
			tokens += s.PromptLen + s.MaxTokens
			add()
		}
	}
	slices.Sort(ttfts)
	slices.Sort(tpots)
	p := Prediction{Concurrency: concurrency, MedianTTFT: ttfts[len(ttfts)/2]}
	seconds := e.Clock().Seconds()
	p.TputPerGPU = float64(tokens) / seconds / float64(cfg.TP)
	p.OutputTputPerGPU = p.TputPerGPU * float64(osl) / float64(isl+osl)
	if len(tpots) > 0 {
		p.MedianTPOT = tpots[len(tpots)/2]
		p.Interactivity = 1000 / (float64(p.MedianTPOT) / float64(time.Millisecond))
	}
	return p, nil
}

// CurvePoint is one point of a predicted throughput/interactivity curve,
// under the names a sweep's results use.
type CurvePoint struct {
	Hardware         string  `json:"hardware"`
	ISL              int     `json:"isl"`
	OSL              int     `json:"osl"`
	Concurrency      int     `json:"concurrency"`
	TputPerGPU       float64 `json:"tput_per_gpu"`
	OutputTputPerGPU float64 `json:"output_tput_per_gpu"`
	Interactivity    float64 `json:"interactivity"`
	MedianTTFTms     float64 `json:"median_ttft_ms"`
	MedianTPOTms     float64 `json:"median_tpot_ms"`
	TimeBasis        string  `json:"time_basis"`
}

// PredictCurve predicts each engine config at each concurrency, closed
// loop with 2·concurrency requests of isl/osl tokens, as a sweep of those
// points would measure them.
func PredictCurve(cfgs []EngineConfig, isl, osl int, concurrency []int) ([]CurvePoint, error) {
	var out []CurvePoint
	for _, cfg := range cfgs {
		cfg.MaxModelLen = max(cfg.MaxModelLen, isl+osl)
		for _, c := range concurrency {
			p, err := Predict(cfg, isl, osl, c, 2*c)
			if err != nil {
				return nil, err
			}
			out = append(out, CurvePoint{cfg.Hardware.Name, isl, osl, c, p.TputPerGPU, p.OutputTputPerGPU, p.Interactivity,
				float64(p.MedianTTFT) / 1e6, float64(p.MedianTPOT) / 1e6, "simulated (model prediction)"})
		}
	}
	return out, nil
}
