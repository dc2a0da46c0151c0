package recipes

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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
