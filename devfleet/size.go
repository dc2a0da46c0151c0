package devfleet

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

// sizedRunners writes, for a spec given without runners, a runners file
// of simulated pools sized to it into dir: one pool per runner label the
// spec names, with as many nodes as its widest deployment needs (one for
// single-node points), each node as the hardware catalogue has it.
func sizedRunners(spec, settings, dir string) (string, error) {
	data, err := os.ReadFile(spec)
	if err != nil {
		return "", err
	}
	entries, errs := sweep.ParseMaster(spec, data)
	if err := errs.Err(); err != nil {
		return "", err
	}
	nodes := map[string]int{}
	for _, e := range entries {
		nodes[e.Runner] = 1
	}
	path := filepath.Join(dir, "sized-runners.yaml")
	// A first plan on one node per pool says how wide each deployment is.
	if err := writeRunners(path, nodes); err != nil {
		return "", err
	}
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{spec}, Runners: path, Settings: settings, Launches: recipes.Attach}, sweep.Filters{})
	if err != nil {
		return "", err
	}
	for _, p := range plan.Points {
		nodes[p.RunnerLabel] = max(nodes[p.RunnerLabel], p.Nodes)
	}
	return path, writeRunners(path, nodes)
}

// writeRunners writes a runners file of simulated nodes <label>-<i>; node
// hardware comes from the catalogue by the label's GPU (8 GPUs when the
// label names none).
func writeRunners(path string, nodes map[string]int) error {
	var b strings.Builder
	b.WriteString("# Simulated pools sized to the demo's spec by `infersweep demo`.\nlabels:\n")
	labels := slices.Sorted(maps.Keys(nodes))
	catalogue := sweep.DefaultNodeHardware()
	for _, l := range labels {
		var names []string
		for i := range nodes[l] {
			names = append(names, fmt.Sprintf("%q", fmt.Sprintf("%s-%d", strings.TrimPrefix(l, sweep.ClusterLabelPrefix), i)))
		}
		fmt.Fprintf(&b, "  %q: [%s]\n", l, strings.Join(names, ", "))
	}
	b.WriteString("hardware:\n")
	for _, l := range labels {
		hw, ok := catalogue[sweep.SKU(l, catalogue)]
		if !ok {
			hw = sweep.RunnerHardware{GPUsPerNode: 8, AvailableCPUDRAMMiB: 2_000_000}
		}
		fmt.Fprintf(&b, "  %q:\n    gpus-per-node: %d\n    available-cpu-dram-mib: %d\n", l, hw.GPUsPerNode, hw.AvailableCPUDRAMMiB)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
