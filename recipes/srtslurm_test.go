package recipes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/specyaml"
	"github.com/infersweep/infersweep/sweep"
)

// srtEntries are the snapshot's entries whose every CONFIG_FILE is
// copied into testdata/upstream: SGLang disaggregated (a decode worker
// over four GB200 nodes), SGLang MTP, SGLang agentic aggregated,
// TRT-LLM agentic aggregated over two nodes and disaggregated MTP, vLLM
// disaggregated and agentic.
var srtEntries = []string{
	"qwen3.5-fp8-gb200-dynamo-sglang", "dsv4-fp4-b200-dynamo-sglang-mtp", "dsv4-fp8-h200-dynamo-sglang-agentic-agg",
	"glm5.2-fp4-gb300-dynamo-trt-agentic-agg-mtp", "dsv4-fp4-gb300-dynamo-trt-agentx",
	"dsv4-fp4-b300-dynamo-vllm", "kimik3-fp4-b200-dynamo-vllm-agentic",
}

// planSrt plans entries of the snapshot with testdata/upstream as the
// upstream checkout.
func planSrt(t *testing.T, upstream string, entries ...string) (*sweep.Plan, error) {
	t.Helper()
	dir := "../sweep/testdata/upstream"
	return sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml")}, Runners: filepath.Join(dir, "runners.yaml"),
		Launches: Attach, Upstream: upstream}, sweep.Filters{MultiNode: true, ConfigKeys: entries})
}

func TestEveryEntryWithCopiedSrtSlurmRecipesRenders(t *testing.T) {
	plan, err := planSrt(t, "testdata/upstream", srtEntries...)
	require.NoError(t, err)
	require.NotEmpty(t, plan.Points)
}

// srtGolden is one deployment rendered from its srt-slurm recipe: each
// role's argv, environment and files.
type srtGolden struct {
	multinodeGolden `yaml:",inline"`
	Config          string                       `yaml:"config"`
	Files           map[string]map[string]string `yaml:"files,omitempty"`
}

// TestSrtSlurmGoldenLaunches renders the first point of each entry per
// CONFIG_FILE and compares every role with the golden file.
// UPDATE_GOLDEN=1 rewrites it; read the diff against srt-slurm's
// build_worker_command before committing it.
func TestSrtSlurmGoldenLaunches(t *testing.T) {
	plan, err := planSrt(t, "testdata/upstream", srtEntries...)
	require.NoError(t, err)
	var got []srtGolden
	seen := map[string]bool{}
	for _, p := range plan.Points {
		config := settings(p)["CONFIG_FILE"]
		if seen[config] {
			continue
		}
		seen[config] = true
		g := srtGolden{multinodeGolden: goldenOf(p), Config: config, Files: map[string]map[string]string{}}
		for _, r := range p.Launch.Roles {
			if len(r.Launch.Files) > 0 {
				g.Files[r.Role] = r.Launch.Files
			}
		}
		if len(g.Files) == 0 {
			g.Files = nil // as the golden file reads back: files left out
		}
		got = append(got, g)
	}
	compareGolden(t, "testdata/golden/multinode/srt-slurm-launches.yaml", got)
}

// aggEntry is an aggregated SGLang entry (one worker at TP 8 on an H200
// node) with a single CONFIG_FILE, which the error cases rewrite.
const (
	aggEntry  = "dsv4-fp8-h200-dynamo-sglang-agentic-agg"
	aggConfig = "benchmarks/multi_node/srt-slurm-recipes/sglang/deepseek-v4/agentic/agg-h200-tp8-mtp-kvoffload.yaml"
)

// upstreamWith is an upstream checkout holding aggConfig as text.
func upstreamWith(t *testing.T, text string) string {
	t.Helper()
	root := t.TempDir()
	file := filepath.Join(root, filepath.FromSlash(aggConfig))
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
	require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
	return root
}

const aggResources = "resources: {gpu_type: h200, gpus_per_node: 8, agg_nodes: 1, agg_workers: 1}\n"

func TestSrtSlurmRecipeProblemsArePlanningErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"missing", "", []string{aggConfig + ": cannot read the entry's CONFIG_FILE: not in the upstream checkout testdata/no-checkout" +
			" (upstream's runner may take it from the srt-slurm branch it clones)"}},
		{"not yaml", aggResources + "backend:\n  type: sglang\n  sglang_config: [\n", []string{aggConfig + ":4:1: not valid YAML: did not find expected node content"}},
		{"another backend", aggResources + "backend: {type: trtllm}\n", []string{aggConfig + `: backend.type: "trtllm", but framework dynamo-sglang runs srt-slurm's sglang backend`}},
		{"tp", aggResources + "backend:\n  sglang_config:\n    aggregated:\n      tp-size: 4\n",
			[]string{aggConfig + ":5:16: backend.sglang_config.aggregated.tp-size: 4, but the point's aggregated workers have tp 8"}},
		{"dp attention", aggResources + "backend:\n  sglang_config:\n    aggregated:\n      enable-dp-attention: true\n",
			[]string{aggConfig + ":5:28: backend.sglang_config.aggregated.enable-dp-attention: true, but the point's aggregated workers have dp-attn false"}},
		{"workers", "resources: {gpus_per_node: 8, agg_nodes: 1, agg_workers: 2}\n", []string{
			aggConfig + ":1:42: resources.gpus_per_agg: 4 GPUs per worker, but the point's aggregated workers have 8 (tp 8 × pp 1)",
			aggConfig + ":1:58: resources.agg_workers: 2, but the point's deployment has 1 aggregated workers"}},
		{"disaggregated file", "resources: {prefill_nodes: 1, decode_nodes: 1, prefill_workers: 1, decode_workers: 1}\n",
			[]string{aggConfig + ": resources.agg_workers: the file deploys no aggregated workers, but the point has 1"}},
		{"a mapping flag", aggResources + "backend:\n  sglang_config:\n    aggregated:\n      json-model-override-args: {a: 1}\n",
			[]string{aggConfig + ":5:33: backend.sglang_config.aggregated.json-model-override-args: got a mapping: srt-slurm would pass its Python repr, want a scalar"}},
		{"frontend", aggResources + "frontend: {type: sglang}\n", []string{aggConfig + `:2:18: frontend.type: "sglang": the recipe starts srt-slurm's dynamo frontend only`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := "testdata/no-checkout"
			if tc.file != "" {
				root = upstreamWith(t, tc.file)
			}
			_, err := planSrt(t, root, aggEntry)
			var errs specyaml.Errors
			require.ErrorAs(t, err, &errs)
			var got []string
			for _, e := range errs {
				require.Contains(t, e.Msg, "(entry "+aggEntry+": point ")
				msg, _, _ := strings.Cut(e.Error(), " (entry ")
				got = append(got, msg)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// An override file's variant (CONFIG_FILE=…yaml:zip_override_x[0]) is
// refused, not rendered from its base.
func TestSrtSlurmOverrideSelectorsAreRefused(t *testing.T) {
	_, err := planSrt(t, "testdata/upstream", "glm5.2-fp4-gb300-dynamo-sglang-agentic-disagg")
	require.ErrorContains(t, err, `benchmarks/multi_node/srt-slurm-recipes/sglang/glm5.2/gb300-fp4/agentic/glm5.2-agentx.yaml: CONFIG_FILE selects variant "zip_override_mtp_agentx_lowlat[0]" of an override file`)
}

// Without the upstream checkout the workers are the generic ones, as
// before; with it, the file's bytes are in the fingerprint: a comment
// added upstream plans the deployment again.
func TestSrtSlurmRecipeBytesAreInTheFingerprint(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata/upstream", aggConfig))
	require.NoError(t, err)
	fingerprint := func(upstream string) string {
		plan, err := planSrt(t, upstream, aggEntry)
		require.NoError(t, err)
		require.NotEmpty(t, plan.Points)
		return plan.Points[0].Launch.Fingerprint
	}
	generic, tuned := fingerprint(""), fingerprint(upstreamWith(t, string(data)))
	commented := fingerprint(upstreamWith(t, string(data)+"# retuned upstream\n"))
	require.NotEqual(t, generic, tuned)
	require.NotEqual(t, tuned, commented)
	require.Equal(t, tuned, fingerprint("testdata/upstream"))
}

// Engine config values reach the command line as srt-slurm's Python
// str() writes them.
func TestSrtSlurmConfigFlags(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"mem-fraction-static: 0.8", "--mem-fraction-static 0.8"},
		{"ratio: 1e-05", "--ratio 1e-05"},
		{"ratio: 100.0", "--ratio 100.0"},
		{"n: 0x10", "--n 16"},
		{"trust-remote-code: true", "--trust-remote-code"},
		{"disable-cuda-graph: false", ""},
		{"enable-metrics: yes", "--enable-metrics"},
		{"x: null", ""},
		{"cuda_graph_bs: [1, 2, 4]", "--cuda-graph-bs 1 2 4"},
		{"flags: [true, 0.5]", "--flags True 0.5"},
		{`speculative-config: '{"method": "mtp"}'`, `--speculative-config '{"method": "mtp"}'`},
		{"b: 1\na: 2\nA_b: 3", "--A-b 3 --a 2 --b 1"},
		{"model-path: /model\nserved-model-name: m\ntp: 4", "--tp 4"},
		{"<<: {a: 1, b: 2}\nb: 3", "--a 1 --b 3"},
	} {
		var doc yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte(tc.yaml), &doc))
		var errs specyaml.Errors
		got := shellJoin(configArgs(specyaml.Reporter{File: "f", Errs: &errs}, "c", doc.Content[0], flagKeys["sglang"]))
		require.Empty(t, errs, tc.yaml)
		require.Equal(t, tc.want, got, tc.yaml)
	}
}
