package recipes

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/sweep"
)

// multinodeGolden is one upstream deployment's launch, role by role.
type multinodeGolden struct {
	Entry  string              `yaml:"entry"`
	Conc   int                 `yaml:"conc"`
	Recipe string              `yaml:"recipe"`
	Roles  map[string][]string `yaml:"roles"`
	Env    map[string][]string `yaml:"env,omitempty"`
}

func goldenOf(p sweep.Point) multinodeGolden {
	g := multinodeGolden{Entry: p.Entry, Conc: p.Conc, Recipe: p.Launch.Recipe, Roles: map[string][]string{}, Env: map[string][]string{}}
	for _, r := range p.Launch.Roles {
		g.Roles[r.Role] = r.Launch.Args
		for k, v := range r.Launch.Env {
			g.Env[r.Role] = append(g.Env[r.Role], k+"="+v)
		}
		slices.Sort(g.Env[r.Role])
	}
	if len(g.Env) == 0 {
		g.Env = nil // as the golden file reads back: env left out
	}
	return g
}

// TestMultinodeGoldenLaunches renders the first deployments of each
// framework in the snapshot, per scenario, and compares every role's argv
// and environment with the goldens; the agentic file also holds the
// simulated engine standing in for a DRAM-offloading deployment
// (AttachSimulated). UPDATE_GOLDEN=1 rewrites them; read the diff against
// upstream's scripts and srt-slurm recipes before committing it.
func TestMultinodeGoldenLaunches(t *testing.T) {
	for _, tc := range []struct {
		scenario, file string
		perFramework   int
		simulatedDRAM  bool
	}{
		{sweep.ScenarioFixedSeqLen, "testdata/golden/multinode/launches.yaml", 2, false},
		{sweep.ScenarioAgentic, "testdata/golden/multinode/agentic-launches.yaml", 1, true},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			var got []multinodeGolden
			perFramework := map[string]int{}
			for _, p := range upstreamMultinode(t).Points {
				if p.Scenario != tc.scenario || perFramework[p.Framework] == tc.perFramework {
					continue
				}
				perFramework[p.Framework]++
				got = append(got, goldenOf(p))
			}
			if tc.simulatedDRAM {
				got = append(got, simulatedDRAMGolden(t))
			}
			compareGolden(t, tc.file, got)
		})
	}
}

// simulatedDRAMGolden is sim-multinode's launch of the snapshot's first
// multinode agentic point that offloads KV to DRAM.
func simulatedDRAMGolden(t *testing.T) multinodeGolden {
	t.Helper()
	plan := planUpstream(t, AttachSimulated, sweep.Filters{ScenarioType: sweep.ScenarioAgentic, MultiNode: true})
	for _, p := range plan.Points {
		if p.KVOffloading == "dram" {
			return goldenOf(p)
		}
	}
	t.Fatal("the snapshot has no multinode agentic point offloading to DRAM")
	return multinodeGolden{}
}

// compareGolden compares got with the YAML golden file, or rewrites the
// file under UPDATE_GOLDEN=1.
func compareGolden[T any](t *testing.T, file string, got []T) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		data, err := yaml.Marshal(got)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
		require.NoError(t, os.WriteFile(file, data, 0o644))
		return
	}
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var want []T
	require.NoError(t, yaml.Unmarshal(data, &want))
	require.Equal(t, want, got)
}
