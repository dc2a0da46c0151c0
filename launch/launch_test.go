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

func TestRecipes(t *testing.T) {
	tests := []struct {
		framework string
		want      string
	}{
		{"sim", "/bin/infersweep engine sim --model llama-3.3-70b --hardware h100 --precision fp8 --tp 8 --port 8000 --max-num-seqs 64 --max-model-len 2304 --served-model-name meta-llama/Llama-3.3-70B-Instruct --time-scale 10 --log-level info --seed 14695981039346656037 --extra"},
		{"vllm", "vllm serve meta-llama/Llama-3.3-70B-Instruct --port 8000 --tensor-parallel-size 8 --max-num-seqs 64 --max-model-len 2304 --gpu-memory-utilization 0.9 --no-enable-prefix-caching --max-num-batched-tokens 8192 --kv-cache-dtype fp8 --extra"},
		{"sglang", "python3 -m sglang.launch_server --model-path meta-llama/Llama-3.3-70B-Instruct --port 8000 --tp 8 --disable-radix-cache --mem-fraction-static 0.82 --extra"},
		{"trt", "trtllm-serve meta-llama/Llama-3.3-70B-Instruct --port 8000 --tp_size 8 --ep_size 1 --max_seq_len 2304 --max_batch_size 64 --extra"},
	}
	for _, tt := range tests {
		t.Run(tt.framework, func(t *testing.T) {
			cmd, err := Recipe(Spec{Point: point(tt.framework), Port: 8000, TimeScale: 10, ExtraArgs: []string{"--extra"}, Env: map[string]string{"HF_HOME": "/cache"}}, "/bin/infersweep")
			require.NoError(t, err)
			require.Equal(t, tt.want, strings.Join(cmd.Args, " "))
			require.Equal(t, []string{"HF_HOME=/cache"}, cmd.Env)
		})
	}
	_, err := Recipe(Spec{Point: point("atom")}, "x")
	require.ErrorIs(t, err, ErrUnsupportedFramework)
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
