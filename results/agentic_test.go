package results

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/sweep"
)

func TestAgenticColumns(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	nan := loadgen.Metric(math.NaN())
	tests := []struct {
		name       string
		point      sweep.Point
		agentic    *loadgen.Agentic
		want       PointRow
		tag        string
		hit        float64
		estimated  bool
		hasHitRate bool
	}{
		{"fixed-seq-len: scenario only", sweep.Point{Scenario: sweep.ScenarioFixedSeqLen}, nil,
			PointRow{ScenarioType: sweep.ScenarioFixedSeqLen}, "", 0, false, false},
		{"agentic in HBM, the engine's hit rate", sweep.Point{Scenario: sweep.ScenarioAgentic, KVOffloading: "none"},
			&loadgen.Agentic{SessionsStarted: 12, SessionsCompleted: 9, SessionThroughput: 0.5, MeanConcurrentRequests: 3.5,
				EstPrefixHitRate: 0.9, ServerPrefixHitRate: 0.8, ServerPrefixHitSource: "vllm:prefix_cache_hits_total",
				SessionLatency: loadgen.Percentiles{Mean: 60000, Median: 55000, P90: 90000, P99: 99000}},
			PointRow{ScenarioType: sweep.ScenarioAgentic, KVOffloading: "none", SessionsStarted: i32(12), SessionsCompleted: i32(9),
				SessionThroughput: f(0.5), MeanConcurrentRequests: f(3.5), EstPrefixHitRate: f(0.9), ServerPrefixHitRate: f(0.8),
				ServerPrefixHitSource: "vllm:prefix_cache_hits_total", SessionLatency: Dist{Mean: f(60000), Median: f(55000), P90: f(90000), P99: f(99000)}},
			"", 0.8, false, true},
		{"agentic offloading to LMCache, no engine hit rate: the client's estimate",
			sweep.Point{Scenario: sweep.ScenarioAgentic, KVOffloading: "dram", KVOffloadBack: &sweep.Component{Name: "lmcache", Version: "0.3.9"}, TotalCPUDRAMGB: 1199},
			&loadgen.Agentic{SessionsStarted: 4, EstPrefixHitRate: 0.7, ServerPrefixHitRate: nan,
				SessionLatency:  loadgen.Percentiles{Mean: nan, Median: nan, P90: nan, P99: nan},
				OffloadCounters: map[string]float64{"vllm:b": 2, "vllm:a": 1}},
			PointRow{ScenarioType: sweep.ScenarioAgentic, KVOffloading: "dram", KVOffloadBackend: "lmcache", KVOffloadBackendVersion: "0.3.9",
				AllocatedCPUDRAMGB: i32(1199), SessionsStarted: i32(4), SessionsCompleted: i32(0), SessionThroughput: f(0), MeanConcurrentRequests: f(0), EstPrefixHitRate: f(0.7),
				OffloadCounters: `{"vllm:a":1,"vllm:b":2}`}, "kv:dram/lmcache", 0.7, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var row PointRow
			row.SetScenario(tt.point)
			row.agenticFigures(tt.agentic)
			require.Equal(t, tt.want, row)
			require.Equal(t, tt.tag, row.OffloadTag())
			hit, estimated, ok := row.PrefixHitRate()
			require.Equal(t, tt.hasHitRate, ok)
			require.Equal(t, tt.hit, hit)
			require.Equal(t, tt.estimated, estimated)
		})
	}
}
