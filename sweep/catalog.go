package sweep

import "strings"

// DefaultNodeHardware is what one node of each GPU SKU in upstream's
// matrix has, for runner labels runners.yaml gives no hardware entry
// (upstream writes them only for some labels). GPUs per node are the
// SKUs' standard servers (GB200/GB300 NVL72 trays hold 4); CPU DRAM is
// the smallest available-cpu-dram-mib upstream's runners.yaml (commit
// 843c6254, 2026-08-22) records for a cluster of that SKU. Settings
// (node-hardware) override it by label or SKU.
func DefaultNodeHardware() map[string]RunnerHardware {
	return map[string]RunnerHardware{
		"h100":       {GPUsPerNode: 8, AvailableCPUDRAMMiB: 1_998_848},
		"h200":       {GPUsPerNode: 8, AvailableCPUDRAMMiB: 1_471_356},
		"b200":       {GPUsPerNode: 8, AvailableCPUDRAMMiB: 2_063_920},
		"b300":       {GPUsPerNode: 8, AvailableCPUDRAMMiB: 2_964_436},
		"gb200":      {GPUsPerNode: 4, AvailableCPUDRAMMiB: 860_160},
		"gb300":      {GPUsPerNode: 4, AvailableCPUDRAMMiB: 860_160},
		"rtx6000pro": {GPUsPerNode: 8, AvailableCPUDRAMMiB: 1_500_000},
		"mi300x":     {GPUsPerNode: 8, AvailableCPUDRAMMiB: 2_321_924},
		"mi325x":     {GPUsPerNode: 8, AvailableCPUDRAMMiB: 3_091_589},
		"mi355x":     {GPUsPerNode: 8, AvailableCPUDRAMMiB: 3_095_781},
	}
}

// SKU is the GPU a runner label (or its pool name) names: the first of
// its '-'-separated words (after cluster:) that the catalogue knows, as in
// h200, b200-multinode, cluster:mi355x-amds, cluster.mi355x-amds or
// sim-h100; "" when none is. Any table keyed by GPU serves as catalogue:
// node hardware, prices.
func SKU[V any](label string, catalogue map[string]V) string {
	for _, word := range strings.Split(strings.TrimPrefix(RunnerLabel(label), ClusterLabelPrefix), "-") {
		if _, ok := catalogue[strings.ToLower(word)]; ok {
			return strings.ToLower(word)
		}
	}
	return ""
}

// NodeHardware is what one node of a label has: runners.yaml's hardware
// entry, else the catalogue's entry for the label, else for its SKU.
func NodeHardware(label string, runners Runners, catalogue map[string]RunnerHardware) (RunnerHardware, bool) {
	if hw, ok := runners.Hardware[label]; ok {
		return hw, true
	}
	if hw, ok := catalogue[label]; ok {
		return hw, true
	}
	hw, ok := catalogue[SKU(label, catalogue)]
	return hw, ok
}
