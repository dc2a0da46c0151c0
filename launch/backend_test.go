package launch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeCLI records commands and answers from a script of prefix → output.
type fakeCLI struct {
	mu       sync.Mutex
	commands []string
	answer   func(cmd string) (string, error)
}

func (f *fakeCLI) Run(_ context.Context, name string, args ...string) (string, error) {
	cmd := name + " " + strings.Join(args, " ")
	f.mu.Lock()
	f.commands = append(f.commands, cmd)
	f.mu.Unlock()
	return f.answer(cmd)
}

func healthyEngine(t *testing.T) (port int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func TestDockerIssuesTheExpectedCommands(t *testing.T) {
	port := healthyEngine(t)
	cli := &fakeCLI{answer: func(cmd string) (string, error) {
		switch {
		case strings.HasPrefix(cmd, "docker inspect -f {{index .RepoDigests 0}}"):
			return "vllm/vllm-openai@sha256:4f1c\n", nil
		case strings.HasPrefix(cmd, "docker logs"):
			return "INFO: Application startup complete.\n", nil
		}
		return "", nil
	}}
	d := &Docker{Exec: cli}
	p := point("vllm")
	p.Image = "vllm/vllm-openai:v0.11.0"
	engine, err := d.Start(context.Background(), Spec{Point: p, Name: EngineName("sweep-1/p1/1"), Port: port, Env: map[string]string{"HF_HOME": "/cache"}})
	require.NoError(t, err)
	require.Equal(t, "vllm/vllm-openai@sha256:4f1c", engine.ImageDigest)
	tail, err := engine.Stop(context.Background())
	require.NoError(t, err)
	require.Contains(t, tail, "startup complete")
	p1 := strconv.Itoa(port)
	require.Equal(t, []string{
		"docker run -d --name infersweep-sweep-1-p1-1 --gpus all --ipc=host --shm-size 16g -p " + p1 + ":" + p1 + " -e HF_HOME=/cache vllm/vllm-openai:v0.11.0 " +
			"vllm serve meta-llama/Llama-3.3-70B-Instruct --port " + p1 + " --tensor-parallel-size 8 --max-num-seqs 64 --max-model-len 2304 --gpu-memory-utilization 0.9 --no-enable-prefix-caching --max-num-batched-tokens 8192 --kv-cache-dtype fp8",
		"docker inspect -f {{index .RepoDigests 0}} vllm/vllm-openai:v0.11.0",
		"docker logs --tail 50 infersweep-sweep-1-p1-1",
		"docker rm -f infersweep-sweep-1-p1-1",
	}, cli.commands)
}

func TestDockerEngineThatDiesIsClassifiedByItsLog(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	cli := &fakeCLI{answer: func(cmd string) (string, error) {
		switch {
		case strings.HasPrefix(cmd, "docker inspect -f {{.State.Running}}"):
			return "false\n", nil
		case strings.HasPrefix(cmd, "docker logs"):
			return "torch.OutOfMemoryError: CUDA out of memory.\n", nil
		}
		return "", nil
	}}
	_, err = (&Docker{Exec: cli}).Start(context.Background(), Spec{Point: point("vllm"), Name: "infersweep-x", Port: port})
	var start *StartError
	require.True(t, errors.As(err, &start))
	require.Equal(t, ConfigFailure, start.Kind)
	require.Equal(t, "docker rm -f infersweep-x", cli.commands[len(cli.commands)-1], "a failed engine is removed")
}

func TestSlurmIssuesTheExpectedCommands(t *testing.T) {
	port := healthyEngine(t)
	polls := 0
	cli := &fakeCLI{answer: func(cmd string) (string, error) {
		switch {
		case strings.HasPrefix(cmd, "sbatch"):
			return "4711;cluster\n", nil
		case cmd == "squeue -h -j 4711 -o %T %N":
			if polls++; polls < 2 {
				return "PENDING \n", nil
			}
			return "RUNNING 127.0.0.1\n", nil
		case strings.HasPrefix(cmd, "tail"):
			return "engine log\n", nil
		}
		return "", nil
	}}
	s := &Slurm{Exec: cli, Partition: "gpu", Account: "bench", ContainerMounts: "/models:/models", Poll: 10 * time.Millisecond}
	p := point("sglang")
	p.Image, p.GPUs = "lmsysorg/sglang:v0.5.2", 8
	engine, err := s.Start(context.Background(), Spec{Point: p, Name: "infersweep-s-p-1", Port: port})
	require.NoError(t, err)
	_, err = engine.Stop(context.Background())
	require.NoError(t, err)
	p1 := strconv.Itoa(port)
	require.Equal(t, []string{
		"sbatch --parsable --job-name infersweep-s-p-1 --nodes 1 --gres gpu:8 --exclusive --time 04:00:00 --output infersweep-s-p-1.log --partition gpu --account bench " +
			"--wrap srun --container-image=lmsysorg/sglang:v0.5.2 --container-mounts=/models:/models python3 -m sglang.launch_server --model-path meta-llama/Llama-3.3-70B-Instruct --port " + p1 + " --tp 8 --disable-radix-cache --mem-fraction-static 0.82",
		"squeue -h -j 4711 -o %T %N",
		"squeue -h -j 4711 -o %T %N",
		"tail -n 50 infersweep-s-p-1.log",
		"scancel 4711",
	}, cli.commands)
}

func TestReapRemovesLeftoversByName(t *testing.T) {
	cli := &fakeCLI{answer: func(cmd string) (string, error) {
		switch cmd {
		case "docker ps -a -q --filter name=^infersweep-":
			return "c1\nc2\n", nil
		case "squeue -h --me -o %i %j":
			return "11 infersweep-a\n12 other-job\n13 infersweep-b\n", nil
		}
		return "", nil
	}}
	n, err := (&Docker{Exec: cli}).Reap(context.Background(), "infersweep-")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = (&Slurm{Exec: cli}).Reap(context.Background(), "infersweep-")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"docker ps -a -q --filter name=^infersweep-", "docker rm -f c1 c2", "squeue -h --me -o %i %j", "scancel 11 13"}, cli.commands)
}

func TestShellJoinQuotes(t *testing.T) {
	require.Equal(t, `srun 'a b' 'it'\''s' plain`, shellJoin([]string{"srun", "a b", "it's", "plain"}))
}
