package loadgen

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metric is a figure that may be unmeasured: NaN marshals as JSON null, so
// nothing unmeasured reads as zero. Fields tagged omitzero (every key
// ending in _ms) leave an unmeasured figure out instead: InferenceX's
// process_result.py runs float() on every key ending in ms, and null
// crashes it.
type Metric float64

// IsZero reports an unmeasured figure; encoding/json's omitzero calls it.
func (m Metric) IsZero() bool { return math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) }

func (m Metric) MarshalJSON() ([]byte, error) {
	f := float64(m)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func (m *Metric) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = Metric(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*m = Metric(f)
	return nil
}

// Time bases a Summary can be in.
const (
	TimeBasisWall      = "wall-clock"
	TimeBasisSimulated = "simulated (wall-clock × time_scale)"
)

// Summary is a run's figures under vLLM benchmark_serving's JSON key names,
// so tools that read vLLM and InferenceX result files (InferenceX's
// utils/process_result.py) read ours, plus what vLLM does not report
// (actual mean lengths, queueing, client cost). Metadata is written as
// top-level keys after the rest, as benchmark_serving.py's --metadata.
type Summary struct {
	Date    string `json:"date"`
	Backend string `json:"backend"`
	ModelID string `json:"model_id"`
	// TokenizerID is the model's: prompts are token ids and the server
	// counts tokens, which is what benchmark_serving.py records when it is
	// not given a separate --tokenizer.
	TokenizerID    string  `json:"tokenizer_id"`
	BestOf         int     `json:"best_of"` // sequences generated per prompt; always 1
	BaseURL        string  `json:"base_url"`
	Endpoint       string  `json:"endpoint"`
	NumPrompts     int     `json:"num_prompts"`
	RequestRate    string  `json:"request_rate"` // "inf" or requests/s
	Burstiness     float64 `json:"burstiness"`
	MaxConcurrency int     `json:"max_concurrency"`
	NumWarmups     int     `json:"num_warmups"`
	Seed           uint64  `json:"seed"`

	RandomInputLen   int     `json:"random_input_len"`
	RandomOutputLen  int     `json:"random_output_len"`
	RandomRangeRatio float64 `json:"random_range_ratio"`
	RangeMode        string  `json:"range_mode"`
	RandomPrefixLen  int     `json:"random_prefix_len"`

	Duration Metric `json:"duration"` // seconds, in TimeBasis
	// The measured window's wall-clock instants, Unix seconds: InferenceX
	// windows its GPU power samples with them. Under a time scale they
	// stay wall-clock while Duration is simulated.
	BenchmarkStartUnix float64 `json:"benchmark_start_time_unix"`
	BenchmarkEndUnix   float64 `json:"benchmark_end_time_unix"`
	Completed          int     `json:"completed"`
	Failed             int     `json:"failed"`
	TotalInputTokens   int64   `json:"total_input_tokens"`
	TotalOutputTokens  int64   `json:"total_output_tokens"`
	MeanInputLen       Metric  `json:"mean_input_len"`
	MeanOutputLen      Metric  `json:"mean_output_len"`
	RequestThroughput  Metric  `json:"request_throughput"` // req/s
	RequestGoodput     Metric  `json:"request_goodput"`    // req/s meeting every SLO; null without SLOs
	// RequestGoodputColon is RequestGoodput under the key benchmark_serving.py
	// writes, colon included, for tools that read that spelling.
	RequestGoodputColon  Metric `json:"request_goodput:"`
	OutputThroughput     Metric `json:"output_throughput"`      // tok/s
	TotalTokenThroughput Metric `json:"total_token_throughput"` // tok/s
	MaxConcurrentReqs    int64  `json:"max_concurrent_requests"`
	// Per measured request in send order, failed ones included:
	// benchmark_serving.py's lists, whose output length is 0 for a failure.
	InputLens  []int `json:"input_lens"`
	OutputLens []int `json:"output_lens"`

	MeanTTFTms   Metric `json:"mean_ttft_ms,omitzero"`
	MedianTTFTms Metric `json:"median_ttft_ms,omitzero"`
	StdTTFTms    Metric `json:"std_ttft_ms,omitzero"`
	P90TTFTms    Metric `json:"p90_ttft_ms,omitzero"`
	P99TTFTms    Metric `json:"p99_ttft_ms,omitzero"`
	P999TTFTms   Metric `json:"p99.9_ttft_ms,omitzero"`
	MeanTPOTms   Metric `json:"mean_tpot_ms,omitzero"`
	MedianTPOTms Metric `json:"median_tpot_ms,omitzero"`
	StdTPOTms    Metric `json:"std_tpot_ms,omitzero"`
	P90TPOTms    Metric `json:"p90_tpot_ms,omitzero"`
	P99TPOTms    Metric `json:"p99_tpot_ms,omitzero"`
	P999TPOTms   Metric `json:"p99.9_tpot_ms,omitzero"`
	MeanITLms    Metric `json:"mean_itl_ms,omitzero"`
	MedianITLms  Metric `json:"median_itl_ms,omitzero"`
	StdITLms     Metric `json:"std_itl_ms,omitzero"`
	P90ITLms     Metric `json:"p90_itl_ms,omitzero"`
	P99ITLms     Metric `json:"p99_itl_ms,omitzero"`
	P999ITLms    Metric `json:"p99.9_itl_ms,omitzero"`
	MeanE2ELms   Metric `json:"mean_e2el_ms,omitzero"`
	MedianE2ELms Metric `json:"median_e2el_ms,omitzero"`
	StdE2ELms    Metric `json:"std_e2el_ms,omitzero"`
	P90E2ELms    Metric `json:"p90_e2el_ms,omitzero"`
	P99E2ELms    Metric `json:"p99_e2el_ms,omitzero"`
	P999E2ELms   Metric `json:"p99.9_e2el_ms,omitzero"`

	MeanQueueTimeMs     Metric `json:"mean_queue_time_ms,omitzero"`
	P99QueueTimeMs      Metric `json:"p99_queue_time_ms,omitzero"`
	MeanScheduleDelayMs Metric `json:"mean_schedule_delay_ms,omitzero"` // open loop: actual − scheduled send
	P99ScheduleDelayMs  Metric `json:"p99_schedule_delay_ms,omitzero"`

	// Definitions and provenance of the figures above.
	TimeScale float64 `json:"time_scale"`
	TimeBasis string  `json:"time_basis"`
	ITLBasis  string  `json:"itl_basis"`
	// TokensPerChunk is the mean number of output tokens per content chunk
	// of the completed requests: 1 for an engine that streams every token,
	// 10 for one run with --stream-interval 10, whose ITLs then span ten
	// tokens each (TPOT stays per token).
	TokensPerChunk Metric `json:"tokens_per_chunk,omitzero"`

	UsageReported        int               `json:"usage_reported"`         // requests whose server sent a usage chunk
	UsageChunkMismatches int               `json:"usage_chunk_mismatches"` // usage completion_tokens ≠ content chunks
	OutputLenMismatches  int               `json:"output_len_mismatches"`  // output tokens ≠ max_tokens despite ignore_eos
	Errors               map[string]int    `json:"errors"`                 // failure reason → count
	ErrorExamples        map[string]string `json:"error_examples"`         // failure reason → first full message
	// FailureKinds counts the same failures by kind and HTTP status, most
	// frequent first: what a caller deciding who is at fault reads.
	FailureKinds []FailureCount `json:"failure_kinds"`

	ConnectionsOpened    int64  `json:"connections_opened"`
	TotalChunks          int64  `json:"total_chunks"`
	ClientChunksPerS     Metric `json:"client_chunks_per_s"`     // wall-clock, whatever the time basis
	ClientCPUMicrosChunk Metric `json:"client_cpu_us_per_chunk"` // whole process CPU ÷ chunks

	// Unmeasured names the keys left out because nothing measured them
	// (schedule delay in a closed loop, TPOT when no request had two
	// output tokens), so a reader can tell absent from forgotten.
	Unmeasured []string `json:"unmeasured"`
	// Agentic holds a trace replay's own figures; nil for a random load.
	Agentic  *Agentic          `json:"agentic,omitempty"`
	Metadata map[string]string `json:"-"`
}

// MarshalJSON writes Metadata's pairs as top-level keys after the others,
// in key order, as benchmark_serving.py's --metadata does.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary // without this method
	b, err := json.Marshal(plain(s))
	if err != nil || len(s.Metadata) == 0 {
		return b, err
	}
	b = b[:len(b)-1] // the closing brace
	for _, k := range slices.Sorted(maps.Keys(s.Metadata)) {
		key, _ := json.Marshal(k) // strings always marshal
		value, _ := json.Marshal(s.Metadata[k])
		b = append(append(append(append(b, ','), key...), ':'), value...)
	}
	return append(b, '}'), nil
}

// summaryKey is one key Summary writes.
type summaryKey struct {
	name  string
	field int
	// optional keys are omitzero Metrics, left out when unmeasured.
	optional bool
}

var summaryKeys = sync.OnceValue(func() []summaryKey {
	t := reflect.TypeFor[Summary]()
	var keys []summaryKey
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		optional := t.Field(i).Type == reflect.TypeFor[Metric]() && strings.Contains(opts, "omitzero")
		keys = append(keys, summaryKey{name: name, field: i, optional: optional})
	}
	return keys
})

func (s Summary) unmeasured() []string {
	v := reflect.ValueOf(s)
	var names []string
	for _, k := range summaryKeys() {
		if k.optional && v.Field(k.field).Interface().(Metric).IsZero() {
			names = append(names, k.name)
		}
	}
	return names
}

// checkMetadata refuses a --metadata pair that would overwrite a measured
// key or break InferenceX's process_result.py, which runs float() on
// every key ending in ms and divides 1000 by every key containing tpot.
func checkMetadata(key, value string) error {
	if key == "" {
		return fmt.Errorf("metadata %q: want KEY=VALUE with a non-empty KEY", key+"="+value)
	}
	for _, k := range summaryKeys() {
		if k.name == key {
			return fmt.Errorf("metadata key %q: the result file already writes it; choose another name", key)
		}
	}
	f, err := strconv.ParseFloat(value, 64)
	switch {
	case strings.Contains(key, "tpot") && (err != nil || f == 0):
		return fmt.Errorf("metadata %s=%s: InferenceX's process_result.py divides 1000 by every key containing tpot; give a non-zero number or rename the key", key, value)
	case strings.HasSuffix(key, "ms") && err != nil:
		return fmt.Errorf("metadata %s=%s: InferenceX's process_result.py reads every key ending in ms as a number; give a number or rename the key", key, value)
	}
	return nil
}

// FailureRate is the share of sent measured requests that did not
// complete, in benchmark_serving.py's arithmetic, 1 − completed/sent, so
// the same runs pass and fail: exactly 1 in 20 comes out as
// 0.050000000000000044, above 5%. Sent, not num_prompts: every prompt of
// a sweep point is sent, and a --duration bound's unsent prompts are not
// failures.
func (s Summary) FailureRate() float64 {
	sent := s.Completed + s.Failed
	if sent == 0 {
		return 0
	}
	return 1 - float64(s.Completed)/float64(sent)
}

// CheckFailureRate fails a run whose failure rate exceeds limit (a
// fraction), in benchmark_serving.py's words: InferenceX fails such a
// run at 5%.
func (s Summary) CheckFailureRate(limit float64) error {
	if rate := s.FailureRate(); rate > limit {
		return fmt.Errorf("request failure rate %.1f%% exceeds the %s%% threshold (%d/%d completed)",
			100*rate, strconv.FormatFloat(100*limit, 'f', -1, 64), s.Completed, s.Completed+s.Failed)
	}
	return nil
}

type clientStats struct {
	cpu         time.Duration
	connections int64
	peak        int64
}

// newSummary is a Summary of the run's settings, before any figure.
func newSummary(cfg Config, sent int, start time.Time, window time.Duration, client clientStats) Summary {
	w := cfg.Workload
	s := Summary{
		Date: time.Now().UTC().Format(time.RFC3339), Backend: "openai", ModelID: w.Model, TokenizerID: w.Model, BestOf: 1,
		BaseURL: cfg.BaseURL, Endpoint: w.API.Path(),
		NumPrompts: cfg.NumPrompts, RequestRate: "inf", Burstiness: cfg.Burstiness, MaxConcurrency: cfg.MaxConcurrency,
		NumWarmups: cfg.NumWarmups, Seed: w.Seed,
		RandomInputLen: w.InputLen, RandomOutputLen: w.OutputLen, RandomRangeRatio: w.RangeRatio, RangeMode: string(w.RangeMode), RandomPrefixLen: w.PrefixLen,
		TimeScale: cfg.TimeScale, TimeBasis: TimeBasisWall, ITLBasis: "per chunk: every gap between content chunks, pooled over requests",
		Errors: map[string]int{}, ErrorExamples: map[string]string{}, ConnectionsOpened: client.connections, MaxConcurrentReqs: client.peak,
		BenchmarkStartUnix: unixSeconds(start), BenchmarkEndUnix: unixSeconds(start.Add(window)),
		InputLens: make([]int, sent), OutputLens: make([]int, sent), Metadata: cfg.Metadata,
	}
	if w.API == APIChat {
		s.Backend = "openai-chat"
	}
	if !math.IsInf(cfg.RequestRate, 1) {
		s.RequestRate = strconv.FormatFloat(cfg.RequestRate, 'g', -1, 64)
	}
	if cfg.TimeScale != 1 {
		s.TimeBasis = TimeBasisSimulated
	}
	return s
}

func summarizeRun(cfg Config, records []Record, start time.Time, window time.Duration, client clientStats) Summary {
	s := newSummary(cfg, len(records), start, window, client)
	// Simulated time runs TimeScale times faster than the wall clock.
	scale := cfg.TimeScale
	msPerNs := scale / float64(time.Millisecond)
	msPerMicro := scale / 1000

	var ttfts, tpots, e2els, queues, delays []int64
	var itlCount int
	for i := range records {
		itlCount += len(records[i].ITLs)
	}
	itls := make([]uint32, 0, itlCount)
	var goodCount, completedChunks int
	for i := range records {
		r := &records[i]
		s.TotalChunks += int64(r.Chunks)
		queues = append(queues, int64(r.QueueTime))
		s.InputLens[i] = r.InputTokens
		delays = append(delays, int64(r.SendTime-r.ScheduledTime))
		if !r.OK() {
			s.Failed++
			class := errorClass(r.Err)
			if s.Errors[class]++; s.Errors[class] == 1 {
				s.ErrorExamples[class] = r.Err
			}
			continue
		}
		s.Completed++
		completedChunks += r.Chunks
		s.OutputLens[i] = r.OutputTokens
		s.TotalInputTokens += int64(r.InputTokens)
		s.TotalOutputTokens += int64(r.OutputTokens)
		if r.UsageReported {
			s.UsageReported++
			if r.OutputTokens != r.Chunks {
				s.UsageChunkMismatches++
			}
		}
		if r.OutputTokens != r.RequestedOut {
			s.OutputLenMismatches++
		}
		ttfts = append(ttfts, int64(r.TTFT))
		e2els = append(e2els, int64(r.E2EL))
		itls = append(itls, r.ITLs...)
		tpot, hasTPOT := r.TPOT()
		if hasTPOT {
			tpots = append(tpots, int64(tpot))
		}
		if cfg.Goodput.enabled() && meets(cfg.Goodput, r, tpot, hasTPOT, msPerNs) {
			goodCount++
		}
	}

	s.setRates(window.Seconds()*scale, goodCount, cfg.Goodput.enabled())
	s.TokensPerChunk = Metric(math.NaN())
	if completedChunks > 0 {
		s.TokensPerChunk = Metric(float64(s.TotalOutputTokens) / float64(completedChunks))
	}

	setDist(summarize(ttfts, msPerNs), &s.MeanTTFTms, &s.MedianTTFTms, &s.StdTTFTms, &s.P90TTFTms, &s.P99TTFTms, &s.P999TTFTms)
	setDist(summarize(tpots, msPerNs), &s.MeanTPOTms, &s.MedianTPOTms, &s.StdTPOTms, &s.P90TPOTms, &s.P99TPOTms, &s.P999TPOTms)
	setDist(summarize(itls, msPerMicro), &s.MeanITLms, &s.MedianITLms, &s.StdITLms, &s.P90ITLms, &s.P99ITLms, &s.P999ITLms)
	setDist(summarize(e2els, msPerNs), &s.MeanE2ELms, &s.MedianE2ELms, &s.StdE2ELms, &s.P90E2ELms, &s.P99E2ELms, &s.P999E2ELms)
	q := summarize(queues, msPerNs)
	s.MeanQueueTimeMs, s.P99QueueTimeMs = Metric(q.Mean), Metric(q.P99)
	d := summarize(delays, msPerNs)
	s.MeanScheduleDelayMs, s.P99ScheduleDelayMs = Metric(d.Mean), Metric(d.P99)
	if math.IsInf(cfg.RequestRate, 1) {
		s.MeanScheduleDelayMs, s.P99ScheduleDelayMs = Metric(math.NaN()), Metric(math.NaN())
	}

	s.setClientFigures(window, client)
	s.FailureKinds = countFailures(records)
	s.Unmeasured = s.unmeasured()
	scaleRecords(records, scale)
	return s
}

// setClientFigures says what the load generator itself cost, per chunk
// of wall-clock time, whatever the time basis.
func (s *Summary) setClientFigures(window time.Duration, client clientStats) {
	s.ClientChunksPerS, s.ClientCPUMicrosChunk = Metric(math.NaN()), Metric(math.NaN())
	if s.TotalChunks > 0 {
		s.ClientChunksPerS = Metric(float64(s.TotalChunks) / window.Seconds())
		s.ClientCPUMicrosChunk = Metric(float64(client.cpu.Microseconds()) / float64(s.TotalChunks))
	}
}

// setRates sets the figures per second of a window of seconds, and the
// mean lengths, from the totals.
func (s *Summary) setRates(seconds float64, goodCount int, goodput bool) {
	s.Duration = Metric(seconds)
	s.RequestThroughput = Metric(float64(s.Completed) / seconds)
	s.OutputThroughput = Metric(float64(s.TotalOutputTokens) / seconds)
	s.TotalTokenThroughput = Metric(float64(s.TotalInputTokens+s.TotalOutputTokens) / seconds)
	s.RequestGoodput = Metric(math.NaN())
	if goodput {
		s.RequestGoodput = Metric(float64(goodCount) / seconds)
	}
	s.RequestGoodputColon = s.RequestGoodput
	s.MeanInputLen, s.MeanOutputLen = Metric(math.NaN()), Metric(math.NaN())
	if s.Completed > 0 {
		s.MeanInputLen = Metric(float64(s.TotalInputTokens) / float64(s.Completed))
		s.MeanOutputLen = Metric(float64(s.TotalOutputTokens) / float64(s.Completed))
	}
}

// unixSeconds is t as time.time() gives it; whole seconds and the fraction
// are converted apart so the sum rounds once.
func unixSeconds(t time.Time) float64 { return float64(t.Unix()) + float64(t.Nanosecond())/1e9 }

func meets(slo SLO, r *Record, tpot time.Duration, hasTPOT bool, msPerNs float64) bool {
	if slo.TTFTms > 0 && float64(r.TTFT)*msPerNs > slo.TTFTms {
		return false
	}
	if slo.TPOTms > 0 && (!hasTPOT || float64(tpot)*msPerNs > slo.TPOTms) {
		return false
	}
	return slo.E2ELms <= 0 || float64(r.E2EL)*msPerNs <= slo.E2ELms
}

func setDist(d Distribution, mean, median, std, p90, p99, p999 *Metric) {
	*mean, *median, *std, *p90, *p99, *p999 = Metric(d.Mean), Metric(d.Median), Metric(d.Std), Metric(d.P90), Metric(d.P99), Metric(d.P999)
}

// scaleRecords puts per-request times in the summary's time basis, so the
// lake holds one basis per run.
func scaleRecords(records []Record, scale float64) {
	if scale == 1 {
		return
	}
	d := func(v time.Duration) time.Duration { return time.Duration(float64(v) * scale) }
	for i := range records {
		r := &records[i]
		r.SendTime, r.ScheduledTime, r.QueueTime, r.TTFT, r.E2EL = d(r.SendTime), d(r.ScheduledTime), d(r.QueueTime), d(r.TTFT), d(r.E2EL)
		for j, v := range r.ITLs {
			r.ITLs[j] = uint32(min(float64(v)*scale, 1<<32-1))
		}
	}
}

// errorClass groups failures by reason without the per-request details
// (ports, byte counts, server text) that would make every error unique;
// ErrorExamples keeps one whole message per class.
func errorClass(msg string) string {
	const maxLen = 120
	if strings.HasPrefix(msg, "HTTP ") && len(msg) >= len("HTTP 400") {
		return msg[:len("HTTP 400")]
	}
	for _, cut := range []string{" after ", ": dial tcp", ": read tcp", " in \""} {
		if i := strings.Index(msg, cut); i > 0 {
			msg = msg[:i]
		}
	}
	if len(msg) > maxLen {
		msg = msg[:maxLen]
	}
	return msg
}

// ErrorReasons lists failure reasons by count, most frequent first.
func (s Summary) ErrorReasons() []string {
	reasons := make([]string, 0, len(s.Errors))
	for r := range s.Errors {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if s.Errors[reasons[i]] != s.Errors[reasons[j]] {
			return s.Errors[reasons[i]] > s.Errors[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	return reasons
}
