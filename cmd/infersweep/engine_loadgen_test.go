package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine/simtest"
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

func TestLoadgenCommand(t *testing.T) {
	url := simtest.Start(t, 20, 0)
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
		{"metadata without =", []string{"--model", "m", "--max-concurrency", "1", "--metadata", "tp"}, exitUsage, `--metadata "tp": want KEY=VALUE`},
		{"metadata over a measured key", []string{"--model", "m", "--max-concurrency", "1", "--metadata", "completed=3"}, exitUsage, `metadata key "completed": the result file already writes it`},
		{"metadata InferenceX would read as ms", []string{"--model", "m", "--max-concurrency", "1", "--metadata", "platforms=h100"}, exitUsage, "reads every key ending in ms as a number"},
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

// TestResultFileReadsInInferenceXTools checks, on a file our loadgen wrote
// against the simulated engine, every property InferenceX's
// utils/process_result.py (843c625) and the aggregate_power.py it calls
// rely on.
func TestResultFileReadsInInferenceXTools(t *testing.T) {
	url := simtest.Start(t, 1, 0) // wall-clock: the power window is compared with duration
	resultFile := filepath.Join(t.TempDir(), "result.json")
	before := float64(time.Now().UnixNano()) / 1e9
	code, _, stderr := runCLI(t, "loadgen", "--base-url", url, "--wait-ready", "5s", "--max-concurrency", "4", "--num-prompts", "8",
		"--random-input-len", "64", "--random-output-len", "8", "--result-file", resultFile,
		"--metadata", "version=0.3.3", "--metadata", " tp = 1 ")
	require.Equal(t, exitOK, code, stderr)
	after := float64(time.Now().UnixNano()) / 1e9
	require.Regexp(t, `Not measured \(left out of the JSON\): +mean_schedule_delay_ms, p99_schedule_delay_ms\n`, stderr)

	data, err := os.ReadFile(resultFile)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // tells 8 from 8.0: Python's isinstance(v, int) does
	var res map[string]any
	require.NoError(t, dec.Decode(&res))

	number := func(key string) float64 {
		t.Helper()
		n, ok := res[key].(json.Number)
		require.True(t, ok, "%s: want a number, got %#v", key, res[key])
		f, err := n.Float64()
		require.NoError(t, err, key)
		require.False(t, math.IsNaN(f) || math.IsInf(f, 0), key)
		return f
	}
	integer := func(key string) int64 {
		t.Helper()
		n, ok := res[key].(json.Number)
		require.True(t, ok, "%s: want an integer, got %#v", key, res[key])
		i, err := n.Int64()
		require.NoError(t, err, "%s: want a JSON integer, got %s", key, n)
		return i
	}
	ints := func(key string) []int64 {
		t.Helper()
		list, ok := res[key].([]any)
		require.True(t, ok, "%s: want a list, got %#v", key, res[key])
		out := make([]int64, len(list))
		for i, v := range list {
			n, ok := v.(json.Number)
			require.True(t, ok, "%s[%d]", key, i)
			out[i], err = n.Int64()
			require.NoError(t, err, "%s[%d]", key, i)
		}
		return out
	}

	// process_result.py: int(max_concurrency), model_id, and the two
	// throughputs it divides per GPU.
	require.EqualValues(t, 4, integer("max_concurrency"))
	require.Equal(t, "llama-3.1-8b", res["model_id"])
	total, output := number("total_token_throughput"), number("output_throughput")
	require.Greater(t, output, 0.0)
	require.Greater(t, total, output, "input throughput = total − output must be positive")

	// float(value) / 1000 on every key ending in ms (a missing figure is
	// left out, never null), 1000 / float(value) on every key with tpot.
	var msKeys, tpotKeys int
	for key := range res {
		if strings.HasSuffix(key, "ms") {
			number(key)
			msKeys++
		}
		if strings.Contains(key, "tpot") {
			require.NotZero(t, number(key), key)
			tpotKeys++
		}
	}
	require.Equal(t, 26, msKeys, "6 figures each of TTFT, TPOT, ITL and E2EL, and queue time's 2; a closed loop has no schedule delay")
	require.Equal(t, 6, tpotKeys)

	// aggregate_power.py: a numeric window that brackets the run, whose
	// length agrees with duration within max(0.5 s, 1%), and positive
	// integer counts to divide energy by.
	start, end, duration := number("benchmark_start_time_unix"), number("benchmark_end_time_unix"), number("duration")
	require.Less(t, before, start)
	require.Less(t, start, end)
	require.Less(t, end, after)
	require.Positive(t, duration)
	require.InDelta(t, end-start, duration, max(0.5, 0.01*(end-start)))
	completed, inputTokens, outputTokens := integer("completed"), integer("total_input_tokens"), integer("total_output_tokens")
	require.EqualValues(t, 8, completed)
	require.Positive(t, inputTokens)
	require.EqualValues(t, 64, outputTokens)

	// benchmark_serving.py's other keys: per-request lengths that add up
	// to the totals, tokenizer, best_of, goodput's colon key, metadata.
	inputLens, outputLens := ints("input_lens"), ints("output_lens")
	require.Len(t, inputLens, 8)
	require.Equal(t, []int64{8, 8, 8, 8, 8, 8, 8, 8}, outputLens)
	var sumIn int64
	for _, n := range inputLens {
		require.InDelta(t, 64, n, 64*0.2, "--random-range-ratio 0.8 by default")
		sumIn += n
	}
	require.Equal(t, inputTokens, sumIn)
	require.Equal(t, "llama-3.1-8b", res["tokenizer_id"])
	require.EqualValues(t, 1, integer("best_of"))
	require.Contains(t, res, "request_goodput:")
	require.Nil(t, res["request_goodput:"], "no --goodput: null, as upstream")
	require.Equal(t, "0.3.3", res["version"])
	require.Equal(t, "1", res["tp"], "metadata trimmed, as upstream")
}

// failEvery answers every nth completion with HTTP 500 and streams the
// others as vLLM does.
func failEvery(n int64) http.HandlerFunc {
	var count atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1)%n == 0 {
			http.Error(w, "engine overloaded", http.StatusInternalServerError)
			return
		}
		var req struct {
			MaxTokens int `json:"max_tokens"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for range req.MaxTokens {
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" tok\"}]}\n\n")
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

func TestLoadgenFailsAboveTheFailureRate(t *testing.T) {
	srv := httptest.NewServer(failEvery(4))
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"2 of 8 failed: above InferenceX's 5%", nil, exitFailure,
			"request failure rate 25.0% exceeds the 5% threshold (6/8 completed) (raise --max-failure-rate to accept it): first reason: HTTP 500"},
		{"a higher limit accepts it", []string{"--max-failure-rate", "0.3"}, exitOK, ""},
		{"a percentage is refused", []string{"--max-failure-rate", "5"}, exitUsage, "--max-failure-rate 5: want a fraction from 0 to 1; InferenceX uses 0.05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resultFile := filepath.Join(t.TempDir(), "result.json")
			args := append([]string{"loadgen", "--base-url", srv.URL, "--model", "m", "--max-concurrency", "1", "--num-prompts", "8",
				"--num-warmups", "0", "--random-output-len", "4", "--result-file", resultFile}, tt.args...)
			code, _, stderr := runCLI(t, args...)
			require.Equal(t, tt.wantCode, code, stderr)
			require.Contains(t, stderr, tt.wantErr)
			if tt.wantCode == exitUsage {
				return
			}
			// Written either way, as benchmark_serving.py writes it before failing.
			data, err := os.ReadFile(resultFile)
			require.NoError(t, err)
			var res map[string]any
			require.NoError(t, json.Unmarshal(data, &res))
			require.EqualValues(t, 6, res["completed"])
			require.EqualValues(t, 2, res["failed"])
		})
	}
}
