package launch

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

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

func TestSlurmReapCancelsLeftoversByName(t *testing.T) {
	cli := &fakeCLI{answer: func(cmd string) (string, error) {
		if cmd == "squeue -h --me -o %i %j" {
			return "11 infersweep-a\n12 other-job\n13 infersweep-b\n", nil
		}
		return "", nil
	}}
	n, err := (&Slurm{Exec: cli}).Reap(context.Background(), "infersweep-")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"squeue -h --me -o %i %j", "scancel 11 13"}, cli.commands)
}
