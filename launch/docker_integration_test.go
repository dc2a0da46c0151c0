package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/launch/launchtest"

	"github.com/infersweep/infersweep/sweep"
)

// These tests drive the real docker engine. Without one they skip, except
// in CI (launchtest.DockerEnv), where a missing engine must fail them
// rather than pass them unseen.

// simImage is this checkout's infersweep in an image with a tag of its
// own, removed when tb ends.
func simImage(tb testing.TB) string {
	tb.Helper()
	tag, _ := launchtest.Image(tb)
	return tag
}

// simSpec is an engine of a test run: the run is its sweep, so a run finds
// what it left behind without touching anyone else's containers.
func simSpec(run, node, pointID, model string, extra ...string) Spec {
	lease := run + "/" + pointID + "/1"
	return Spec{
		Point: sweep.Point{ID: pointID, Model: model, Runner: "sim-h100", Precision: "fp8", Framework: "sim", TP: 1, Conc: 4, MaxModelLen: 2304},
		Name:  EngineName(node + "/" + lease), Node: node, Lease: lease, TimeScale: 100, ExtraArgs: extra,
	}
}

// dockerFields runs the docker CLI and splits what it printed.
func dockerFields(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := ExecRunner{}.Run(context.Background(), "docker", args...)
	require.NoError(t, err)
	return strings.Fields(out)
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

const llama8B = "meta-llama/Llama-3.1-8B-Instruct"

// realDocker is a test run against the docker engine: the run is the
// sweep of its engines (simSpec).
type realDocker struct {
	d       *Docker
	run     string
	imageID string
}

func TestDockerAgainstTheRealEngine(t *testing.T) {
	image := simImage(t)
	r := &realDocker{d: &Docker{Exec: ExecRunner{}, SimImage: image}, run: fmt.Sprintf("it%d-%d", os.Getpid(), time.Now().UnixNano())}
	r.imageID = strings.Join(dockerFields(t, "image", "inspect", "-f", "{{.Id}}", image), "")
	t.Cleanup(func() {
		// Last, after every case: whatever carries this run's labels leaked.
		left := dockerFields(t, "ps", "-a", "-q", "--filter", "label="+LabelManaged+"=true", "--filter", "label="+LabelSweep+"="+r.run)
		if len(left) > 0 {
			_, _ = ExecRunner{}.Run(context.Background(), "docker", append([]string{"rm", "-f"}, left...)...)
		}
		require.Empty(t, left, "containers left behind")
	})
	tests := []struct {
		name string
		test func(*testing.T)
	}{
		{"a sim engine serves, is labelled and is removed", r.ready},
		{"an engine refusing its config blames the config", r.refused},
		{"an engine killed from outside blames the node", r.killed},
		{"reaping a node removes its leftovers, not another node's", r.reap},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.test)
	}
}

// byLease lists the containers, running or not, of spec's lease.
func byLease(t *testing.T, spec Spec) []string {
	t.Helper()
	return dockerFields(t, "ps", "-a", "-q", "--filter", "label="+LabelLease+"="+spec.Lease)
}

func (r *realDocker) ready(t *testing.T) {
	spec := simSpec(r.run, "n0", "ready", llama8B)
	engine, err := r.d.Start(context.Background(), spec)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, getJSON(t, engine.BaseURL+"/health", nil))
	var models struct{ Data []struct{ ID string } }
	require.Equal(t, http.StatusOK, getJSON(t, engine.BaseURL+"/v1/models", &models))
	require.Len(t, models.Data, 1)
	require.Equal(t, llama8B, models.Data[0].ID)
	require.Equal(t, byLease(t, spec), []string{engine.Placement.Job})
	require.Equal(t, "127.0.0.1", engine.Placement.Host)
	require.Equal(t, r.imageID, engine.ImageDigest)
	require.True(t, strings.HasPrefix(engine.ImageDigest, "sha256:"), engine.ImageDigest)
	var labels map[string]string
	require.NoError(t, json.Unmarshal([]byte(strings.Join(dockerFields(t, "inspect", "-f", "{{json .Config.Labels}}", spec.Name), "")), &labels))
	for k, v := range spec.Labels() {
		require.Equal(t, v, labels[k], k)
	}
	require.Equal(t, []string{"65532:65532"}, dockerFields(t, "inspect", "-f", "{{.Config.User}}", spec.Name))

	tail, err := engine.Stop(context.Background())
	require.NoError(t, err)
	require.Contains(t, tail, "simulated "+llama8B+" (h100, fp8, TP 1) on "+engine.BaseURL)
	require.Empty(t, byLease(t, spec), "the container is gone")
	_, err = engine.Stop(context.Background())
	require.NoError(t, err, "a second stop finds nothing to do")
}

func (r *realDocker) refused(t *testing.T) {
	spec := simSpec(r.run, "n0", "nosuch", "org/nosuch")
	_, err := r.d.Start(context.Background(), spec)
	var start *StartError
	require.True(t, errors.As(err, &start), "got %v", err)
	require.Equal(t, ConfigFailure, start.Kind)
	require.Equal(t, "engine exited before it was ready (exit code 2)", start.Msg)
	require.Contains(t, start.LogTail, `model "nosuch" is not in the catalogue`)
	require.Empty(t, byLease(t, spec), "the container is gone")
}

func (r *realDocker) killed(t *testing.T) {
	spec := simSpec(r.run, "n0", "killed", llama8B, "--startup-delay", "1000h")
	killed := make(chan error, 1)
	go func() { killed <- killOnceRunning(spec.Lease) }()
	_, err := r.d.Start(context.Background(), spec)
	require.NoError(t, <-killed)
	var start *StartError
	require.True(t, errors.As(err, &start), "got %v", err)
	require.Equal(t, NodeFailure, start.Kind)
	require.Equal(t, "engine exited before it was ready (exit code 137: SIGKILL)", start.Msg)
	require.Empty(t, byLease(t, spec), "the container is gone")
}

// reap plays a dead worker of node <run>-n0: its engine was never
// stopped. Node <run>-n0-x's name starts the same; only labels differ.
func (r *realDocker) reap(t *testing.T) {
	deadSpec, otherSpec := simSpec(r.run, r.run+"-n0", "leftover", llama8B), simSpec(r.run, r.run+"-n0-x", "other", llama8B)
	dead, err := r.d.Start(context.Background(), deadSpec)
	require.NoError(t, err)
	alive, err := r.d.Start(context.Background(), otherSpec)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = alive.Stop(context.Background()) })

	n, err := r.d.Reap(context.Background(), deadSpec.Node)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Empty(t, byLease(t, deadSpec))
	require.Equal(t, []string{alive.Placement.Job}, byLease(t, otherSpec))
	require.Equal(t, http.StatusOK, getJSON(t, alive.BaseURL+"/health", nil), "the other node's engine still serves")
	_, err = http.Get(dead.BaseURL + "/health")
	require.Error(t, err, "the reaped engine is gone")
}

// killOnceRunning kills the lease's container as soon as it runs, as an
// operator or the node's OOM handling would.
func killOnceRunning(lease string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		out, err := ExecRunner{}.Run(ctx, "docker", "ps", "-q", "--filter", "label="+LabelLease+"="+lease, "--filter", "status=running")
		if err != nil {
			return err
		}
		if ids := strings.Fields(out); len(ids) > 0 {
			_, err := ExecRunner{}.Run(ctx, "docker", append([]string{"kill"}, ids...)...)
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the container of %s never ran", lease)
}

// BenchmarkDockerStartToReady is docker run to /health answering 200 for
// the simulated engine. The image is built in the parent, which runs once;
// the sub-benchmark is run for each b.N.
func BenchmarkDockerStartToReady(b *testing.B) {
	image := simImage(b)
	d := &Docker{Exec: ExecRunner{}, SimImage: image}
	run := fmt.Sprintf("bench%d-%d", os.Getpid(), time.Now().UnixNano())
	b.Run("sim", func(b *testing.B) {
		seconds := make([]float64, 0, b.N)
		for i := range b.N {
			engine, err := d.Start(context.Background(), simSpec(run, "n0", "p"+strconv.Itoa(i)+"-"+strconv.Itoa(b.N), llama8B))
			require.NoError(b, err)
			seconds = append(seconds, engine.StartupSeconds)
			b.StopTimer()
			_, err = engine.Stop(context.Background())
			require.NoError(b, err)
			b.StartTimer()
		}
		b.ReportMetric(median(seconds), "s/ready")
	})
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
