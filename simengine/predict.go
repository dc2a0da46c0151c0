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
