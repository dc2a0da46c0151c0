package recipes

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/specyaml"
	"github.com/infersweep/infersweep/sweep"
)

const goodRecipe = `recipes:
  - name: r1
    match: {framework: vllm}
    family: vllm
    command: vllm serve {{.Model}}
`

// TestBadRecipeFiles: each file's every problem, at file:line:col with
// the field's path, as spec files report them.
func TestBadRecipeFiles(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
	}{
		{"empty", ``, []string{"bad.yaml: file is empty"}},
		{"not yaml", "recipes: [\n", []string{"bad.yaml:1:1: not valid YAML: did not find expected node content"}},
		{"no recipes", "other: 1\n", []string{"bad.yaml:1:1: other: unknown field (want one of recipes)"}},
		{"recipes not a list", "recipes: {a: 1}\n", []string{"bad.yaml:1:10: recipes: got a mapping, want a list"}},
		{"unknown field", goodRecipe + "    flags: [--x]\n", []string{"bad.yaml:6:5: recipes[0].flags: unknown field (want one of name, source, match, family, image, command, env, files, ready, config-failures, mounts, stop-grace, roles, frontend, control-plane, srt-slurm)"}},
		{"no name", "recipes:\n  - match: {framework: vllm}\n    family: vllm\n    command: x\n", []string{"bad.yaml:2:5: recipes[0].name: required"}},
		{"bad name", "recipes:\n  - name: R_1\n    match: {framework: vllm}\n    family: vllm\n    command: x\n", []string{`bad.yaml:2:11: recipes[0].name: "R_1": lowercase letters, digits, '.' and '-'`}},
		{"no framework", "recipes:\n  - name: r\n    match: {precision: [fp8]}\n    family: vllm\n    command: x\n", []string{"bad.yaml:3:12: recipes[0].match.framework: required: the framework the recipe starts (sim, vllm, sglang, trt, atom, ...)"}},
		{"unknown hardware", "recipes:\n  - name: r\n    match: {framework: vllm, hardware: [h300]}\n    family: vllm\n    command: x\n", []string{`bad.yaml:3:41: recipes[0].match.hardware[0]: "h300" is no GPU SKU (want one of b200, b300, gb200, gb300, h100, h200, mi300x, mi325x, mi355x, rtx6000pro)`}},
		{"hardware not a list", "recipes:\n  - name: r\n    match: {framework: vllm, hardware: h200}\n    family: vllm\n    command: x\n", []string{`bad.yaml:3:40: recipes[0].match.hardware: got "h200", want a list`}},
		{"unknown family", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: tgi\n    command: x\n", []string{`bad.yaml:4:13: recipes[0].family: "tgi": want one of atom, sglang, sim, trt, vllm`}},
		{"no command", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: vllm\n", []string{"bad.yaml:2:5: recipes[0].command: required: the engine's command line"}},
		{"bad template", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: vllm\n    command: vllm serve {{.Model\n", []string{"bad.yaml:5:14: recipes[0].command: not a template: unclosed action"}},
		{"unknown function", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: vllm\n    command: vllm {{pow .TP 2}}\n", []string{`bad.yaml:5:14: recipes[0].command: not a template: function "pow" not defined`}},
		{"bad env template", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: vllm\n    command: x\n    env: {A: '{{if}}'}\n", []string{"bad.yaml:6:14: recipes[0].env.A: not a template: missing value for if"}},
		{"relative file path", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: vllm\n    command: x\n    files: {cfg.yaml: 'a: 1'}\n", []string{"bad.yaml:6:23: recipes[0].files.cfg.yaml: want an absolute path"}},
		{"bad ready path", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: vllm\n    command: x\n    ready: {path: health}\n", []string{`bad.yaml:6:19: recipes[0].ready.path: "health": want a path starting with /`}},
		{"bad duration", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: vllm\n    command: x\n    stop-grace: soon\n", []string{`bad.yaml:6:17: recipes[0].stop-grace: got "soon", want a duration like 10m or 6h`}},
		{"bad mount", "recipes:\n  - name: r\n    match: {framework: vllm}\n    family: vllm\n    command: x\n    mounts: [/dev/shm]\n", []string{`bad.yaml:6:14: recipes[0].mounts[0]: "/dev/shm": want /host/path:/container/path`}},
		{"multinode without roles", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    frontend: {command: x}\n",
			[]string{"bad.yaml:2:5: recipes[0].roles: required: a multinode recipe launches prefill and decode, or aggregated, workers"}},
		{"multinode with a command", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    command: x\n    roles: {aggregated: {command: y}}\n    frontend: {command: z}\n",
			[]string{"bad.yaml:5:14: recipes[0].command: a multinode recipe has no command: each of its roles has one"}},
		{"prefill without decode", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    roles:\n      prefill: {command: y}\n    frontend: {command: z}\n",
			[]string{"bad.yaml:6:7: recipes[0].roles: a disaggregated deployment gets both prefill and decode workers: give both roles"}},
		{"unknown role", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    roles:\n      aggregated: {command: y}\n      router: {command: y}\n    frontend: {command: z}\n",
			[]string{`bad.yaml:7:15: recipes[0].roles.router: "router" is no role: want one of prefill, decode, aggregated`}},
		{"role without command", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    roles:\n      aggregated: {image: y}\n    frontend: {command: z}\n",
			[]string{"bad.yaml:6:19: recipes[0].roles.aggregated.command: required: the aggregated worker's command line"}},
		{"no frontend", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    roles:\n      aggregated: {command: y}\n",
			[]string{"bad.yaml:2:5: recipes[0].frontend.command: required: the router in front of the workers"}},
		{"bad role template", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    roles:\n      aggregated: {command: '{{.TP'}\n    frontend: {command: z}\n",
			[]string{"bad.yaml:6:29: recipes[0].roles.aggregated.command: not a template: unclosed action"}},
		{"bad role ready", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    roles:\n      aggregated: {command: y, ready: {path: health}}\n    frontend: {command: z}\n",
			[]string{`bad.yaml:6:46: recipes[0].roles.aggregated.ready.path: "health": want a path starting with /`}},
		{"control plane without command", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    roles:\n      aggregated: {command: y}\n    frontend: {command: z}\n    control-plane: {image: etcd}\n",
			[]string{"bad.yaml:8:20: recipes[0].control-plane.command: required: what starts the control plane (etcd, nats-server)"}},
		{"control plane ready port", "recipes:\n  - name: r\n    match: {framework: dynamo-trt, multinode: true}\n    family: trt\n    roles:\n      aggregated: {command: y}\n    frontend: {command: z}\n    control-plane: {command: etcd, ready: {path: /health, port: 70000}}\n",
			[]string{"bad.yaml:8:65: recipes[0].control-plane.ready.port: 70000: want a TCP port (1-65535), or none for the engine's own"}},
		{"single-node with a control plane", goodRecipe + "    control-plane: {command: etcd}\n",
			[]string{"bad.yaml:6:20: recipes[0].control-plane: only a multinode recipe (match.multinode: true) has a control plane"}},
		{"single-node with roles", goodRecipe + "    roles: {prefill: {command: y}}\n    frontend: {command: z}\n",
			[]string{"bad.yaml:6:12: recipes[0].roles: only a multinode recipe (match.multinode: true) has roles", "bad.yaml:7:15: recipes[0].frontend: only a multinode recipe (match.multinode: true) has a frontend"}},
		{"twice in one file", goodRecipe + "  - name: r1\n    match: {framework: vllm, precision: [fp8]}\n    family: vllm\n    command: x\n",
			[]string{`bad.yaml:6: recipe "r1" is defined twice (also at bad.yaml:2)`}},
		{"unknown scenario", "recipes:\n  - name: r\n    match: {framework: vllm, scenario: [agentic]}\n    family: vllm\n    command: x\n",
			[]string{`bad.yaml:3:41: recipes[0].match.scenario[0]: "agentic" is no scenario (want fixed-seq-len or agentic-coding)`}},
		{"overlapping in a scenario both serve", goodRecipe + "  - name: r2\n    match: {framework: vllm, scenario: [agentic-coding, fixed-seq-len]}\n    family: vllm\n    command: x\n",
			[]string{`bad.yaml:6: recipe "r2" matches the same points as "r1" (bad.yaml:2) as specifically: narrow one of them`}},
		{"overlapping", goodRecipe + "  - name: r2\n    match: {framework: vllm}\n    family: vllm\n    command: x\n",
			[]string{`bad.yaml:6: recipe "r2" matches the same points as "r1" (bad.yaml:2) as specifically: narrow one of them`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadOnly(map[string]string{"bad.yaml": tt.file})
			require.Error(t, err)
			var got []string
			for _, e := range err.(specyaml.Errors) {
				got = append(got, e.Error())
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// A recipe left without scenario serves fixed-seq-len points only: an
// agentic recipe of the same match is no overlap, and each launches only
// its own scenario's points.
func TestScenarioPartitionsThePoints(t *testing.T) {
	c, err := loadOnly(map[string]string{"ours.yaml": goodRecipe + "  - name: r1-agentic\n    match: {framework: vllm, scenario: [agentic-coding]}\n    family: vllm\n    command: y\n"})
	require.NoError(t, err)
	tests := []struct {
		scenario, want string
	}{
		{sweep.ScenarioFixedSeqLen, "r1"},
		{"", "r1"},
		{sweep.ScenarioAgentic, "r1-agentic"},
	}
	for _, tt := range tests {
		rc, err := c.Find(sweep.Point{Framework: "vllm", Scenario: tt.scenario})
		require.NoError(t, err)
		require.Equal(t, tt.want, rc.Name, "scenario %q", tt.scenario)
	}
	only, err := loadOnly(map[string]string{"ours.yaml": goodRecipe})
	require.NoError(t, err)
	_, err = only.Find(sweep.Point{Framework: "vllm", Scenario: sweep.ScenarioAgentic, ModelPrefix: "m", Precision: "fp8"})
	require.EqualError(t, err, "no single-node agentic-coding recipe matches framework vllm, model-prefix m, precision fp8, hardware (none: runner ), spec-decoding none")
}

// loadOnly loads files without the shipped catalogue, so a test's
// recipes meet no shipped one.
func loadOnly(files map[string]string) (*Catalogue, error) {
	var names []string
	for name := range files {
		names = append(names, name)
	}
	read := func(name string) ([]byte, error) {
		if data, ok := files[name]; ok {
			return []byte(data), nil
		}
		return nil, fmt.Errorf("no file %s", name)
	}
	return load(read, names, false)
}
