package calibrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/simengine"
	"github.com/infersweep/infersweep/sweep"
)

// Config is one deployment of a search space at one concurrency, as the
// simulator runs it: a single engine of TP GPUs with conc requests.
type Config struct {
	Framework string
	TP, EP    int
	DPAttn    bool
	Conc      int
	// GPUShare is the decode GPUs' share of a disaggregated deployment's
	// GPUs (1 for aggregated ones): the sim runs one decode worker with
	// local prefill, and its throughput per GPU is spread over the
	// prefill GPUs too.
	GPUShare float64
}

func (c Config) String() string {
	s := fmt.Sprintf("%s tp%d", c.Framework, c.TP)
	if c.EP > 1 {
		s += fmt.Sprintf(" ep%d", c.EP)
	}
	if c.DPAttn {
		s += " dpa"
	}
	return s + fmt.Sprintf(" conc%d", c.Conc)
}

// Space is the configurations upstream's master configs run for a
// series: entries of its model-prefix, precision and hardware SKU (and
// framework family, when the series names one), without speculative
// decoding, which the simulator does not model. Sequence lengths are not
// matched: upstream now runs DeepSeek-R1 at 8k/1k only, and its search
// space stands for the 1k/1k curves the dashboard published earlier.
func Space(plan *sweep.Plan, s Series) []Config {
	catalogue := sweep.DefaultNodeHardware()
	seen := map[Config]bool{}
	var out []Config
	for _, r := range plan.Rows {
		if r.ModelPrefix != s.Prefix || r.Precision != s.Precision || r.Scenario != sweep.ScenarioFixedSeqLen ||
			sweep.SKU(r.Label, catalogue) != strings.ToLower(s.Hardware) ||
			(r.SpecDecoding != "" && r.SpecDecoding != "none") ||
			(s.Framework != "" && simengine.FrameworkFamily(r.Framework) != simengine.FrameworkFamily(s.Framework)) {
			continue
		}
		for _, c := range rowConfigs(r) {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b Config) int { return strings.Compare(a.key(), b.key()) })
	return out
}

func (c Config) key() string {
	return fmt.Sprintf("%s %04d %04d %v %06d", c.Framework, c.TP, c.EP, c.DPAttn, c.Conc)
}

// rowConfigs: a single-node row is one config; a disaggregated row runs
// its concurrency list over num-worker decode workers.
func rowConfigs(r sweep.Row) []Config {
	if r.Decode == nil {
		var out []Config
		for _, c := range r.Conc {
			out = append(out, Config{Framework: r.Framework, TP: r.TP, EP: r.EP, DPAttn: r.DPAttn, Conc: c, GPUShare: 1})
		}
		return out
	}
	d := r.Decode
	workers := max(d.NumWorker, 1)
	decodeGPUs := float64(workers * d.TP)
	prefillGPUs := 0.0
	if r.Prefill != nil {
		prefillGPUs = float64(max(r.Prefill.NumWorker, 1) * r.Prefill.TP)
	}
	var out []Config
	for _, c := range r.Conc {
		out = append(out, Config{Framework: r.Framework, TP: d.TP, EP: d.EP, DPAttn: d.DPAttn,
			Conc: max(1, c/workers), GPUShare: decodeGPUs / (decodeGPUs + prefillGPUs)})
	}
	return out
}

// Sources are upstream's snapshot (sweep/testdata/upstream) plus the
// retired entries the table's older series need
// (simengine/testdata/legacy-masters.yaml), relative to the repository
// root.
func Sources(root string) sweep.Sources {
	at := func(p string) string { return strings.TrimSuffix(root, "/") + "/" + p }
	return sweep.Sources{
		Masters: []string{at("sweep/testdata/upstream/nvidia-master.yaml"), at("sweep/testdata/upstream/amd-master.yaml"),
			at("simengine/testdata/legacy-masters.yaml")},
		Runners: at("sweep/testdata/upstream/runners.yaml"),
	}
}
