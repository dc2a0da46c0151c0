package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/infersweep/infersweep/simengine"
)

// cacheFlags are sim's prefix-cache and KV-offload flags, in upstream
// InferenceX's spelling (kv-offloading, total-cpu-dram-gb) and in vLLM's
// (--kv-offloading-backend, --kv-offloading-size), so that a launch line
// written for either runs on the simulator.
type cacheFlags struct {
	enablePrefixCaching, noPrefixCaching bool
	kvOffloading                         string
	cpuDRAMGB                            float64
	offloadBackend                       string
	offloadSizeGiB                       float64
}

func (f *cacheFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&f.enablePrefixCaching, "enable-prefix-caching", true, "reuse the KV blocks of earlier prompts that share a prefix (vLLM V1's default)")
	fl.BoolVar(&f.noPrefixCaching, "no-enable-prefix-caching", false, "turn the prefix cache off, as vLLM's flag of that name does")
	fl.StringVar(&f.kvOffloading, "kv-offloading", "none", "KV-cache tier behind HBM: none or dram (upstream's kv-offloading); dram needs --cpu-dram-gb")
	fl.Float64Var(&f.cpuDRAMGB, "cpu-dram-gb", 0, "host memory for the DRAM tier, GB (1e9 bytes) for the whole replica: upstream's total-cpu-dram-gb, already the replica's share of the node")
	fl.StringVar(&f.offloadBackend, "kv-offloading-backend", "", "vLLM's spelling of a DRAM tier: native (or lmcache), with --kv-offloading-size")
	fl.Float64Var(&f.offloadSizeGiB, "kv-offloading-size", 0, "vLLM's spelling of the DRAM tier's size: GiB summed over the TP ranks")
}

// gib is vLLM's unit for --kv-offloading-size.
const gib = 1 << 30

// apply sets cfg's cache fields, refusing combinations a user would not
// mean, with the flag to change.
func (f *cacheFlags) apply(cfg *simengine.EngineConfig) error {
	cfg.NoPrefixCaching = f.noPrefixCaching || !f.enablePrefixCaching
	dramGB := 0.0
	switch strings.ToLower(f.kvOffloading) {
	case "", "none":
		if f.cpuDRAMGB > 0 {
			return usageError{fmt.Errorf("--cpu-dram-gb %g: the DRAM tier is off; add --kv-offloading dram", f.cpuDRAMGB)}
		}
	case "dram":
		if f.cpuDRAMGB <= 0 {
			return usageError{fmt.Errorf("--kv-offloading dram: pass --cpu-dram-gb with the replica's host-memory budget in GB (upstream's total-cpu-dram-gb)")}
		}
		dramGB = f.cpuDRAMGB
	default:
		return usageError{fmt.Errorf("--kv-offloading %q: want none or dram", f.kvOffloading)}
	}
	switch b := strings.ToLower(f.offloadBackend); {
	case b == "" && f.offloadSizeGiB > 0:
		return usageError{fmt.Errorf("--kv-offloading-size %g: add --kv-offloading-backend native", f.offloadSizeGiB)}
	case b == "":
	case b != "native" && b != "lmcache":
		return usageError{fmt.Errorf("--kv-offloading-backend %q: want native or lmcache (both simulated as one DRAM tier)", f.offloadBackend)}
	case f.offloadSizeGiB <= 0:
		return usageError{fmt.Errorf("--kv-offloading-backend %s: pass --kv-offloading-size in GiB", b)}
	case dramGB > 0:
		return usageError{fmt.Errorf("--kv-offloading-size and --cpu-dram-gb both size the DRAM tier: pass one")}
	default:
		dramGB = f.offloadSizeGiB * gib / 1e9
	}
	if dramGB > 0 && cfg.NoPrefixCaching {
		return usageError{fmt.Errorf("--no-enable-prefix-caching: the DRAM tier holds prefix-cache blocks; drop it or the offloading flags")}
	}
	cfg.CPUDRAMGB = dramGB
	return nil
}

// vllmFlagNames lets sim take vLLM's underscore spellings
// (--kv_offloading_size), as vLLM's own argument parser does.
func vllmFlagNames(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
}
