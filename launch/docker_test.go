package launch

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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

func TestDockerReapRemovesLeftoversByName(t *testing.T) {
	cli := &fakeCLI{answer: func(cmd string) (string, error) {
		if cmd == "docker ps -a -q --filter name=^infersweep-" {
			return "c1\nc2\n", nil
		}
		return "", nil
	}}
	n, err := (&Docker{Exec: cli}).Reap(context.Background(), "infersweep-")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"docker ps -a -q --filter name=^infersweep-", "docker rm -f c1 c2"}, cli.commands)
}
