package launch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scontrolJob is `scontrol show job -o` for a job, trimmed to the fields
// around the ones read, in scontrol's order.
func scontrolJob(state, reason, node, partition string) string {
	if node == "" {
		node = "(null)"
	}
	return fmt.Sprintf("JobId=4711 JobName=infersweep-s-p-1 UserId=bench(1000) JobState=%s Reason=%s Dependency=(null) Requeue=0 "+
		"Partition=%s AllocNode:Sid=login1:42 ReqNodeList=(null) ExcNodeList=(null) NodeList=%s BatchHost=%s "+
		"Comment=infersweep.node=n0 StdOut=/logs/infersweep-s-p-1.log\n", state, reason, partition, node, node)
}

// scontrolNode is `scontrol show node -o n2`.
func scontrolNode(state, reason string) string {
	out := "NodeName=n2 Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 NodeAddr=127.0.0.1 NodeHostName=gpu-017 Port=17002 State=" + state + " Partitions=gpu"
	if reason != "" {
		out += " Reason=" + reason + " [root@2026-12-07T12:59:26]"
	}
	return out + "\n"
}

// slurmCluster fakes the Slurm CLI: sbatch answers job 4711, scontrol
// walks the job through states (the last one repeats).
type slurmCluster struct {
	mu        sync.Mutex
	states    []string
	nodeState string
	srunHelp  string
}

func (c *slurmCluster) answer(cmd string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case strings.HasPrefix(cmd, "sbatch "):
		return "4711;cluster\n", nil
	case cmd == "srun --help":
		return c.srunHelp, nil
	case cmd == "scontrol show job -o 4711":
		state := c.states[0]
		if len(c.states) > 1 {
			c.states = c.states[1:]
		}
		return state, nil
	case cmd == "scontrol show node -o n2":
		return c.nodeState, nil
	}
	return "", nil
}

const pyxisHelp = "Usage: srun [OPTIONS(0)... [executable(0) [args(0)...]]]\n      --container-image=[USER@][REGISTRY#]IMAGE[:TAG]|PATH\n"

func TestSlurmIssuesTheExpectedCommands(t *testing.T) {
	port := healthyEngine(t)
	p1 := strconv.Itoa(port)
	engineArgs := "python3 -m sglang.launch_server --model-path meta-llama/Llama-3.3-70B-Instruct --host 0.0.0.0 --port " + p1 +
		" --tp 8 --disable-radix-cache --mem-fraction-static 0.82 --log-level debug"
	tests := []struct {
		name, framework, srunHelp string
		want                      []string
	}{
		{"pyxis runs the image", "sglang", pyxisHelp, []string{
			"srun --help",
			"sbatch --parsable --job-name infersweep-s-p-1 --nodes 1 --gres gpu:8 --exclusive --no-requeue --time 04:00:00 --output LOGS/infersweep-s-p-1.log " +
				"--comment infersweep.node=n0 --partition gpu --account bench --wrap srun --container-image=lmsysorg/sglang:v0.5.2 --container-mounts=/models:/models " +
				"--export=ALL,HF_HOME=/cache " + engineArgs,
		}},
		{"without pyxis the engine runs bare", "sglang", "Usage: srun [OPTIONS(0)...]\n", []string{
			"srun --help",
			"sbatch --parsable --job-name infersweep-s-p-1 --nodes 1 --gres gpu:8 --exclusive --no-requeue --time 04:00:00 --output LOGS/infersweep-s-p-1.log " +
				"--comment infersweep.node=n0 --partition gpu --account bench --wrap srun --export=ALL,HF_HOME=/cache " + engineArgs,
		}},
		{"the sim runs bare without a GPU", "sim", pyxisHelp, []string{
			"sbatch --parsable --job-name infersweep-s-p-1 --nodes 1 --exclusive --no-requeue --time 04:00:00 --output LOGS/infersweep-s-p-1.log " +
				"--comment infersweep.node=n0 --partition gpu --account bench --wrap srun --export=ALL,HF_HOME=/cache /opt/infersweep/bin/infersweep engine sim " +
				"--model llama-3.3-70b --hardware h100 --precision fp8 --tp 8 --host 0.0.0.0 --port " + p1 + " --max-num-seqs 64 --max-model-len 2304 " +
				"--served-model-name meta-llama/Llama-3.3-70B-Instruct --time-scale 10 --log-level info --seed 12765680912100074546 --log-level debug",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := t.TempDir()
			cluster := &slurmCluster{srunHelp: tt.srunHelp, nodeState: scontrolNode("ALLOCATED", ""),
				states: []string{scontrolJob("PENDING", "Resources", "", "gpu"), scontrolJob("RUNNING", "None", "n2", "gpu")}}
			cli := &fakeCLI{answer: cluster.answer}
			s := &Slurm{Exec: cli, Self: "/opt/infersweep/bin/infersweep", LogDir: logs, Partition: "gpu", Account: "bench",
				ContainerMounts: "/models:/models", Poll: 10 * time.Millisecond}
			p := point(tt.framework)
			p.Image, p.GPUs = "lmsysorg/sglang:v0.5.2", 8
			spec := Spec{Point: p, Name: "infersweep-s-p-1", Node: "n0", Port: port, TimeScale: 10, ExtraArgs: []string{"--log-level", "debug"}, Env: map[string]string{"HF_HOME": "/cache"}}
			engine, err := s.Start(context.Background(), spec)
			require.NoError(t, err)
			require.Equal(t, "http://127.0.0.1:"+p1, engine.BaseURL)
			require.Equal(t, Placement{Host: "n2", Job: "4711", Partition: "gpu"}, engine.Placement)

			logFile := filepath.Join(logs, "infersweep-s-p-1.log")
			require.NoError(t, os.WriteFile(logFile, []byte("loading weights\nserver ready\n"), 0o644))
			tail, err := engine.Stop(context.Background())
			require.NoError(t, err)
			require.Equal(t, "loading weights\nserver ready", tail)
			require.NoFileExists(t, logFile, "the tail is kept with the point, the file goes")

			want := append(tt.want, "scontrol show job -o 4711", "scontrol show job -o 4711", "scontrol show node -o n2", "scancel 4711")
			for i := range want {
				want[i] = strings.ReplaceAll(want[i], "LOGS", logs)
			}
			require.Equal(t, want, cli.commands)
		})
	}
}

func TestSlurmAsksForPyxisOnce(t *testing.T) {
	port := healthyEngine(t)
	cluster := &slurmCluster{srunHelp: pyxisHelp, nodeState: scontrolNode("ALLOCATED", ""), states: []string{scontrolJob("RUNNING", "None", "n2", "gpu")}}
	cli := &fakeCLI{answer: cluster.answer}
	s := &Slurm{Exec: cli, LogDir: t.TempDir(), Poll: time.Millisecond}
	for range 2 {
		engine, err := s.Start(context.Background(), Spec{Point: point("vllm"), Name: "infersweep-x", Node: "n0", Port: port})
		require.NoError(t, err)
		_, err = engine.Stop(context.Background())
		require.NoError(t, err)
	}
	probes := 0
	for _, cmd := range cli.commands {
		if cmd == "srun --help" {
			probes++
		}
	}
	require.Equal(t, 1, probes)
}

func TestSlurmBlamesTheConfigOrTheNode(t *testing.T) {
	tests := []struct {
		name      string
		end       string // the job's state once it ended
		nodeState string
		log       string
		wantKind  FailureKind
		wantMsg   string
	}{
		{"the engine refused the model", scontrolJob("FAILED", "NonZeroExitCode", "n2", "gpu"), scontrolNode("IDLE", ""),
			`infersweep: --model: model "nosuch" is not in the catalogue`, ConfigFailure,
			"job 4711 ended FAILED (NonZeroExitCode) on n2 before the engine was ready: its log names the configuration"},
		{"Slurm lost the node", scontrolJob("NODE_FAIL", "NodeDown", "n2", "gpu"), scontrolNode("DOWN", "test loss"),
			"srun: error: Node failure on n2", NodeFailure,
			"job 4711 ended NODE_FAIL (NodeDown) on n2 before the engine was ready: Slurm lost its node; node n2 is DOWN (test loss)"},
		{"the node drained under a failed job", scontrolJob("FAILED", "NonZeroExitCode", "n2", "gpu"), scontrolNode("IDLE+DRAIN", "Kill task failed"),
			"invalid argument", NodeFailure,
			"job 4711 ended FAILED (NonZeroExitCode) on n2 before the engine was ready: node n2 is IDLE+DRAIN (Kill task failed)"},
		{"another job took the node", scontrolJob("PREEMPTED", "None", "n2", "gpu"), scontrolNode("IDLE", ""),
			"slurmstepd: error: *** JOB 4711 ON n2 CANCELLED AT 2026-12-07T12:59:26 DUE TO PREEMPTION ***", NodeFailure,
			"job 4711 ended PREEMPTED on n2 before the engine was ready: a job of higher priority took its node"},
		{"someone cancelled the job", scontrolJob("CANCELLED", "None", "n2", "gpu"), scontrolNode("IDLE", ""),
			"slurmstepd: error: *** JOB 4711 ON n2 CANCELLED AT 2026-12-07T12:59:26 ***", NodeFailure,
			"job 4711 ended CANCELLED on n2 before the engine was ready: cancelled from outside"},
		{"the engine crashed", scontrolJob("FAILED", "NonZeroExitCode", "n2", "gpu"), scontrolNode("IDLE", ""),
			"Segmentation fault (core dumped)", NodeFailure,
			"job 4711 ended FAILED (NonZeroExitCode) on n2 before the engine was ready: its log names no configuration error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closed, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			port := closed.Addr().(*net.TCPAddr).Port
			closed.Close()
			logs := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(logs, "infersweep-x.log"), []byte("starting\n"+tt.log+"\n"), 0o644))
			cluster := &slurmCluster{nodeState: tt.nodeState, states: []string{scontrolJob("RUNNING", "None", "n2", "gpu"), tt.end}}
			cli := &fakeCLI{answer: cluster.answer}
			_, err = (&Slurm{Exec: cli, LogDir: logs, Poll: time.Millisecond}).Start(context.Background(), Spec{Point: point("sim"), Name: "infersweep-x", Port: port})
			var start *StartError
			require.True(t, errors.As(err, &start), "got %v", err)
			require.Equal(t, tt.wantKind, start.Kind)
			require.Equal(t, tt.wantMsg, start.Msg)
			require.Equal(t, "starting\n"+tt.log, start.LogTail)
			require.Contains(t, cli.commands, "scancel 4711")
		})
	}
}

func TestSlurmJobStillQueuedWhenTheCallerGivesUp(t *testing.T) {
	cluster := &slurmCluster{states: []string{scontrolJob("PENDING", "Resources", "", "gpu")}}
	cli := &fakeCLI{answer: cluster.answer}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := (&Slurm{Exec: &ctxRunner{cli}, LogDir: t.TempDir(), Poll: 5 * time.Millisecond}).Start(ctx, Spec{Point: point("sim"), Name: "infersweep-x", Port: 1})
	var start *StartError
	require.True(t, errors.As(err, &start), "got %v", err)
	require.Equal(t, NodeFailure, start.Kind)
	require.Equal(t, "job 4711 PENDING (Resources): context deadline exceeded", start.Msg)
	require.Equal(t, "scancel 4711", cli.commands[len(cli.commands)-1], "the queued job is cancelled on a context of its own")
}

// ctxRunner refuses to run once its context ended, as exec.CommandContext.
type ctxRunner struct{ Runner }

func (r *ctxRunner) Run(ctx context.Context, name string, args ...string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return r.Runner.Run(ctx, name, args...)
}

func TestSlurmStopIsSafeTwiceAndAfterTheCallerGaveUp(t *testing.T) {
	port := healthyEngine(t)
	cluster := &slurmCluster{nodeState: scontrolNode("ALLOCATED", ""), states: []string{scontrolJob("RUNNING", "None", "n2", "gpu")}}
	cli := &fakeCLI{answer: cluster.answer}
	logs := t.TempDir()
	engine, err := (&Slurm{Exec: &ctxRunner{cli}, LogDir: logs}).Start(context.Background(), Spec{Point: point("sim"), Name: "infersweep-x", Port: port})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(logs, "infersweep-x.log"), []byte("ready\n"), 0o644))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for range 2 {
		tail, err := engine.Stop(cancelled)
		require.NoError(t, err)
		require.Equal(t, "ready", tail)
	}
	require.Equal(t, "scancel 4711", cli.commands[len(cli.commands)-1])
	require.Equal(t, "scontrol show node -o n2", cli.commands[len(cli.commands)-2], "one scancel")
}

func TestSlurmReapCancelsExactlyTheNodesJobs(t *testing.T) {
	queue := "11 infersweep.node=n0\n12 infersweep.node=n0-x\n13 (null)\n14 infersweep.node=n0\n15 infersweep.node=n00\n"
	tests := []struct {
		node  string
		wantN int
		want  []string
	}{
		{"n0", 2, []string{"squeue -h -o %i %k", "scancel 11 14"}},
		{"n0-x", 1, []string{"squeue -h -o %i %k", "scancel 12"}},
		{"n9", 0, []string{"squeue -h -o %i %k"}},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			cli := &fakeCLI{answer: func(cmd string) (string, error) {
				if cmd == "squeue -h -o %i %k" {
					return queue, nil
				}
				return "", nil
			}}
			n, err := (&Slurm{Exec: cli}).Reap(context.Background(), tt.node)
			require.NoError(t, err)
			require.Equal(t, tt.wantN, n)
			require.Equal(t, tt.want, cli.commands)
		})
	}
}

func TestTailFileReadsOnlyTheEnd(t *testing.T) {
	long := strings.Repeat("x", tailMaxBytes) + "\ncut\n"
	var many strings.Builder
	for i := range 60 {
		fmt.Fprintf(&many, "line %d\n", i)
	}
	tests := []struct {
		name, content, want string
	}{
		{"short log", "a\nb\n", "a\nb"},
		{"no final newline", "a\nb", "a\nb"},
		{"the last 50 lines", many.String(), strings.Join(strings.Split(strings.TrimSpace(many.String()), "\n")[10:], "\n")},
		{"a line cut by the byte limit is dropped", long, "cut"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "job.log")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
			require.Equal(t, tt.want, tailFile(path, logTailLines))
		})
	}
	require.Equal(t, "", tailFile(filepath.Join(t.TempDir(), "never-written.log"), logTailLines))
}
