package main

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine"
)

func TestEngineSimCacheFlags(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantNoCache bool
		wantDRAMGB  float64
		wantErr     string
	}{
		{"prefix cache on by default, no DRAM tier", nil, false, 0, ""},
		{"vLLM's off switch", []string{"--no-enable-prefix-caching"}, true, 0, ""},
		{"the boolean form too", []string{"--enable-prefix-caching=false"}, true, 0, ""},
		{"upstream's spelling", []string{"--kv-offloading", "dram", "--cpu-dram-gb", "1199"}, false, 1199, ""},
		{"vLLM's spelling, GiB", []string{"--kv-offloading-backend", "native", "--kv-offloading-size", "100"}, false, 107.3741824, ""},
		{"vLLM's underscores", []string{"--kv_offloading_backend", "native", "--kv_offloading_size", "1"}, false, 1.073741824, ""},
		{"dram without a budget", []string{"--kv-offloading", "dram"}, false, 0, "--kv-offloading dram: pass --cpu-dram-gb"},
		{"a budget without dram", []string{"--cpu-dram-gb", "100"}, false, 0, "--cpu-dram-gb 100: the DRAM tier is off; add --kv-offloading dram"},
		{"an unknown tier", []string{"--kv-offloading", "ssd"}, false, 0, `--kv-offloading "ssd": want none or dram`},
		{"a backend without a size", []string{"--kv-offloading-backend", "native"}, false, 0, "--kv-offloading-backend native: pass --kv-offloading-size"},
		{"a size without a backend", []string{"--kv-offloading-size", "10"}, false, 0, "add --kv-offloading-backend native"},
		{"an unknown backend", []string{"--kv-offloading-backend", "mooncake", "--kv-offloading-size", "10"}, false, 0, `--kv-offloading-backend "mooncake": want native or lmcache`},
		{"two sizes", []string{"--kv-offloading", "dram", "--cpu-dram-gb", "10", "--kv-offloading-backend", "native", "--kv-offloading-size", "10"}, false, 0, "pass one"},
		{"offload without the cache", []string{"--kv-offloading", "dram", "--cpu-dram-gb", "10", "--no-enable-prefix-caching"}, true, 0, "the DRAM tier holds prefix-cache blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f cacheFlags
			fl := pflag.NewFlagSet("sim", pflag.ContinueOnError)
			f.register(fl)
			fl.SetNormalizeFunc(vllmFlagNames)
			require.NoError(t, fl.Parse(tt.args))
			var cfg simengine.EngineConfig
			err := f.apply(&cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorAs(t, err, new(usageError), "a usage error: exit 2")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantNoCache, cfg.NoPrefixCaching)
			require.InDelta(t, tt.wantDRAMGB, cfg.CPUDRAMGB, 1e-9)
		})
	}
}

func TestEngineSimCacheFlagErrorsExitUsage(t *testing.T) {
	code, _, stderr := runCLI(t, "engine", "sim", "--kv-offloading", "dram", "--port", "0")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "pass --cpu-dram-gb with the replica's host-memory budget in GB")
}
