package launch

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const containerHex = "4f1c0a9e8b7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"

// cancelAwareCLI fails, like exec.CommandContext, a command given an ended
// context, so tests see which cleanup would not have run.
type cancelAwareCLI struct{ *fakeCLI }

func (c cancelAwareCLI) Run(ctx context.Context, name string, args ...string) (string, error) {
	if err := ctx.Err(); err != nil {
		c.fakeCLI.Run(ctx, "cancelled:", append([]string{name}, args...)...)
		return "", err
	}
	return c.fakeCLI.Run(ctx, name, args...)
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func dockerSpec(framework string, port int) Spec {
	p := point(framework)
	p.ID = "p1"
	p.Image = "vllm/vllm-openai:v0.11.0"
	return Spec{Point: p, Name: EngineName("n0/sweep-1/p1/1"), Node: "n0", Lease: "sweep-1/p1/1", Port: port, TimeScale: 10,
		Env: map[string]string{"HF_HOME": "/cache", "HF_TOKEN": "t"}}
}

const dockerLabels = "--label infersweep.lease=sweep-1/p1/1 --label infersweep.managed=true --label infersweep.node=n0 --label infersweep.point=p1 --label infersweep.sweep=sweep-1 "

func TestDockerIssuesTheExpectedCommands(t *testing.T) {
	port := healthyEngine(t)
	p := strconv.Itoa(port)
	tests := []struct {
		name        string
		framework   string
		simImage    string
		repoDigest  bool
		wantDigest  string
		wantCommand []string
	}{
		{
			name: "a real engine gets the GPUs and its registry digest", framework: "vllm", repoDigest: true,
			wantDigest: "vllm/vllm-openai@sha256:4f1c",
			wantCommand: []string{
				"docker run -d --name infersweep-n0-sweep-1-p1-1 --network=host --gpus all --ipc=host --shm-size 16g " + dockerLabels +
					"-e HF_HOME=/cache -e HF_TOKEN=t vllm/vllm-openai:v0.11.0 " +
					"vllm serve meta-llama/Llama-3.3-70B-Instruct --host 0.0.0.0 --port " + p + " --tensor-parallel-size 8 --max-num-seqs 64 --max-model-len 2304 --gpu-memory-utilization 0.9 --no-enable-prefix-caching --max-num-batched-tokens 8192 --kv-cache-dtype fp8",
				"docker inspect -f {{index .RepoDigests 0}} vllm/vllm-openai:v0.11.0",
			},
		},
		{
			name: "the simulator runs the sim image without GPUs; a local image is named by its id", framework: "sim",
			wantDigest: "sha256:" + containerHex,
			wantCommand: []string{
				"docker run -d --name infersweep-n0-sweep-1-p1-1 --network=host " + dockerLabels +
					"-e HF_HOME=/cache -e HF_TOKEN=t infersweep/sim:dev " +
					"infersweep engine sim --model llama-3.3-70b --hardware h100 --precision fp8 --tp 8 --host 127.0.0.1 --port " + p + " --max-num-seqs 64 --max-model-len 2304 --served-model-name meta-llama/Llama-3.3-70B-Instruct --time-scale 10 --log-level info --seed 1320478951130751333",
				"docker inspect -f {{index .RepoDigests 0}} infersweep/sim:dev",
				"docker inspect -f {{.Image}} infersweep-n0-sweep-1-p1-1",
			},
		},
		{
			name: "a configured sim image", framework: "sim", simImage: "registry.local/infersweep:v1", repoDigest: true,
			wantDigest: "vllm/vllm-openai@sha256:4f1c",
			wantCommand: []string{
				"docker run -d --name infersweep-n0-sweep-1-p1-1 --network=host " + dockerLabels +
					"-e HF_HOME=/cache -e HF_TOKEN=t registry.local/infersweep:v1 " +
					"infersweep engine sim --model llama-3.3-70b --hardware h100 --precision fp8 --tp 8 --host 127.0.0.1 --port " + p + " --max-num-seqs 64 --max-model-len 2304 --served-model-name meta-llama/Llama-3.3-70B-Instruct --time-scale 10 --log-level info --seed 1320478951130751333",
				"docker inspect -f {{index .RepoDigests 0}} registry.local/infersweep:v1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := &fakeCLI{answer: func(cmd string) (string, error) {
				switch {
				case strings.HasPrefix(cmd, "docker run"):
					return containerHex + "\n", nil
				case strings.HasPrefix(cmd, "docker inspect -f {{index .RepoDigests 0}}"):
					if tt.repoDigest {
						return "vllm/vllm-openai@sha256:4f1c\n", nil
					}
					return "", errors.New("template parsing error: error calling index: reflect: slice index out of range")
				case strings.HasPrefix(cmd, "docker inspect -f {{.Image}}"):
					return "sha256:" + containerHex + "\n", nil
				case strings.HasPrefix(cmd, "docker logs"):
					return "INFO: Application startup complete.\n", nil
				}
				return "", nil
			}}
			engine, err := (&Docker{Exec: cli, SimImage: tt.simImage}).Start(context.Background(), dockerSpec(tt.framework, port))
			require.NoError(t, err)
			require.Equal(t, tt.wantDigest, engine.ImageDigest)
			require.Equal(t, Placement{Host: "127.0.0.1", Job: "4f1c0a9e8b7d"}, engine.Placement)
			require.Equal(t, "http://127.0.0.1:"+p, engine.BaseURL)
			require.Equal(t, tt.wantCommand, cli.commands)

			cli.commands = nil
			tail, err := engine.Stop(context.Background())
			require.NoError(t, err)
			require.Equal(t, "INFO: Application startup complete.\n", tail)
			require.Equal(t, []string{"docker logs --tail 50 infersweep-n0-sweep-1-p1-1", "docker rm -f infersweep-n0-sweep-1-p1-1"}, cli.commands)
		})
	}
}

func TestDockerStartFailuresAreClassified(t *testing.T) {
	tests := []struct {
		name    string
		state   string // docker inspect of OOMKilled and ExitCode; "" when the container is gone
		log     string
		kind    FailureKind
		wantMsg string
	}{
		{"an engine out of GPU memory", "false 1", "torch.OutOfMemoryError: CUDA out of memory.", ConfigFailure, "engine exited before it was ready (exit code 1)"},
		{"an engine refusing a flag", "false 2", "vllm: error: unrecognized arguments: --bogus", ConfigFailure, "(exit code 2)"},
		{"the kernel's OOM killer", "true 137", "INFO loading weights", ConfigFailure, "killed for memory by the kernel (exit code 137)"},
		{"a kill from outside", "false 137", "INFO loading weights", NodeFailure, "(exit code 137: SIGKILL)"},
		{"a stop from outside", "false 143", "INFO loading weights", NodeFailure, "(exit code 143: SIGTERM)"},
		{"a crash", "false 139", "Segmentation fault", NodeFailure, "(exit code 139)"},
		{"a container removed from outside", "", "", NodeFailure, "container state unknown: Error: No such object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := &fakeCLI{answer: func(cmd string) (string, error) {
				switch {
				case strings.HasPrefix(cmd, "docker inspect -f {{.State.Running}}"):
					return "false\n", nil
				case strings.HasPrefix(cmd, "docker inspect -f {{.State.OOMKilled}}"):
					if tt.state == "" {
						return "", errors.New("Error: No such object: infersweep-x")
					}
					return tt.state + "\n", nil
				case strings.HasPrefix(cmd, "docker logs"):
					return tt.log + "\n", nil
				}
				return "", nil
			}}
			_, err := (&Docker{Exec: cli}).Start(context.Background(), Spec{Point: point("vllm"), Name: "infersweep-x", Port: closedPort(t)})
			var start *StartError
			require.True(t, errors.As(err, &start), "got %v", err)
			require.Equal(t, tt.kind, start.Kind)
			require.Contains(t, start.Msg, tt.wantMsg)
			require.Equal(t, tt.log+"\n", start.LogTail)
			require.Equal(t, []string{
				"docker inspect -f {{.State.Running}} infersweep-x",
				"docker inspect -f {{.State.OOMKilled}} {{.State.ExitCode}} infersweep-x",
				"docker logs --tail 50 infersweep-x",
				"docker rm -f infersweep-x",
			}, cli.commands[1:], "the state is read before the container is removed")
		})
	}
}

func TestDockerRunFailureFreesTheNameAndBlamesTheNode(t *testing.T) {
	tests := []struct {
		name    string
		cutOff  bool // ctx ends while docker run runs
		wantMsg string
		wantRm  string
	}{
		{"a failed run leaves a running namesake alone", false,
			"docker run: exit status 125: Unable to find image 'infersweep/sim:dev' locally\n" +
				"(the simulator's image is built with `infersweep image build --tag infersweep/sim:dev`)",
			"docker rm infersweep-x"},
		{"a run cut short removes what it may have started", true, "docker run: signal: killed", "docker rm -f infersweep-x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fake := &fakeCLI{answer: func(cmd string) (string, error) {
				if !strings.HasPrefix(cmd, "docker run") {
					return "", nil
				}
				if tt.cutOff {
					cancel()
					return "", errors.New("docker run: signal: killed")
				}
				return "", errors.New("docker run: exit status 125: Unable to find image 'infersweep/sim:dev' locally")
			}}
			_, err := (&Docker{Exec: cancelAwareCLI{fake}}).Start(ctx, Spec{Point: point("sim"), Name: "infersweep-x", Port: closedPort(t)})
			var start *StartError
			require.True(t, errors.As(err, &start), "got %v", err)
			require.Equal(t, NodeFailure, start.Kind)
			require.Equal(t, tt.wantMsg, start.Msg)
			require.Len(t, fake.commands, 2)
			require.Equal(t, tt.wantRm, fake.commands[1])
		})
	}
}

func TestDockerCleansUpAfterItsContextEnds(t *testing.T) {
	fake := &fakeCLI{answer: func(cmd string) (string, error) {
		if strings.HasPrefix(cmd, "docker inspect -f {{.State.Running}}") {
			return "true\n", nil
		}
		return "", nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := (&Docker{Exec: cancelAwareCLI{fake}}).Start(ctx, Spec{Point: point("vllm"), Name: "infersweep-x", Port: closedPort(t)})
	var start *StartError
	require.True(t, errors.As(err, &start), "got %v", err)
	require.Equal(t, NodeFailure, start.Kind)
	require.Equal(t, "not ready: context deadline exceeded", start.Msg)
	require.Equal(t, []string{"docker logs --tail 50 infersweep-x", "docker rm -f infersweep-x"}, fake.commands[len(fake.commands)-2:])
}

func TestDockerStopRemovesOnceAndDespiteACancelledContext(t *testing.T) {
	port := healthyEngine(t)
	fake := &fakeCLI{answer: func(cmd string) (string, error) {
		if strings.HasPrefix(cmd, "docker logs") {
			return "INFO shutting down\n", nil
		}
		return containerHex + "\n", nil
	}}
	engine, err := (&Docker{Exec: cancelAwareCLI{fake}}).Start(context.Background(), Spec{Point: point("vllm"), Name: "infersweep-x", Port: port})
	require.NoError(t, err)
	fake.commands = nil
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for range 2 {
		tail, err := engine.Stop(cancelled)
		require.NoError(t, err)
		require.Equal(t, "INFO shutting down\n", tail)
	}
	require.Equal(t, []string{"docker logs --tail 50 infersweep-x", "docker rm -f infersweep-x"}, fake.commands)
}

func TestDockerReapMatchesTheNodeLabelExactly(t *testing.T) {
	// containers answers docker's label filter, which matches whole values.
	containers := map[string]string{"c1": "n0", "c2": "n0", "c3": "n0-x"}
	tests := []struct {
		node     string
		want     int
		commands []string
	}{
		{"n0", 2, []string{"docker ps -a -q --filter label=infersweep.node=n0", "docker rm -f c1 c2"}},
		{"n0-x", 1, []string{"docker ps -a -q --filter label=infersweep.node=n0-x", "docker rm -f c3"}},
		{"n9", 0, []string{"docker ps -a -q --filter label=infersweep.node=n9"}},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			cli := &fakeCLI{answer: func(cmd string) (string, error) {
				node, ok := strings.CutPrefix(cmd, "docker ps -a -q --filter label=infersweep.node=")
				if !ok {
					return "", nil
				}
				var ids string
				for _, id := range []string{"c1", "c2", "c3"} {
					if containers[id] == node {
						ids += id + "\n"
					}
				}
				return ids, nil
			}}
			n, err := (&Docker{Exec: cli}).Reap(context.Background(), tt.node)
			require.NoError(t, err)
			require.Equal(t, tt.want, n)
			require.Equal(t, tt.commands, cli.commands)
		})
	}
	_, err := (&Docker{Exec: &fakeCLI{}}).Reap(context.Background(), "")
	require.EqualError(t, err, "docker reap: the node needs a name")
}

func TestContainerIDIsTheLastLineShortened(t *testing.T) {
	require.Equal(t, "4f1c0a9e8b7d", containerID("Unable to find image 'x' locally\nPulling from x\n"+containerHex+"\n"))
	require.Equal(t, "abc", containerID("abc"))
	require.Equal(t, "", containerID(""))
}
