package launch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

func point(framework string) sweep.Point {
	return sweep.Point{Model: "meta-llama/Llama-3.3-70B-Instruct", Runner: "sim-h100", Precision: "fp8", Framework: framework, TP: 8, EP: 1, Conc: 64, MaxModelLen: 2304}
}

func TestRenderFillsInWhatOnlyTheStartKnows(t *testing.T) {
	planned := point("vllm")
	planned.Launch = &sweep.Launch{Recipe: "tuned", Image: "vllm/vllm-openai:v0.12.0", Args: []string{"vllm", "serve", "m", "--port", "${PORT}"},
		Env: map[string]string{"VLLM_X": "1", "HF_HOME": "/planned"}, ReadyPath: "/ready", Files: map[string]string{"/cfg.yaml": "port: ${PORT}\n"}}
	tests := []struct {
		name      string
		point     sweep.Point
		wantArgs  string
		wantEnv   []string
		wantImage string
		wantReady string
	}{
		{"sim, from the shipped catalogue", point("sim"),
			"/bin/infersweep engine sim --model llama-3.3-70b --hardware h100 --precision fp8 --tp 8 --host 127.0.0.1 --port 8000 --max-num-seqs 64 --max-model-len 2304 --served-model-name meta-llama/Llama-3.3-70B-Instruct --time-scale 10 --log-level info --seed 12638182802509129152 --extra",
			[]string{"HF_HOME=/cache"}, "", "/health"},
		{"vllm, the generic launch", point("vllm"),
			"vllm serve meta-llama/Llama-3.3-70B-Instruct --host 0.0.0.0 --port 8000 --tensor-parallel-size 8 --max-num-seqs 64 --max-model-len 2304 --gpu-memory-utilization 0.9 --no-enable-prefix-caching --max-num-batched-tokens 8192 --kv-cache-dtype fp8 --extra",
			[]string{"HF_HOME=/cache"}, "", "/health"},
		{"the launch planning rendered, the settings' engine arguments in it already", planned,
			"vllm serve m --port 8000", []string{"HF_HOME=/planned", "VLLM_X=1"}, "vllm/vllm-openai:v0.12.0", "/ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := Render(Spec{Point: tt.point, Name: "e", Port: 8000, TimeScale: 10, ExtraArgs: []string{"--extra"}, Env: map[string]string{"HF_HOME": "/cache"}}, "/bin/infersweep", "127.0.0.1")
			require.NoError(t, err)
			require.Equal(t, tt.wantArgs, strings.Join(cmd.Args, " "))
			require.Equal(t, tt.wantEnv, cmd.Env)
			require.Equal(t, tt.wantImage, cmd.Image)
			require.Equal(t, tt.wantReady, cmd.ReadyPath)
		})
	}
	cmd, err := Render(Spec{Point: planned, Port: 8000}, "x", "h")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"/cfg.yaml": "port: 8000\n"}, cmd.Files, "files are filled in too")
	multi := point("dynamo-trt")
	multi.Multinode = true
	_, err = Render(Spec{Point: multi}, "x", "h")
	require.ErrorIs(t, err, ErrNoRecipe)
	require.ErrorContains(t, err, "each role of its deployment starts apart (RenderRole)")
}

func TestClassify(t *testing.T) {
	require.Equal(t, ConfigFailure, Classify("ERROR torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"))
	require.Equal(t, ConfigFailure, Classify("vllm: error: unrecognized arguments: --bogus"))
	require.Equal(t, NodeFailure, Classify("RuntimeError: CUDA error: an illegal memory access was encountered"))
	require.Equal(t, NodeFailure, Classify(""))
}

// fakeEngine writes a script that prints lines and exits: an engine that
// dies during startup.
func fakeEngine(t *testing.T, output string, code int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "engine")
	script := "#!/bin/sh\nprintf '%s\\n' \"" + output + "\" >&2\nexit " + string(rune('0'+code)) + "\n"
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return path
}

func TestLocalStartClassifiesEarlyExits(t *testing.T) {
	tests := []struct {
		name   string
		output string
		kind   FailureKind
	}{
		{"out of memory is the config's fault", "torch.OutOfMemoryError: CUDA out of memory", ConfigFailure},
		{"a crash is the node's fault", "Segmentation fault (core dumped)", NodeFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Local{Self: fakeEngine(t, tt.output, 1)}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := l.Start(ctx, Spec{Point: point("sim"), TimeScale: 1})
			var start *StartError
			require.True(t, errors.As(err, &start), "got %v", err)
			require.Equal(t, tt.kind, start.Kind)
			require.Contains(t, start.LogTail, tt.output)
			require.Contains(t, start.Error(), "engine exited before it was ready")
		})
	}
}

func TestLocalStartTimesOutAndKillsTheEngine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine")
	pidFile := filepath.Join(t.TempDir(), "pid")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\necho $$ > "+pidFile+"\nexec sleep 60\n"), 0o755))
	l := &Local{Self: path, StopGrace: 100 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := l.Start(ctx, Spec{Point: point("sim")})
	var start *StartError
	require.True(t, errors.As(err, &start), "got %v", err)
	require.Equal(t, NodeFailure, start.Kind)
	require.Contains(t, start.Msg, "not ready after")
	pid, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	_, err = os.Stat("/proc/" + strings.TrimSpace(string(pid)))
	require.True(t, os.IsNotExist(err), "the engine process must be gone")
}

func TestTailBufferKeepsTheLastLines(t *testing.T) {
	b := &tailBuffer{max: 2}
	_, _ = b.Write([]byte("one\ntwo\nthr"))
	_, _ = b.Write([]byte("ee\nfour"))
	require.Equal(t, "two\nthree\nfour", b.String())
}

// A launch's files reach the engine at the paths its arguments name:
// copied under a folder of this host with the arguments pointed at the
// copies (local, Slurm), or mounted at their own paths (docker).
func TestLaunchFilesArePlacedOrMounted(t *testing.T) {
	files := map[string]string{"/workspace/a/cfg.yml": "a: 1\n", "/workspace/b/cfg.yml": "b: 2\n"}
	dir := t.TempDir()
	cmd := Command{Args: []string{"trtllm-serve", "--config", "/workspace/a/cfg.yml", "--extra=/workspace/b/cfg.yml"}, Files: files}
	placed := cmd.PlaceFiles(dir)
	a, b := filepath.Join(dir, "0-cfg.yml"), filepath.Join(dir, "1-cfg.yml")
	require.Equal(t, []string{"trtllm-serve", "--config", a, "--extra=" + b}, cmd.Args, "two files of one name stay apart")
	require.Equal(t, map[string]string{a: "a: 1\n", b: "b: 2\n"}, placed)
	require.NoError(t, writeFiles(placed))
	got, err := os.ReadFile(b)
	require.NoError(t, err)
	require.Equal(t, "b: 2\n", string(got))

	mounts, mounted := mountFiles(files, dir)
	require.Equal(t, []string{a + ":/workspace/a/cfg.yml:ro", b + ":/workspace/b/cfg.yml:ro"}, mounts)
	require.Equal(t, placed, mounted)
}
