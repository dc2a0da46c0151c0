package devfleet

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

// fleetShape is what sizing decided: the simulated runners file and, for
// a simulated real fleet, how many runners each label has there.
type fleetShape struct {
	runners     string
	realRunners map[string]int
}

// sizedRunners writes a runners file of simulated pools sized to the
// demo's plan into dir: one pool per runner label with points, with as
// many nodes as its widest deployment needs (one for single-node
// points). Without a runners file the labels are the spec's and the
// hardware the catalogue's; with one (--simulate) the plan is made
// against it, so upstream's labels and filters select exactly what a
// real night would, and each label's hardware is the file's.
func sizedRunners(specs []string, runners, settings string, filters sweep.Filters, simulate bool, dir string) (fleetShape, error) {
	path := filepath.Join(dir, "sized-runners.yaml")
	shape := fleetShape{runners: path}
	hardware := map[string]sweep.RunnerHardware{}
	planRunners := runners
	if runners == "" {
		// A first plan on one node per pool says how wide each deployment is.
		labels, err := specLabels(specs)
		if err != nil {
			return fleetShape{}, err
		}
		if err := writeRunners(path, labels, hardware); err != nil {
			return fleetShape{}, err
		}
		planRunners = path
	} else {
		real, err := sweep.ReadRunners(runners)
		if err != nil {
			return fleetShape{}, err
		}
		shape.realRunners = map[string]int{}
		for label, nodes := range real.Labels {
			shape.realRunners[label] = len(nodes)
		}
		hardware = real.Hardware
	}
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: specs, Runners: planRunners, Settings: settings, Launches: launches(simulate)}, filters)
	if err != nil {
		return fleetShape{}, err
	}
	if len(plan.Points) == 0 {
		return fleetShape{}, errors.New("the spec and filters select no points: nothing to simulate")
	}
	nodes := map[string]int{}
	for _, p := range plan.Points {
		nodes[p.RunnerLabel] = max(nodes[p.RunnerLabel], p.Nodes, 1)
	}
	return shape, writeRunners(path, nodes, hardware)
}

// launches renders what the demo's engines run: every point on the
// simulator standing in for its framework when a real fleet is simulated.
func launches(simulate bool) sweep.Launcher {
	if simulate {
		return recipes.AttachSimulated
	}
	return recipes.Attach
}

// specLabels gives every runner label the specs name one node.
func specLabels(specs []string) (map[string]int, error) {
	labels := map[string]int{}
	for _, spec := range specs {
		data, err := os.ReadFile(spec)
		if err != nil {
			return nil, err
		}
		entries, errs := sweep.ParseMaster(spec, data)
		if err := errs.Err(); err != nil {
			return nil, err
		}
		for _, e := range entries {
			labels[e.Runner] = 1
		}
	}
	return labels, nil
}

// writeRunners writes a runners file of simulated nodes <label>-<i>; node
// hardware is hardware's, else the catalogue's by the label's GPU (8
// GPUs when the label names none).
func writeRunners(path string, nodes map[string]int, hardware map[string]sweep.RunnerHardware) error {
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
		hw, ok := hardware[l]
		if !ok {
			hw, ok = catalogue[sweep.SKU(l, catalogue)]
		}
		if !ok {
			hw = sweep.RunnerHardware{GPUsPerNode: 8, AvailableCPUDRAMMiB: 2_000_000}
		}
		fmt.Fprintf(&b, "  %q:\n    gpus-per-node: %d\n    available-cpu-dram-mib: %d\n", l, hw.GPUsPerNode, hw.AvailableCPUDRAMMiB)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
