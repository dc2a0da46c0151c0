package launch

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

// upstreamMultinode plans the snapshot's multinode points with the
// shipped catalogue, as `sweep plan` does.
func upstreamMultinode(t *testing.T) []sweep.Point {
	t.Helper()
	dir := "../sweep/testdata/upstream"
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml"), filepath.Join(dir, "amd-master.yaml")},
		Runners: filepath.Join(dir, "runners.yaml"), Launches: recipes.Attach}, sweep.Filters{MultiNode: true})
	require.NoError(t, err)
	var served []sweep.Point
	for _, p := range plan.Points {
		if recipes.Served(p) {
			served = append(served, p)
		}
	}
	require.Len(t, served, 906) // 642 fixed-seq-len, 264 agentic-coding
	return served
}

var placeholder = regexp.MustCompile(`\$\{[A-Z_]+\}`)

// TestRenderRoleFillsEveryPlaceholder: each role of every upstream
// deployment renders with nothing left for a start to fill.
func TestRenderRoleFillsEveryPlaceholder(t *testing.T) {
	for _, p := range upstreamMultinode(t) {
		for _, rl := range p.Launch.Roles {
			rs := RoleSpec{Spec: Spec{Point: p, Name: "e", Port: 8000, TimeScale: 1}, Role: rl.Role, Worker: 1, Rank: 1, Nodes: 2,
				MasterAddr: "10.0.0.1", PrefillURLs: []string{"http://10.0.0.1:8001", "http://10.0.0.2:8001"},
				DecodeURLs: []string{"http://10.0.0.3:8001"}, WorkerURLs: []string{"http://10.0.0.1:8001"}}
			cmd, err := RenderRole(rs, "/bin/infersweep", "0.0.0.0")
			require.NoError(t, err, "%s %s", p.Entry, rl.Role)
			all := strings.Join(append(append([]string(nil), cmd.Args...), cmd.Env...), " ")
			for _, f := range cmd.Files {
				all += f
			}
			require.Empty(t, placeholder.FindAllString(all, -1), "%s (%s) role %s", p.Entry, p.Framework, rl.Role)
		}
	}
}

// TestRenderRoleOfTheSimulatedEngine: the values a start knows land in
// the flags the simulated engine and router read.
func TestRenderRoleOfTheSimulatedEngine(t *testing.T) {
	p := simDeployment(t)
	rs := RoleSpec{Spec: Spec{Point: p, Name: "e", Port: 9001, TimeScale: 10}, Role: sweep.RoleDecode, Nodes: 1, MasterAddr: "n2"}
	cmd, err := RenderRole(rs, "/bin/infersweep", "127.0.0.1")
	require.NoError(t, err)
	require.Equal(t, "/bin/infersweep engine sim --role decode --model llama-3.3-70b --hardware h100 --precision fp8 --tp 4 --ep 4 --dp-attn "+
		"--host 127.0.0.1 --port 9001 --max-num-seqs 512 --max-model-len 2048 "+
		"--served-model-name meta-llama/Llama-3.3-70B-Instruct --time-scale 10 --seed "+cmd.Args[len(cmd.Args)-1], strings.Join(cmd.Args, " "))
	rs.Role, rs.PrefillURLs, rs.DecodeURLs = sweep.RoleFrontend, []string{"http://a:1", "http://b:1"}, []string{"http://c:1"}
	cmd, err = RenderRole(rs, "/bin/infersweep", "127.0.0.1")
	require.NoError(t, err)
	require.Equal(t, "/bin/infersweep engine router --prefill http://a:1,http://b:1 --decode http://c:1 --host 127.0.0.1 --port 9001", strings.Join(cmd.Args, " "))
	_, err = Render(Spec{Point: p}, "x", "h")
	require.ErrorIs(t, err, ErrNoRecipe)
}

// simDeployment is a planned 2P1D deployment of the simulated engine.
func simDeployment(t *testing.T) sweep.Point {
	t.Helper()
	p := sweep.Point{ID: "sim1", Framework: "sim", Multinode: true, Disagg: true, Model: "meta-llama/Llama-3.3-70B-Instruct", ModelPrefix: "llama",
		Precision: "fp8", Runner: "sim-h100", RunnerLabel: "sim-h100", Conc: 8, MaxModelLen: 2048, KVP2PTransfer: "nixl",
		Scenario: sweep.ScenarioFixedSeqLen, Image: "infersweep",
		Prefill: &sweep.Workers{NumWorker: 2, TP: 8, EP: 1}, Decode: &sweep.Workers{NumWorker: 1, TP: 4, EP: 4, DPAttn: true}}
	p.Roles = []sweep.RoleShape{
		{Role: sweep.RolePrefill, Workers: 2, GPUsPerWorker: 8, NodesPerWorker: 1, WorkersPerNode: 1, Nodes: 2},
		{Role: sweep.RoleDecode, Workers: 1, GPUsPerWorker: 4, NodesPerWorker: 1, WorkersPerNode: 2, Nodes: 1},
	}
	p.Nodes = 3
	l, err := recipes.Default().Launch(p)
	require.NoError(t, err)
	p.Launch = l
	return p
}

// TestDeploymentScriptHasAStepPerWorker: one allocation of the
// deployment's nodes, one srun step per worker on its nodes, the
// frontend and, where the recipe has one, the control plane, for every
// upstream deployment.
func TestDeploymentScriptHasAStepPerWorker(t *testing.T) {
	s := &Slurm{Self: "/opt/infersweep", LogDir: "/shared/logs", Partition: "gpu", Account: "bench"}
	s.SetPyxis(true)
	for _, p := range upstreamMultinode(t) {
		script, err := s.DeploymentScript(context.Background(), Spec{Point: p, Name: "eng-" + p.ID, Node: "n0", Port: 8000})
		require.NoError(t, err, p.Entry)
		workers := 0
		for _, r := range p.Roles {
			workers += r.Workers
		}
		steps := workers + 1
		if hasControlPlane(p) {
			// Dynamo's etcd and NATS on the first node, served before any
			// worker starts; every step finds them at that node.
			steps++
			cp := strings.Index(script, "# control-plane 0\nsrun --nodes=1 --ntasks=1 --relative=0 ")
			wait := strings.Index(script, "url='http://'\"$NODE_0\"':2379/health'\n")
			require.True(t, cp >= 0 && wait > cp && wait < strings.Index(script, "\n# "+p.Roles[0].Role+" 0\n"), "%s: the control plane starts and serves first", p.Entry)
			require.Contains(t, script, `ETCD_ENDPOINTS='\''http://'\''"$NODE_0"'\'':2379'\''`)
		}
		require.Equal(t, steps, strings.Count(script, "\nsrun "), "%s (%s)", p.Entry, p.Framework)
		require.Contains(t, script, "#SBATCH --nodes="+itoa(p.Nodes)+"\n")
		require.Contains(t, script, "--container-image="+p.Image)
		require.True(t, strings.HasSuffix(script, "wait -n\nstatus=$?\necho \"infersweep: a step of the deployment ended (exit $status); stopping the others\" >&2\n"+
			"kill $(jobs -p) 2>/dev/null\nwait\nexit $((status == 0 ? 1 : status))\n"), "the first step to end ends the allocation")
		require.NotContains(t, script, "\x00")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDeploymentScriptOfTheSimulatedEngine: the whole script of a 2P1D
// deployment, as sbatch reads it.
func TestDeploymentScriptOfTheSimulatedEngine(t *testing.T) {
	s := &Slurm{Self: "/opt/infersweep", LogDir: "/shared/logs", Partition: "gpu"}
	script, err := s.DeploymentScript(context.Background(), Spec{Point: simDeployment(t), Name: "eng-sim1", Node: "n0", Port: 8000, TimeScale: 10})
	require.NoError(t, err)
	want, err := os.ReadFile("testdata/sim-deployment.sbatch")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile("testdata/sim-deployment.sbatch", []byte(script), 0o644))
		return
	}
	require.NoError(t, err)
	require.Equal(t, string(want), script)
}

// TestControlPlaneReadiness: Dynamo's control plane is ready when etcd
// answers on its own port, at the address every role is given; one
// without a ready path is ready once it runs.
func TestControlPlaneReadiness(t *testing.T) {
	var p sweep.Point
	for _, q := range upstreamMultinode(t) {
		if q.Framework == "dynamo-sglang" {
			p = q
			break
		}
	}
	rs := RoleSpec{Spec: Spec{Point: p, Name: "e", Port: 8003}, Role: sweep.RoleControlPlane, Nodes: 1, ControlAddr: "10.0.0.7"}
	cmd, err := RenderRole(rs, "/bin/infersweep", "0.0.0.0")
	require.NoError(t, err)
	require.Equal(t, "http://10.0.0.7:2379/health", cmd.readyURL("http://10.0.0.7:8003"))
	require.Contains(t, cmd.Args[2], "--advertise-client-urls http://10.0.0.7:2379")
	rs.Role = sweep.RoleFrontend
	front, err := RenderRole(rs, "/bin/infersweep", "0.0.0.0")
	require.NoError(t, err)
	require.Contains(t, front.Env, "ETCD_ENDPOINTS=http://10.0.0.7:2379")
	require.Contains(t, front.Env, "NATS_SERVER=nats://10.0.0.7:4222")

	rs.Role, rs.Point.Launch = sweep.RoleControlPlane, &sweep.Launch{Roles: []sweep.RoleLaunch{{Role: sweep.RoleControlPlane, Launch: sweep.Launch{Args: []string{"etcd"}}}}}
	cmd, err = RenderRole(rs, "/bin/infersweep", "0.0.0.0")
	require.NoError(t, err)
	require.Empty(t, cmd.readyURL("http://10.0.0.7:8003"), "no ready path: ready once it runs")
	require.NoError(t, waitHealthy(context.Background(), "", func(context.Context) bool { return true }))
	require.ErrorIs(t, waitHealthy(context.Background(), "", func(context.Context) bool { return false }), errEngineExited)
}
