package recipes

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/sweep"
)

// goldenPoint is a point as the goldens write it.
type goldenPoint struct {
	Model        string `yaml:"model"`
	ModelPrefix  string `yaml:"model-prefix"`
	Precision    string `yaml:"precision"`
	Hardware     string `yaml:"hardware"`
	Runner       string `yaml:"runner"`
	Image        string `yaml:"image"`
	Framework    string `yaml:"framework"`
	SpecDecoding string `yaml:"spec-decoding"`
	ISL          int    `yaml:"isl"`
	OSL          int    `yaml:"osl"`
	Conc         int    `yaml:"conc"`
	TP           int    `yaml:"tp"`
	EP           int    `yaml:"ep"`
	PP           int    `yaml:"pp"`
	DPAttn       bool   `yaml:"dp-attn"`
	DCPSize      int    `yaml:"dcp-size"`
	GPUs         int    `yaml:"gpus"`
	MaxModelLen  int    `yaml:"max-model-len"`
	// EvalOnly: the sweep runs only the point's eval (--evals-only).
	EvalOnly bool `yaml:"eval-only"`
	// An agentic point's facts; a golden without scenario is fixed-seq-len.
	Scenario         string `yaml:"scenario"`
	KVOffloading     string `yaml:"kv-offloading"`
	KVOffloadBackend string `yaml:"kv-offload-backend"`
	TotalCPUDRAMGB   int    `yaml:"total-cpu-dram-gb"`
}

func (g goldenPoint) point() sweep.Point {
	p := sweep.Point{Model: g.Model, ModelPrefix: g.ModelPrefix, Precision: g.Precision, Runner: sweep.PoolName(g.Runner), RunnerLabel: g.Runner,
		Image: g.Image, Framework: g.Framework, SpecDecoding: g.SpecDecoding, ISL: g.ISL, OSL: g.OSL, Conc: g.Conc, TP: g.TP, EP: g.EP,
		PP: g.PP, DPAttn: g.DPAttn, DCPSize: g.DCPSize, GPUs: g.GPUs, MaxModelLen: g.MaxModelLen, Scenario: sweep.ScenarioFixedSeqLen,
		Eval: g.EvalOnly, EvalOnly: g.EvalOnly}
	if g.Scenario != "" {
		p.Scenario, p.KVOffloading, p.TotalCPUDRAMGB, p.DurationSeconds = g.Scenario, g.KVOffloading, g.TotalCPUDRAMGB, sweep.AgenticDurationSeconds
	}
	if g.KVOffloadBackend != "" {
		p.KVOffloadBack = &sweep.Component{Name: g.KVOffloadBackend}
	}
	return p
}

// TestGoldenLaunches renders each golden point with the shipped catalogue:
// the goldens' argv were written by hand from the upstream script each
// recipe reproduces, so this checks the recipes flag by flag.
func TestGoldenLaunches(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		var golden struct {
			Cases []struct {
				Name   string            `yaml:"name"`
				Point  goldenPoint       `yaml:"point"`
				Recipe string            `yaml:"recipe"`
				Argv   []string          `yaml:"argv"`
				Env    map[string]string `yaml:"env"`
				Files  map[string]string `yaml:"files"`
				Image  string            `yaml:"image"`
			} `yaml:"cases"`
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		require.NoError(t, dec.Decode(&golden), file)
		for _, c := range golden.Cases {
			t.Run(filepath.Base(file)+"/"+c.Name, func(t *testing.T) {
				p := c.Point.point()
				require.Equal(t, c.Point.Hardware, hardware(p), "the runner's SKU")
				l, err := Default().Launch(p)
				require.NoError(t, err)
				require.Equal(t, c.Recipe, l.Recipe)
				require.Equal(t, c.Argv, l.Args)
				if len(c.Env) == 0 {
					require.Empty(t, l.Env)
				} else {
					require.Equal(t, c.Env, l.Env)
				}
				if len(c.Files) > 0 {
					require.Equal(t, c.Files, l.Files)
				}
				if c.Image != "" {
					require.Equal(t, c.Image, l.Image)
				}
				require.Len(t, l.Fingerprint, 64)
			})
		}
	}
}
