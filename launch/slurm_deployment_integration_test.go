package launch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

// TestSlurmClusterRunsADeployment starts a disaggregated simulated
// deployment (2 prefill workers and a decode worker behind the router) as
// one allocation of three nodes of the local cluster, sends a request
// through its frontend, and stops the whole allocation.
func TestSlurmClusterRunsADeployment(t *testing.T) {
	run := newDeploymentRun(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec := Spec{Point: denseDeployment(t), Name: EngineName(run.id + "/deployment"), Node: run.id + "-d", TimeScale: 20}
	engine, err := run.slurm(t).StartDeployment(ctx, spec)
	require.NoError(t, err)
	stopOnFailure(t, engine)
	require.Regexp(t, `^\d+$`, engine.Placement.Job)
	out, err := exec.Command("squeue", "-h", "-j", engine.Placement.Job, "-o", "%D").Output()
	require.NoError(t, err)
	require.Equal(t, "3", strings.TrimSpace(string(out)), "one allocation of every node")

	body, _ := json.Marshal(map[string]any{"model": spec.Point.Model, "prompt": strings.Repeat("word ", 200), "max_tokens": 8, "ignore_eos": true})
	resp, err := http.Post(engine.BaseURL+"/v1/completions", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(answer))
	var completion struct {
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		}
	}
	require.NoError(t, json.Unmarshal(answer, &completion))
	require.Equal(t, 8, completion.Usage.CompletionTokens, "prefilled on one worker, decoded on another")
	require.True(t, engine.Running(ctx))

	_, err = engine.Stop(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(jobs(t, run.id)) == 0 }, 30*time.Second, 200*time.Millisecond,
		"the allocation outlived Stop: %v", jobs(t, run.id))
}

// TestSlurmDeploymentRefusedByItsConfig: a worker that refuses its
// flags ends the whole allocation at once, blamed on the configuration.
func TestSlurmDeploymentRefusedByItsConfig(t *testing.T) {
	run := newDeploymentRun(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Expert parallelism on a dense model: the decode worker exits.
	spec := Spec{Point: simDeployment(t), Name: EngineName(run.id + "/refused"), Node: run.id + "-r", TimeScale: 20}
	started := time.Now()
	_, err := run.slurm(t).StartDeployment(ctx, spec)
	var start *StartError
	require.ErrorAs(t, err, &start)
	require.Equal(t, ConfigFailure, start.Kind, start.Error())
	require.Contains(t, start.LogTail, "expert parallelism needs a MoE model")
	require.Less(t, time.Since(started), time.Minute, "the allocation ended with its step, not at the deadline")
	require.Eventually(t, func() bool { return len(jobs(t, run.id)) == 0 }, 30*time.Second, 200*time.Millisecond)
}

// TestSlurmDeploymentLosingANode: a node of a serving deployment goes
// DOWN; Slurm ends the allocation, the deployment says it no longer runs
// (what the gang's probe asks before re-leasing), and Stop leaves no job.
func TestSlurmDeploymentLosingANode(t *testing.T) {
	run := newDeploymentRun(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec := Spec{Point: denseDeployment(t), Name: EngineName(run.id + "/lost"), Node: run.id + "-l", TimeScale: 20}
	engine, err := run.slurm(t).StartDeployment(ctx, spec)
	require.NoError(t, err)
	stopOnFailure(t, engine)
	require.True(t, engine.Running(ctx))

	out, err := exec.Command("scontrol", "show", "hostnames", engine.Placement.Host).Output()
	require.NoError(t, err)
	lost := strings.Fields(string(out))[1] // a prefill worker's node
	out, err = exec.Command("scontrol", "update", "nodename="+lost, "state=down", "reason=infersweep test: node loss").CombinedOutput()
	require.NoError(t, err, string(out))
	t.Cleanup(func() { resumeNode(t, lost) })

	require.Eventually(t, func() bool { return !engine.Running(ctx) }, time.Minute, 200*time.Millisecond,
		"the deployment still runs without %s", lost)
	_, err = engine.Stop(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(jobs(t, run.id)) == 0 }, 30*time.Second, 200*time.Millisecond)
}

// newDeploymentRun is a cluster run with the three nodes the test
// deployment needs.
func newDeploymentRun(t *testing.T) *clusterRun {
	run := newClusterRun(t)
	if len(run.nodes) < 3 {
		t.Skipf("the deployment needs 3 nodes; the cluster has %d (local-cluster.sh up 3)", len(run.nodes))
	}
	return run
}

// denseDeployment is the simulated 2P+1D deployment the simulator runs:
// Llama is dense, so its decode worker has no experts to spread.
func denseDeployment(t *testing.T) sweep.Point {
	p := simDeployment(t)
	p.Decode.EP, p.Decode.DPAttn = 1, false
	l, err := recipes.Default().Launch(p)
	require.NoError(t, err)
	p.Launch = l
	return p
}
