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
// 5,000) concurrent streams from one sim at time-scale 1, driven by the
// load generator in the same process, and reports the step schedule's p99
// lag, tokens/s and bytes per stream (client and server together: both live
// in this process). Each stream costs two file descriptors here; the
// 10,000-stream figure needs the sim and the client in two processes (see
// the README).
//
//	go test ./simengine -run '^$' -bench ConcurrentStreams -benchtime 1x
func BenchmarkConcurrentStreams(b *testing.B) {
	streams := 5_000
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

// BenchmarkITLFidelity compares, chunk by chunk, the inter-token latencies
// the load generator measured with the gaps between the server's flushes
// of the same chunks, at INFERSWEEP_BENCH_STREAMS (default 1,000)
// concurrent streams, both in this process. Reports the p50 and p99 of
// |client ITL − server ITL|.
func BenchmarkITLFidelity(b *testing.B) {
	streams := 1000
	if v, err := strconv.Atoi(os.Getenv("INFERSWEEP_BENCH_STREAMS")); err == nil && v > 0 {
		streams = v
	}
	m, _ := simengine.LookupModel("llama-3.3-70b")
	h, _ := simengine.LookupHardware("b200")
	for b.Loop() {
		srv, err := simengine.NewServer(simengine.ServerConfig{
			Engine: simengine.EngineConfig{Model: m, Hardware: h, Precision: simengine.FP8, TP: 8, MaxNumSeqs: streams,
				MaxNumBatchedTokens: 8192, MaxModelLen: 4096, GPUMemoryUtilization: 0.9, Calibration: simengine.DefaultCalibration()},
			ServedModelName: "m", TimeScale: 1, RecordChunks: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = srv.Run(ctx) }()
		httpSrv := httptest.NewServer(srv.Handler())
		w := loadgen.DefaultWorkload()
		w.Model, w.InputLen, w.OutputLen = "m", 256, 200
		res, err := loadgen.Run(ctx, loadgen.Config{BaseURL: httpSrv.URL, Workload: w, MaxConcurrency: streams, NumPrompts: streams})
		if err != nil {
			b.Fatal(err)
		}
		server := map[string][]int64{}
		for _, d := range srv.DebugRequests() {
			server[d.RequestID] = d.ChunkNs
		}
		var diffs []float64
		for _, rec := range res.Records {
			chunks := server[loadgen.RequestID(w.Seed, rec.Index)]
			for i, itl := range rec.ITLs {
				if i+1 >= len(chunks) {
					break
				}
				serverGap := float64(chunks[i+1]-chunks[i]) / 1e6
				d := float64(itl)/1000 - serverGap
				diffs = append(diffs, max(d, -d))
			}
		}
		slices.Sort(diffs)
		b.ReportMetric(diffs[len(diffs)/2], "p50-abs-diff-ms")
		b.ReportMetric(diffs[len(diffs)*99/100], "p99-abs-diff-ms")
		b.ReportMetric(float64(len(diffs)), "chunks-compared")
		httpSrv.Close()
		cancel()
	}
}
