package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestSweepPlanOfTheExample(t *testing.T) {
	code, stdout, stderr := runCLI(t, "sweep", "plan", "-f", "../../examples/sweep.yaml", "--runners", "../../examples/runners.yaml", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var plan struct {
		Counts struct {
			Total    int            `json:"total"`
			ByRunner map[string]int `json:"by_runner"`
		} `json:"counts"`
		Points []struct {
			ID        string `json:"id"`
			TaskQueue string `json:"task_queue"`
			Conc      int    `json:"conc"`
		} `json:"points"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &plan))
	require.Equal(t, 22, plan.Counts.Total)
	require.Equal(t, map[string]int{"sim-h100": 9, "sim-h200": 8, "sim-mi355x": 5}, plan.Counts.ByRunner)
	require.Equal(t, "hw-sim-h100", plan.Points[0].TaskQueue)
	require.Len(t, plan.Points[0].ID, 16)

	code, stdout, _ = runCLI(t, "sweep", "plan", "-f", "../../examples/sweep.yaml", "--runners", "../../examples/runners.yaml", "--runner-type", "sim-h200", "--max-conc", "8", "-o", "yaml")
	require.Equal(t, exitOK, code)
	var asYAML map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(stdout), &asYAML))
	require.EqualValues(t, 4, asYAML["counts"].(map[string]any)["total"], "tp8 4,8 and tp4 4,8")

	code, stdout, _ = runCLI(t, "sweep", "plan", "-f", "../../examples/sweep.yaml", "--runners", "../../examples/runners.yaml", "--validate")
	require.Equal(t, exitOK, code)
	require.Equal(t, "valid: 3 entries, 22 points\n", stdout)
}

func TestSweepPlanRefusesBadInput(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"every error, nothing planned", []string{"-f", "../../sweep/testdata/invalid/33-every-error-listed.yaml", "--runners", "../../sweep/testdata/runners.yaml"},
			"5 problems, nothing planned:\n../../sweep/testdata/invalid/33-every-error-listed.yaml:5:11: e1.runner: runner label \"h300\""},
		{"no runners file", []string{"-f", "../../examples/sweep.yaml"}, "need at least one -f master config and --runners"},
		{"conflicting filters", []string{"-f", "x", "--runners", "y", "--single-node", "--multi-node"}, "--single-node and --multi-node exclude each other"},
		{"bad output", []string{"-f", "x", "--runners", "y", "-o", "csv"}, `--output "csv": want text, json or yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"sweep", "plan"}, tt.args...)...)
			require.Equal(t, exitUsage, code)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tt.wantErr)
		})
	}
}
