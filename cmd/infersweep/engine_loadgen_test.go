package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLIContext(context.Background(), t, args...)
}

func runCLIContext(ctx context.Context, t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestEnginePredictJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, "engine", "predict", "--hardware", "h100,b200", "--conc", "4,64", "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var rows []struct {
		Hardware      string  `json:"hardware"`
		Concurrency   int     `json:"concurrency"`
		TputPerGPU    float64 `json:"tput_per_gpu"`
		Interactivity float64 `json:"interactivity"`
		TimeBasis     string  `json:"time_basis"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &rows))
	require.Len(t, rows, 4)
	require.Equal(t, "h100", rows[0].Hardware)
	require.Greater(t, rows[1].TputPerGPU, rows[0].TputPerGPU, "throughput rises with concurrency")
	require.Less(t, rows[1].Interactivity, rows[0].Interactivity, "interactivity falls with concurrency")
	require.Greater(t, rows[3].TputPerGPU, rows[1].TputPerGPU, "B200 above H100")
	require.Equal(t, "simulated (model prediction)", rows[0].TimeBasis)
}

func TestEngineSimRefusesConfigsThatDoNotFit(t *testing.T) {
	code, _, stderr := runCLI(t, "engine", "sim", "--model", "llama-3.3-70b", "--precision", "bf16", "--tp", "1", "--port", "0")
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, "CUDA out of memory: llama-3.3-70b bf16 weights need 131.5 GiB per GPU at TP 1")

	code, _, stderr = runCLI(t, "engine", "sim", "--hardware", "tpu-v9")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, `hardware "tpu-v9" is not in the catalogue`)
}

func startTestSim(t *testing.T) string {
	t.Helper()
	m, err := simengine.LookupModel("llama-3.1-8b")
	require.NoError(t, err)
	h, err := simengine.LookupHardware("h100")
	require.NoError(t, err)
	srv, err := simengine.NewServer(simengine.ServerConfig{
		Engine: simengine.EngineConfig{Model: m, Hardware: h, Precision: simengine.FP8, TP: 1, MaxNumSeqs: 64, MaxNumBatchedTokens: 8192,
			MaxModelLen: 4096, GPUMemoryUtilization: 0.9, Calibration: simengine.DefaultCalibration()},
		ServedModelName: "llama-3.1-8b", TimeScale: 20,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = srv.Run(ctx) }()
	httpSrv := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { cancel(); httpSrv.Close() })
	return httpSrv.URL
}

func TestLoadgenCommand(t *testing.T) {
	url := startTestSim(t)
	resultFile := filepath.Join(t.TempDir(), "result.json")
	code, stdout, stderr := runCLI(t, "loadgen", "--base-url", url, "--wait-ready", "5s", "--max-concurrency", "4", "--num-prompts", "8",
		"--random-input-len", "64", "--random-output-len", "8", "--time-scale", "20", "--goodput", "ttft:60000 tpot:1000", "--result-file", resultFile, "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "Serving Benchmark Result")
	require.Contains(t, stderr, "simulated (wall-clock × time_scale)")

	var summary map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &summary))
	require.EqualValues(t, 8, summary["completed"])
	require.EqualValues(t, 64, summary["total_output_tokens"])
	require.Equal(t, "llama-3.1-8b", summary["model_id"], "model found through /v1/models")
	require.InDelta(t, summary["request_throughput"], summary["request_goodput"], 1e-9, "generous SLOs: every request counts")
	fromFile, err := os.ReadFile(resultFile)
	require.NoError(t, err)
	require.Contains(t, string(fromFile), `"median_ttft_ms"`)
}

func TestLoadgenExitCodes(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	unreachable := "http://" + closed.Addr().String()
	closed.Close()

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"bad range mode", []string{"--range-mode", "uniform", "--model", "m", "--max-concurrency", "1"}, exitUsage, `range-mode "uniform"`},
		{"closed loop without concurrency", []string{"--model", "m"}, exitUsage, "request-rate inf needs max-concurrency"},
		{"bad goodput", []string{"--model", "m", "--max-concurrency", "1", "--goodput", "latency:5"}, exitUsage, `metric "latency" is not ttft, tpot or e2el`},
		{"every request fails", []string{"--base-url", unreachable, "--model", "m", "--max-concurrency", "2", "--num-prompts", "4", "--num-warmups", "0"}, exitFailure, "every measured request failed (4 requests)"},
		{"no server to ask for the model", []string{"--base-url", unreachable, "--max-concurrency", "2"}, exitFailure, "find the served model (or pass --model)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"loadgen"}, tt.args...)...)
			require.Equal(t, tt.wantCode, code, stderr)
			require.Contains(t, stderr, tt.wantErr)
		})
	}
}
