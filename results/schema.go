package results

import (
	"math"
	"time"

	"github.com/infersweep/infersweep/loadgen"
)

// SchemaVersion is written into every file's key-value metadata. parquet-go
// silently converts mismatched column types on read, so readers check the
// version instead of trusting the schema to fail loudly.
const SchemaVersion = "1"

const schemaVersionKey = "infersweep.schema_version"

// PointRow is one benchmark point: identity, workload, outcome and every
// figure the load generator summarised. Partition columns (dt, hardware)
// live in the object path only: DuckDB prefers the path value silently, so
// repeating them inside the file could only disagree. Figures that were not
// measured are null, never 0. Times and rates are in the run's time basis.
type PointRow struct {
	SweepID     string `parquet:"sweep_id,dict" json:"sweep_id"`
	PointID     string `parquet:"point_id" json:"point_id"`
	Entry       string `parquet:"entry,dict" json:"entry"`
	Model       string `parquet:"model,dict" json:"model"`
	ModelPrefix string `parquet:"model_prefix,dict" json:"model_prefix"`
	Precision   string `parquet:"precision,dict" json:"precision"`
	Framework   string `parquet:"framework,dict" json:"framework"`
	Image       string `parquet:"image,dict" json:"image"`
	Runner      string `parquet:"runner,dict" json:"runner"`
	Node        string `parquet:"node,dict" json:"node"`
	TP          int32  `parquet:"tp" json:"tp"`
	EP          int32  `parquet:"ep" json:"ep"`
	PP          int32  `parquet:"pp" json:"pp"`
	DPAttn      bool   `parquet:"dp_attn" json:"dp_attn"`
	DCPSize     int32  `parquet:"dcp_size" json:"dcp_size"`
	PCPSize     int32  `parquet:"pcp_size" json:"pcp_size"`
	Disagg      bool   `parquet:"disagg" json:"disagg"`
	// Topology reads a multinode deployment at a glance, as upstream's
	// job names print it: "1P (TP8/EP8/DPA) x 2D (TP16/EP16/DPA), 6 nodes".
	Topology    string `parquet:"topology,dict" json:"topology"`
	GPUs        int32  `parquet:"gpus" json:"gpus"`
	ISL         int32  `parquet:"isl" json:"isl"`
	OSL         int32  `parquet:"osl" json:"osl"`
	Conc        int32  `parquet:"conc" json:"conc"`
	RequestRate string `parquet:"request_rate,dict" json:"request_rate"`

	// A multinode point's deployment, in the columns InferenceX's
	// process_result.py writes (843c625, lines 214-238), plus the nodes
	// each role took; null on single-node rows (SetTopology fills them).
	// Flat, not an embedded struct: parquet-go reads an embedded
	// struct's null pointers back as zeros.
	IsMultinode  bool   `parquet:"is_multinode" json:"is_multinode"`
	DeploymentID string `parquet:"deployment_id,dict" json:"deployment_id,omitempty"`
	Nodes        *int32 `parquet:"nodes,optional" json:"nodes,omitempty"`

	PrefillNumWorkers  *int32 `parquet:"prefill_num_workers,optional" json:"prefill_num_workers,omitempty"`
	PrefillTP          *int32 `parquet:"prefill_tp,optional" json:"prefill_tp,omitempty"`
	PrefillPP          *int32 `parquet:"prefill_pp,optional" json:"prefill_pp,omitempty"`
	PrefillDCPSize     *int32 `parquet:"prefill_dcp_size,optional" json:"prefill_dcp_size,omitempty"`
	PrefillPCPSize     *int32 `parquet:"prefill_pcp_size,optional" json:"prefill_pcp_size,omitempty"`
	PrefillEP          *int32 `parquet:"prefill_ep,optional" json:"prefill_ep,omitempty"`
	PrefillDPAttention *bool  `parquet:"prefill_dp_attention,optional" json:"prefill_dp_attention,omitempty"`
	NumPrefillGPU      *int32 `parquet:"num_prefill_gpu,optional" json:"num_prefill_gpu,omitempty"`
	PrefillNodes       *int32 `parquet:"prefill_nodes,optional" json:"prefill_nodes,omitempty"`
	PrefillHW          string `parquet:"prefill_hw,dict" json:"prefill_hw,omitempty"`

	DecodeNumWorkers  *int32 `parquet:"decode_num_workers,optional" json:"decode_num_workers,omitempty"`
	DecodeTP          *int32 `parquet:"decode_tp,optional" json:"decode_tp,omitempty"`
	DecodePP          *int32 `parquet:"decode_pp,optional" json:"decode_pp,omitempty"`
	DecodeDCPSize     *int32 `parquet:"decode_dcp_size,optional" json:"decode_dcp_size,omitempty"`
	DecodePCPSize     *int32 `parquet:"decode_pcp_size,optional" json:"decode_pcp_size,omitempty"`
	DecodeEP          *int32 `parquet:"decode_ep,optional" json:"decode_ep,omitempty"`
	DecodeDPAttention *bool  `parquet:"decode_dp_attention,optional" json:"decode_dp_attention,omitempty"`
	NumDecodeGPU      *int32 `parquet:"num_decode_gpu,optional" json:"num_decode_gpu,omitempty"`
	DecodeNodes       *int32 `parquet:"decode_nodes,optional" json:"decode_nodes,omitempty"`
	DecodeHW          string `parquet:"decode_hw,dict" json:"decode_hw,omitempty"`

	NumPrompts   int32    `parquet:"num_prompts" json:"num_prompts"`
	NumWarmups   int32    `parquet:"num_warmups" json:"num_warmups"`
	RangeRatio   float64  `parquet:"random_range_ratio" json:"random_range_ratio"`
	RangeMode    string   `parquet:"range_mode,dict" json:"range_mode"`
	Seed         int64    `parquet:"seed" json:"seed"`
	MeanInputLen *float64 `parquet:"mean_input_len,optional" json:"mean_input_len"`
	MeanOutLen   *float64 `parquet:"mean_output_len,optional" json:"mean_output_len"`

	Status     string `parquet:"status,dict" json:"status"`           // succeeded, failed, skipped
	ErrorClass string `parquet:"error_class,dict" json:"error_class"` // ConfigError, NodeFault, FailureRate (activities' error types)
	Error      string `parquet:"error" json:"error"`
	Attempts   int32  `parquet:"attempts" json:"attempts"`

	Start          time.Time `parquet:"start,timestamp(microsecond)" json:"start"`
	End            time.Time `parquet:"end,timestamp(microsecond)" json:"end"`
	EngineStartupS *float64  `parquet:"engine_startup_s,optional" json:"engine_startup_s"`

	DurationS            *float64 `parquet:"duration_s,optional" json:"duration_s"`
	Completed            int32    `parquet:"completed" json:"completed"`
	Failed               int32    `parquet:"failed" json:"failed"`
	TotalInputTokens     int64    `parquet:"total_input_tokens" json:"total_input_tokens"`
	TotalOutputTokens    int64    `parquet:"total_output_tokens" json:"total_output_tokens"`
	RequestThroughput    *float64 `parquet:"request_throughput,optional" json:"request_throughput"`
	RequestGoodput       *float64 `parquet:"request_goodput,optional" json:"request_goodput"`
	OutputThroughput     *float64 `parquet:"output_throughput,optional" json:"output_throughput"`
	TotalTokenThroughput *float64 `parquet:"total_token_throughput,optional" json:"total_token_throughput"`
	MaxConcurrentReqs    int32    `parquet:"max_concurrent_requests" json:"max_concurrent_requests"`
	TTFT                 Dist     `parquet:"ttft_ms" json:"ttft_ms"`
	TPOT                 Dist     `parquet:"tpot_ms" json:"tpot_ms"`
	// ITL is per chunk: the gaps between streamed chunks, which hold
	// TokensPerChunk tokens on average (engines run with a stream interval
	// send several). TPOT is per token.
	ITL            Dist     `parquet:"itl_ms" json:"itl_ms"`
	TokensPerChunk *float64 `parquet:"tokens_per_chunk,optional" json:"tokens_per_chunk"`
	E2EL           Dist     `parquet:"e2el_ms" json:"e2el_ms"`
	TimeScale      float64  `parquet:"time_scale" json:"time_scale"`
	TimeBasis      string   `parquet:"time_basis,dict" json:"time_basis"`

	TputPerGPU       *float64 `parquet:"tput_per_gpu,optional" json:"tput_per_gpu"`
	InputTputPerGPU  *float64 `parquet:"input_tput_per_gpu,optional" json:"input_tput_per_gpu"`
	OutputTputPerGPU *float64 `parquet:"output_tput_per_gpu,optional" json:"output_tput_per_gpu"`
	Interactivity    *float64 `parquet:"interactivity,optional" json:"interactivity"`         // 1000 / median TPOT, tok/s/user
	InteractivityP99 *float64 `parquet:"interactivity_p99,optional" json:"interactivity_p99"` // 1000 / p99 TPOT

	AvgPowerW      *float64 `parquet:"avg_power_w,optional" json:"avg_power_w"` // per GPU, when sampled
	JoulesPerToken *float64 `parquet:"joules_per_token,optional" json:"joules_per_token"`

	EngineVersion string `parquet:"engine_version,dict" json:"engine_version"`
	ImageDigest   string `parquet:"image_digest,dict" json:"image_digest"`
	// SpecDecoding is the point's speculative decoding ("none", "mtp"):
	// MTP and plain points of one hardware and framework are two series.
	SpecDecoding string `parquet:"spec_decoding,dict" json:"spec_decoding,omitempty"`
	// LaunchRecipe is the engine recipe that launched the point and
	// LaunchFingerprint the digest of what it ran (image, arguments,
	// environment, files): equal fingerprints ran the same launch.
	// Upstream's recipe_fingerprint, a digest of the matrix row, is
	// another thing.
	LaunchRecipe      string `parquet:"launch_recipe,dict" json:"launch_recipe,omitempty"`
	LaunchFingerprint string `parquet:"launch_fingerprint,dict" json:"launch_fingerprint,omitempty"`
	// Where the engine ran, as its backend names it: the host, the
	// container id or Slurm job id, the Slurm partition.
	EngineHost        string `parquet:"engine_host,dict" json:"engine_host,omitempty"`
	EngineJob         string `parquet:"engine_job" json:"engine_job,omitempty"`
	EnginePartition   string `parquet:"engine_partition,dict" json:"engine_partition,omitempty"`
	InfersweepVersion string `parquet:"infersweep_version,dict" json:"infersweep_version"`
	ConfigDigest      string `parquet:"config_digest" json:"config_digest"`

	// ScenarioType is upstream's scenario_type: fixed-seq-len, or
	// agentic-coding for a trace replay (SetScenario); the columns after
	// it are an agentic point's, under process_agentic_result.py's names
	// where it has them, and null (or empty) on every other row.
	ScenarioType     string `parquet:"scenario_type,dict" json:"scenario_type,omitempty"`
	KVOffloading     string `parquet:"kv_offloading,dict" json:"kv_offloading,omitempty"`
	KVOffloadBackend string `parquet:"kv_offload_backend,dict" json:"kv_offload_backend,omitempty"`
	// KVOffloadBackendVersion is the backend's own release where it has
	// one (LMCache, Mooncake), as upstream's metadata gives it.
	KVOffloadBackendVersion string `parquet:"kv_offload_backend_version,dict" json:"kv_offload_backend_version,omitempty"`
	AllocatedCPUDRAMGB      *int32 `parquet:"allocated_cpu_dram_gb,optional" json:"allocated_cpu_dram_gb,omitempty"`
	// TraceDigest names the replayed trace by its bytes (synthesized ones
	// by their parameters' bytes), TraceSource where it came from.
	TraceDigest string `parquet:"trace_digest,dict" json:"trace_digest,omitempty"`
	TraceSource string `parquet:"trace_source,dict" json:"trace_source,omitempty"`
	// What the replay measured beyond a random load's figures (loadgen's
	// Agentic; flat, as parquet-go reads an embedded struct's nulls back
	// as zeros): sessions, the concurrency actually held, the prefix-cache
	// hit rate the client estimates from the trace and the one the
	// engine's /metrics gave (and from which series), and the engine's
	// offload counters over the window as JSON.
	SessionsStarted   *int32   `parquet:"sessions_started,optional" json:"sessions_started,omitempty"`
	SessionsCompleted *int32   `parquet:"sessions_completed,optional" json:"sessions_completed,omitempty"`
	SessionThroughput *float64 `parquet:"session_throughput,optional" json:"session_throughput,omitempty"`
	// SessionLatency: first request to last answer of the sessions
	// replayed whole, in ms (mean, median, p90, p99).
	SessionLatency         Dist     `parquet:"session_latency_ms" json:"session_latency_ms"`
	MeanConcurrentRequests *float64 `parquet:"mean_concurrent_requests,optional" json:"mean_concurrent_requests,omitempty"`
	EstPrefixHitRate       *float64 `parquet:"est_prefix_cache_hit_rate,optional" json:"est_prefix_cache_hit_rate,omitempty"`
	ServerPrefixHitRate    *float64 `parquet:"server_prefix_cache_hit_rate,optional" json:"server_prefix_cache_hit_rate,omitempty"`
	ServerPrefixHitSource  string   `parquet:"server_prefix_cache_hit_source,dict" json:"server_prefix_cache_hit_source,omitempty"`
	OffloadCounters        string   `parquet:"kv_offload_counters" json:"kv_offload_counters,omitempty"`
}

// Dist is one latency metric's summary in milliseconds; null when no
// request produced it.
type Dist struct {
	Mean   *float64 `parquet:"mean,optional" json:"mean"`
	Median *float64 `parquet:"median,optional" json:"median"`
	Std    *float64 `parquet:"std,optional" json:"std"`
	P90    *float64 `parquet:"p90,optional" json:"p90"`
	P99    *float64 `parquet:"p99,optional" json:"p99"`
	P999   *float64 `parquet:"p999,optional" json:"p999"`
}

// RequestRow is one measured request. ITLs are float32 milliseconds: 24
// bits of mantissa keep 1 µs resolution up to 16 s gaps, finer than the
// clock the client reads them from.
type RequestRow struct {
	PointID       string    `parquet:"point_id,dict" json:"point_id"`
	Index         int32     `parquet:"index" json:"index"`
	SendTimeMs    float64   `parquet:"send_time_ms" json:"send_time_ms"` // from the start of the measured window
	QueueTimeMs   float32   `parquet:"queue_time_ms" json:"queue_time_ms"`
	TTFTms        *float32  `parquet:"ttft_ms,optional" json:"ttft_ms"`
	E2ELms        *float32  `parquet:"e2el_ms,optional" json:"e2el_ms"`
	TPOTms        *float32  `parquet:"tpot_ms,optional" json:"tpot_ms"`
	InputTokens   int32     `parquet:"input_tokens" json:"input_tokens"`
	OutputTokens  int32     `parquet:"output_tokens" json:"output_tokens"`
	UsageReported bool      `parquet:"usage_reported" json:"usage_reported"`
	ITLms         []float32 `parquet:"itl_ms,list" json:"itl_ms"`
	Error         string    `parquet:"error,optional" json:"error"`
	// SessionID and Turn (0-based) place a trace replay's request in its
	// session, for a per-turn requests table; null for random loads and
	// in files written before replays existed, which read as null too.
	SessionID *string `parquet:"session_id,optional,dict" json:"session_id,omitempty"`
	Turn      *int32  `parquet:"turn,optional" json:"turn,omitempty"`
}

// ServerMetricRow is one scraped engine gauge reading.
type ServerMetricRow struct {
	PointID string  `parquet:"point_id,dict" json:"point_id"`
	TimeMs  float64 `parquet:"time_ms" json:"time_ms"` // wall clock from the start of the measured window
	Name    string  `parquet:"name,dict" json:"name"`
	Labels  string  `parquet:"labels,dict" json:"labels"`
	Value   float64 `parquet:"value" json:"value"`
}

func opt(m loadgen.Metric) *float64 {
	f := float64(m)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func ms(d time.Duration) float32 { return float32(float64(d) / float64(time.Millisecond)) }

// RequestRows converts a run's records for the requests table.
func RequestRows(pointID string, records []loadgen.Record) []RequestRow {
	rows := make([]RequestRow, len(records))
	for i := range records {
		r := &records[i]
		row := RequestRow{
			PointID: pointID, Index: int32(r.Index), SendTimeMs: float64(r.SendTime) / float64(time.Millisecond),
			QueueTimeMs: ms(r.QueueTime), InputTokens: int32(r.InputTokens), OutputTokens: int32(r.OutputTokens),
			UsageReported: r.UsageReported, Error: r.Err,
		}
		if r.OK() {
			ttft, e2el := ms(r.TTFT), ms(r.E2EL)
			row.TTFTms, row.E2ELms = &ttft, &e2el
			if tpot, ok := r.TPOT(); ok {
				v := ms(tpot)
				row.TPOTms = &v
			}
		}
		if r.SessionID != "" {
			session, turn := r.SessionID, int32(r.Turn)
			row.SessionID, row.Turn = &session, &turn
		}
		row.ITLms = make([]float32, len(r.ITLs))
		for j, us := range r.ITLs {
			row.ITLms[j] = float32(us) / 1000
		}
		rows[i] = row
	}
	return rows
}

// SummaryFigures copies a load generator summary into a point row. Its
// per-GPU figures divide as InferenceX's process_result.py does, so a
// multinode row needs SetTopology first (see gpuDenominators).
func (p *PointRow) SummaryFigures(s loadgen.Summary) {
	p.NumPrompts, p.NumWarmups, p.RangeRatio, p.RangeMode, p.Seed = int32(s.NumPrompts), int32(s.NumWarmups), s.RandomRangeRatio, s.RangeMode, int64(s.Seed)
	p.RequestRate, p.MeanInputLen, p.MeanOutLen = s.RequestRate, opt(s.MeanInputLen), opt(s.MeanOutputLen)
	p.DurationS, p.Completed, p.Failed = opt(s.Duration), int32(s.Completed), int32(s.Failed)
	p.TotalInputTokens, p.TotalOutputTokens = s.TotalInputTokens, s.TotalOutputTokens
	p.RequestThroughput, p.RequestGoodput = opt(s.RequestThroughput), opt(s.RequestGoodput)
	p.OutputThroughput, p.TotalTokenThroughput = opt(s.OutputThroughput), opt(s.TotalTokenThroughput)
	p.MaxConcurrentReqs = int32(s.MaxConcurrentReqs)
	p.TTFT = Dist{opt(s.MeanTTFTms), opt(s.MedianTTFTms), opt(s.StdTTFTms), opt(s.P90TTFTms), opt(s.P99TTFTms), opt(s.P999TTFTms)}
	p.TPOT = Dist{opt(s.MeanTPOTms), opt(s.MedianTPOTms), opt(s.StdTPOTms), opt(s.P90TPOTms), opt(s.P99TPOTms), opt(s.P999TPOTms)}
	p.ITL = Dist{opt(s.MeanITLms), opt(s.MedianITLms), opt(s.StdITLms), opt(s.P90ITLms), opt(s.P99ITLms), opt(s.P999ITLms)}
	p.E2EL = Dist{opt(s.MeanE2ELms), opt(s.MedianE2ELms), opt(s.StdE2ELms), opt(s.P90E2ELms), opt(s.P99E2ELms), opt(s.P999E2ELms)}
	p.TimeScale, p.TimeBasis, p.TokensPerChunk = s.TimeScale, s.TimeBasis, opt(s.TokensPerChunk)
	per := func(v loadgen.Metric, gpus float64) *float64 {
		if gpus <= 0 {
			return nil
		}
		return opt(v / loadgen.Metric(gpus))
	}
	total, input, output := p.gpuDenominators()
	p.TputPerGPU, p.OutputTputPerGPU = per(s.TotalTokenThroughput, total), per(s.OutputThroughput, output)
	p.InputTputPerGPU = per(s.TotalTokenThroughput-s.OutputThroughput, input)
	p.Interactivity = opt(1000 / s.MedianTPOTms)
	p.InteractivityP99 = opt(1000 / s.P99TPOTms)
	p.agenticFigures(s.Agentic)
}

// Planes a frontier is drawn on: throughput per GPU against interactivity
// (higher is better), against median end-to-end latency or, for agentic
// points, against median session latency (lower is better).
const (
	PlaneInteractivity = "interactivity"
	PlaneE2EL          = "e2el"
	PlaneSession       = "session"
)

// FrontierRow is one point on a Pareto frontier of throughput per GPU: a
// series' own (Series set) or the group's overall one (Series "*"), on the
// plane named by Plane, whose x column is set and the other null.
type FrontierRow struct {
	SweepID       string   `parquet:"sweep_id,dict" json:"sweep_id"`
	Model         string   `parquet:"model,dict" json:"model"`
	Precision     string   `parquet:"precision,dict" json:"precision"`
	ISL           int32    `parquet:"isl" json:"isl"`
	OSL           int32    `parquet:"osl" json:"osl"`
	Series        string   `parquet:"series,dict" json:"series"`
	Plane         string   `parquet:"plane,dict" json:"plane"`
	PointID       string   `parquet:"point_id" json:"point_id"`
	Interactivity *float64 `parquet:"interactivity,optional" json:"interactivity"`   // tok/s/user, 1000 / median TPOT
	MedianE2ELms  *float64 `parquet:"median_e2el_ms,optional" json:"median_e2el_ms"` // ms
	// MedianSessionLatencyMs is the session plane's x (ms, whole sessions).
	MedianSessionLatencyMs *float64 `parquet:"median_session_latency_ms,optional" json:"median_session_latency_ms,omitempty"`
	TputPerGPU             float64  `parquet:"tput_per_gpu" json:"tput_per_gpu"` // tok/s/GPU
	// LaunchFingerprint is the engine launch that measured the point.
	LaunchFingerprint string `parquet:"launch_fingerprint,dict" json:"launch_fingerprint,omitempty"`
	// DeploymentID and Topology name a multinode point's deployment, as
	// its points row does; "" for single-node points.
	DeploymentID string `parquet:"deployment_id,dict" json:"deployment_id,omitempty"`
	Topology     string `parquet:"topology,dict" json:"topology,omitempty"`
}

// RegressionRow is one series at one target interactivity, tonight
// against the median of earlier nights. Figures that could not be
// computed are null.
type RegressionRow struct {
	SweepID             string   `parquet:"sweep_id,dict" json:"sweep_id"`
	Model               string   `parquet:"model,dict" json:"model"`
	Precision           string   `parquet:"precision,dict" json:"precision"`
	ISL                 int32    `parquet:"isl" json:"isl"`
	OSL                 int32    `parquet:"osl" json:"osl"`
	Series              string   `parquet:"series,dict" json:"series"`
	TargetInteractivity float64  `parquet:"target_interactivity" json:"target_interactivity"` // tok/s/user
	Verdict             string   `parquet:"verdict,dict" json:"verdict"`                      // regression, improvement, steady, new, lost
	TputPerGPU          *float64 `parquet:"tput_per_gpu,optional" json:"tput_per_gpu"`        // tok/s/GPU, interpolated on tonight's frontier
	BaselineTputPerGPU  *float64 `parquet:"baseline_tput_per_gpu,optional" json:"baseline_tput_per_gpu"`
	BaselineNights      int32    `parquet:"baseline_nights" json:"baseline_nights"`
	ChangePct           *float64 `parquet:"change_pct,optional" json:"change_pct"`
	NoisePct            *float64 `parquet:"noise_pct,optional" json:"noise_pct"`
	ThresholdPct        float64  `parquet:"threshold_pct" json:"threshold_pct"`
	PointID             string   `parquet:"point_id" json:"point_id"`
	BaselineSweep       string   `parquet:"baseline_sweep" json:"baseline_sweep"`
	PValue              *float64 `parquet:"p_value,optional" json:"p_value"` // Mann–Whitney U on per-request TPOT
	// RecipeChanged: the point ran another engine launch than in the
	// baseline sweep, so a change may be the recipe's, not the software's.
	RecipeChanged bool `parquet:"recipe_changed" json:"recipe_changed"`
}
