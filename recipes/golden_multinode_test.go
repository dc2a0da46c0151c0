package recipes

import (
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// multinodeGolden is one upstream deployment's launch, role by role.
type multinodeGolden struct {
	Entry  string              `yaml:"entry"`
	Conc   int                 `yaml:"conc"`
	Recipe string              `yaml:"recipe"`
	Roles  map[string][]string `yaml:"roles"`
	Env    map[string][]string `yaml:"env,omitempty"`
}

const multinodeGoldens = "testdata/golden/multinode/launches.yaml"

// TestMultinodeGoldenLaunches renders the first two deployments of each
// framework in the snapshot and compares every role's argv and
// environment with the goldens. UPDATE_GOLDEN=1 rewrites them; read the
// diff against upstream's scripts before committing it.
func TestMultinodeGoldenLaunches(t *testing.T) {
	var got []multinodeGolden
	perFramework := map[string]int{}
	for _, p := range upstreamMultinode(t).Points {
		if p.Launch == nil || perFramework[p.Framework] == 2 {
			continue
		}
		perFramework[p.Framework]++
		g := multinodeGolden{Entry: p.Entry, Conc: p.Conc, Recipe: p.Launch.Recipe, Roles: map[string][]string{}, Env: map[string][]string{}}
		for _, r := range p.Launch.Roles {
			g.Roles[r.Role] = r.Launch.Args
			for k, v := range r.Launch.Env {
				g.Env[r.Role] = append(g.Env[r.Role], k+"="+v)
			}
			slices.Sort(g.Env[r.Role])
		}
		got = append(got, g)
	}
	if os.Getenv("UPDATE_GOLDEN") != "" {
		data, err := yaml.Marshal(got)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll("testdata/golden/multinode", 0o755))
		require.NoError(t, os.WriteFile(multinodeGoldens, data, 0o644))
		return
	}
	data, err := os.ReadFile(multinodeGoldens)
	require.NoError(t, err)
	var want []multinodeGolden
	require.NoError(t, yaml.Unmarshal(data, &want))
	require.Equal(t, want, got)
}
