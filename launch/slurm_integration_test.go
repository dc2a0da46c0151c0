package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/launch/launchtest"
)

// These tests run engines as jobs of a real Slurm cluster, the one
// deploy/slurm/local-cluster.sh starts. Without one they skip, unless
// launchtest.SlurmEnv (CI) says a cluster must be there.

func TestMain(m *testing.M) { os.Exit(launchtest.Main(m)) }

// clusterRun names this run's node workers, so its checks see only its
// own jobs, not those of a pool using the same cluster.
type clusterRun struct {
	nodes []string
	self  string
	id    string
}

func newClusterRun(tb testing.TB) *clusterRun {
	return &clusterRun{nodes: launchtest.RequireSlurm(tb), self: launchtest.Binary(tb), id: fmt.Sprintf("it-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)}
}

func (r *clusterRun) slurm(tb testing.TB) *Slurm {
	return &Slurm{Exec: ExecRunner{}, Self: r.self, LogDir: tb.TempDir()}
}

func (r *clusterRun) spec(node, name string, extra ...string) Spec {
	return Spec{Point: point("sim"), Name: EngineName(r.id + "/" + name), Node: r.id + "-" + node, TimeScale: 10, ExtraArgs: extra}
}

// jobs lists the jobs squeue shows for comments starting with prefix:
// id → state.
func jobs(t *testing.T, prefix string) map[string]string {
	out, err := exec.Command("squeue", "-h", "-o", "%i %T %k").CombinedOutput()
	require.NoError(t, err, string(out))
	found := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 3 && strings.HasPrefix(f[2], commentKey+prefix) {
			found[f[0]] = f[1]
		}
	}
	return found
}

func TestSlurmClusterRunsTheSim(t *testing.T) {
	run := newClusterRun(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Run("engine answers from its node", run.answers(ctx))
	t.Run("an unknown model is the config's fault", run.refusesTheConfig(ctx))
	t.Run("a node lost during startup is the node's fault", run.losesTheNode(ctx))
	t.Run("reap cancels exactly one node worker's jobs", run.reaps(ctx))

	// Nothing this run submitted outlives it, failed subtests included.
	require.Eventually(t, func() bool { return len(jobs(t, run.id)) == 0 }, 30*time.Second, 200*time.Millisecond,
		"jobs of this run left behind: %v", jobs(t, run.id))
}

// answers checks that the sim runs on a node and answers there, and Stop ends its job.
func (r *clusterRun) answers(ctx context.Context) func(*testing.T) {
	return func(t *testing.T) {
		spec := r.spec("a", "a")
		engine, err := r.slurm(t).Start(ctx, spec)
		require.NoError(t, err)
		stopOnFailure(t, engine)
		// Other packages' tests share the cluster and take a node down
		// and back meanwhile: the engine's node is one that responds now
		// if not one that did when the run began.
		require.Contains(t, append(launchtest.RequireSlurm(t), r.nodes...), engine.Placement.Host)
		require.Regexp(t, `^\d+$`, engine.Placement.Job)
		require.Equal(t, "local", engine.Placement.Partition)

		resp, err := http.Get(engine.BaseURL + "/health")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp, err = http.Get(engine.BaseURL + "/v1/models")
		require.NoError(t, err)
		var models struct{ Data []struct{ ID string } }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&models))
		resp.Body.Close()
		require.Len(t, models.Data, 1)
		require.Equal(t, "meta-llama/Llama-3.3-70B-Instruct", models.Data[0].ID)

		tail, err := engine.Stop(ctx)
		require.NoError(t, err)
		require.Contains(t, tail, "simulated meta-llama/Llama-3.3-70B-Instruct", "the log tail is the job's output")
		require.Eventually(t, func() bool {
			out, _ := exec.Command("squeue", "-h", "-j", engine.Placement.Job, "-o", "%T").Output()
			return strings.TrimSpace(string(out)) == ""
		}, 30*time.Second, 200*time.Millisecond, "job %s still queued after Stop", engine.Placement.Job)
	}
}

// refusesTheConfig checks that an engine that rejects its flags fails the config, not the node.
func (r *clusterRun) refusesTheConfig(ctx context.Context) func(*testing.T) {
	return func(t *testing.T) {
		spec := r.spec("b", "b")
		spec.Point.Model = "nosuch/nosuch"
		_, err := r.slurm(t).Start(ctx, spec)
		var start *StartError
		require.True(t, errors.As(err, &start), "got %v", err)
		require.Equal(t, ConfigFailure, start.Kind)
		require.Regexp(t, `^job \d+ ended FAILED \(NonZeroExitCode\) on n\d+ before the engine was ready: its log names the configuration$`, start.Msg)
		require.Contains(t, start.LogTail, `model "nosuch" is not in the catalogue`)
	}
}

// losesTheNode checks that an engine whose node goes down while it loads fails the node.
func (r *clusterRun) losesTheNode(ctx context.Context) func(*testing.T) {
	return func(t *testing.T) {
		spec := r.spec("c", "c", "--startup-delay", "5m")
		watch, stopWatch := context.WithCancel(ctx)
		downed := make(chan downed, 1)
		go func() { downed <- downWhenRunning(watch, spec.Node) }()
		_, err := r.slurm(t).Start(ctx, spec)
		stopWatch()
		lost := <-downed
		if lost.node != "" {
			t.Cleanup(func() { resumeNode(t, lost.node) })
		}
		require.NoError(t, lost.err)
		var start *StartError
		require.True(t, errors.As(err, &start), "got %v", err)
		require.Equal(t, NodeFailure, start.Kind)
		require.Regexp(t, `^job \d+ ended NODE_FAIL \(NodeDown\) on `+regexp.QuoteMeta(lost.node)+` before the engine was ready: Slurm lost its node; node `+regexp.QuoteMeta(lost.node)+` is DOWN\S* \(infersweep test: node loss\)$`, start.Msg)
	}
}

// reaps checks that Reap takes one node worker's jobs and leaves those of a node named like it.
func (r *clusterRun) reaps(ctx context.Context) func(*testing.T) {
	return func(t *testing.T) {
		s := r.slurm(t)
		mine, err := s.Start(ctx, r.spec("d", "d1"))
		require.NoError(t, err)
		stopOnFailure(t, mine)
		other, err := s.Start(ctx, r.spec("d-x", "d2"))
		require.NoError(t, err)
		stopOnFailure(t, other)
		n, err := s.Reap(ctx, r.id+"-d")
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Eventually(t, func() bool {
			_, queued := jobs(t, r.id+"-d")[mine.Placement.Job]
			return !queued
		}, 30*time.Second, 200*time.Millisecond)
		require.Equal(t, map[string]string{other.Placement.Job: "RUNNING"}, jobs(t, r.id+"-d-x"))
		for _, e := range []*Engine{mine, other} {
			_, err := e.Stop(ctx)
			require.NoError(t, err)
		}
	}
}

// stopOnFailure stops the engine when the test ends early; Stop is
// harmless after the test's own.
func stopOnFailure(t *testing.T, engine *Engine) {
	t.Cleanup(func() {
		if _, err := engine.Stop(context.Background()); err != nil {
			t.Errorf("stop job %s: %v", engine.Placement.Job, err)
		}
	})
}

type downed struct {
	node string
	err  error
}

// downWhenRunning sets the node DOWN, as a failed node is, once the job
// of the node worker runs there (while the engine loads).
func downWhenRunning(ctx context.Context, worker string) downed {
	for ctx.Err() == nil {
		out, err := exec.CommandContext(ctx, "squeue", "-h", "-o", "%T %N %k").Output()
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); err == nil && len(f) == 3 && f[0] == "RUNNING" && f[2] == commentKey+worker {
				out, err := exec.Command("scontrol", "update", "nodename="+f[1], "state=down", "reason=infersweep test: node loss").CombinedOutput()
				if err != nil {
					return downed{err: fmt.Errorf("down %s: %w: %s", f[1], err, out)}
				}
				return downed{node: f[1]}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return downed{err: fmt.Errorf("the job of %s never ran", worker)}
}

// resumeNode puts a downed node back and waits until it takes jobs again.
func resumeNode(t *testing.T, node string) {
	out, err := exec.Command("scontrol", "update", "nodename="+node, "state=resume").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Eventually(t, func() bool {
		out, _ := exec.Command("sinfo", "-h", "-n", node, "-o", "%t").Output()
		return strings.TrimSpace(string(out)) == "idle"
	}, 30*time.Second, 200*time.Millisecond, "%s back in service", node)
}

// BenchmarkSlurmSubmitToReady times sbatch to /health answering 200 for
// the sim on the local cluster; s/ready is the median.
func BenchmarkSlurmSubmitToReady(b *testing.B) {
	run := newClusterRun(b)
	s := &Slurm{Exec: ExecRunner{}, Self: run.self, LogDir: b.TempDir()}
	ctx := context.Background()
	var ready []float64
	for i := 0; b.Loop(); i++ {
		engine, err := s.Start(ctx, run.spec("bench", fmt.Sprintf("bench-%d", i)))
		require.NoError(b, err)
		ready = append(ready, engine.StartupSeconds)
		_, err = engine.Stop(ctx)
		require.NoError(b, err)
	}
	sort.Float64s(ready)
	b.ReportMetric(ready[len(ready)/2], "s/ready")
}
