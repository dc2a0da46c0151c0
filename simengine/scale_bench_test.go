package simengine_test

import (
	"context"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/simengine"
)

// BenchmarkConcurrentStreams serves INFERSWEEP_BENCH_STREAMS (default
// 10,000) concurrent streams from one sim at time-scale 1, driven by the
// load generator in the same process, and reports the step schedule's p99
// lag, tokens/s and bytes per stream (client and server together: both live
// in this process).
//
//	go test ./simengine -run '^$' -bench ConcurrentStreams -benchtime 1x
func BenchmarkConcurrentStreams(b *testing.B) {
	streams := 10_000
	if v, err := strconv.Atoi(os.Getenv("INFERSWEEP_BENCH_STREAMS")); err == nil && v > 0 {
		streams = v
	}
	m, _ := simengine.LookupModel("llama-3.3-70b")
	h, _ := simengine.LookupHardware("mi355x")
	for b.Loop() {
		srv, err := simengine.NewServer(simengine.ServerConfig{
			Engine: simengine.EngineConfig{Model: m, Hardware: h, Precision: simengine.FP8, TP: 8, MaxNumSeqs: streams,
				MaxNumBatchedTokens: 65536, MaxModelLen: 4096, GPUMemoryUtilization: 0.9, Calibration: simengine.DefaultCalibration()},
			ServedModelName: "m", TimeScale: 1,
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = srv.Run(ctx) }()
		httpSrv := httptest.NewServer(srv.Handler())

		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak uint64
		var mu sync.Mutex
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					mu.Lock()
					peak = max(peak, ms.HeapInuse+ms.StackInuse)
					mu.Unlock()
				}
			}
		})

		w := loadgen.DefaultWorkload()
		w.Model, w.InputLen, w.OutputLen, w.RangeRatio = "m", 64, 128, 1
		started := time.Now()
		res, err := loadgen.Run(ctx, loadgen.Config{BaseURL: httpSrv.URL, Workload: w, MaxConcurrency: streams, NumPrompts: streams,
			NumWarmups: 0, StallTimeout: 5 * time.Minute})
		wall := time.Since(started)
		close(stop)
		sampler.Wait()
		if err != nil {
			b.Fatal(err)
		}
		lags := srv.StepLag()
		slices.Sort(lags)
		p99 := lags[len(lags)*99/100]
		b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-step-lag-ms")
		b.ReportMetric(float64(res.Summary.TotalOutputTokens)/wall.Seconds(), "tokens/s")
		b.ReportMetric(float64(peak-(base.HeapInuse+base.StackInuse))/float64(streams), "bytes/stream")
		b.ReportMetric(float64(res.Summary.MaxConcurrentReqs), "peak-streams")
		b.ReportMetric(float64(res.Summary.Failed), "failed")
		httpSrv.Close()
		cancel()
	}
}
