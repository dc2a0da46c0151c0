// Package simtest serves the simulated engine in-process for tests of
// other packages: a Llama-3.1-8B on one H100, as the load generator and
// the eval runner test against it.
package simtest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/infersweep/infersweep/simengine"
)

// Start serves the engine, timeScale times faster than real time,
// answering the generated arithmetic set right with probability accuracy
// (0: filler tokens), until the test ends; it returns the base URL.
func Start(tb testing.TB, timeScale, accuracy float64) string {
	tb.Helper()
	m, err := simengine.LookupModel("llama-3.1-8b")
	if err != nil {
		tb.Fatal(err)
	}
	h, err := simengine.LookupHardware("h100")
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := simengine.NewServer(simengine.ServerConfig{
		Engine: simengine.EngineConfig{Model: m, Hardware: h, Precision: simengine.FP8, TP: 1, MaxNumSeqs: 256, MaxNumBatchedTokens: 8192,
			MaxModelLen: 8192, GPUMemoryUtilization: 0.9, Calibration: simengine.DefaultCalibration()},
		ServedModelName: "llama-3.1-8b", TimeScale: timeScale, Accuracy: accuracy,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	httpSrv := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		cancel()
		httpSrv.Close()
		<-done
	})
	return httpSrv.URL
}
