package loadgen

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseSLO reads goodput SLOs as benchmark_serving's --goodput takes them:
// "ttft:500 tpot:50 e2el:20000", milliseconds.
func ParseSLO(spec string) (SLO, error) {
	var slo SLO
	for _, part := range strings.Fields(strings.ReplaceAll(spec, ",", " ")) {
		name, value, ok := strings.Cut(part, ":")
		ms, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil || ms <= 0 {
			return slo, fmt.Errorf("%q: want name:milliseconds pairs such as ttft:500", part)
		}
		switch name {
		case "ttft":
			slo.TTFTms = ms
		case "tpot":
			slo.TPOTms = ms
		case "e2el":
			slo.E2ELms = ms
		default:
			return slo, fmt.Errorf("%q: metric %q is not ttft, tpot or e2el", part, name)
		}
	}
	return slo, nil
}

// ProgressBar redraws one status line on a terminal.
func ProgressBar(w io.Writer) func(Progress) {
	return func(p Progress) {
		const width = 30
		phase := "measuring"
		if p.Warmup {
			phase = "warming up"
		}
		finished := p.Done + p.Failed
		if p.Total == 0 {
			// A trace replay runs for a duration, not a number of requests.
			fmt.Fprintf(w, "\r%-10s %d requests, %d failed, %d in flight, %s", phase, finished, p.Failed, p.InFlight, p.Elapsed.Truncate(time.Second))
			return
		}
		filled := 0
		if p.Total > 0 {
			filled = width * finished / p.Total
		}
		fmt.Fprintf(w, "\r%-10s [%s%s] %d/%d requests, %d failed, %d in flight, %s",
			phase, strings.Repeat("█", filled), strings.Repeat("░", width-filled), finished, p.Total, p.Failed, p.InFlight, p.Elapsed.Truncate(time.Second))
	}
}

// WriteText writes the summary as vLLM's benchmark_serving prints it,
// with the client's own figures and every failure reason after.
func (s Summary) WriteText(w io.Writer) {
	ms := func(m Metric) string {
		if math.IsNaN(float64(m)) {
			return "n/a"
		}
		return strconv.FormatFloat(float64(m), 'f', 2, 64)
	}
	fmt.Fprintf(w, "============ Serving Benchmark Result ============\n")
	row := func(name, value string) { fmt.Fprintf(w, "%-40s %s\n", name+":", value) }
	row("Successful requests", strconv.Itoa(s.Completed))
	row("Failed requests", strconv.Itoa(s.Failed))
	row("Benchmark duration (s)", ms(s.Duration))
	row("Total input tokens", strconv.FormatInt(s.TotalInputTokens, 10))
	row("Total generated tokens", strconv.FormatInt(s.TotalOutputTokens, 10))
	row("Mean input / output length (tokens)", ms(s.MeanInputLen)+" / "+ms(s.MeanOutputLen))
	row("Request throughput (req/s)", ms(s.RequestThroughput))
	if !math.IsNaN(float64(s.RequestGoodput)) {
		row("Request goodput (req/s)", ms(s.RequestGoodput))
	}
	row("Output token throughput (tok/s)", ms(s.OutputThroughput))
	row("Total token throughput (tok/s)", ms(s.TotalTokenThroughput))
	row("Peak concurrent requests", strconv.FormatInt(s.MaxConcurrentReqs, 10))
	for _, m := range []struct {
		title                             string
		mean, median, std, p90, p99, p999 Metric
	}{
		{"Time to First Token", s.MeanTTFTms, s.MedianTTFTms, s.StdTTFTms, s.P90TTFTms, s.P99TTFTms, s.P999TTFTms},
		{"Time per Output Token (excl. 1st token)", s.MeanTPOTms, s.MedianTPOTms, s.StdTPOTms, s.P90TPOTms, s.P99TPOTms, s.P999TPOTms},
		{"Inter-token Latency (per chunk)", s.MeanITLms, s.MedianITLms, s.StdITLms, s.P90ITLms, s.P99ITLms, s.P999ITLms},
		{"End-to-end Latency", s.MeanE2ELms, s.MedianE2ELms, s.StdE2ELms, s.P90E2ELms, s.P99E2ELms, s.P999E2ELms},
	} {
		fmt.Fprintf(w, "%s\n", centered(m.title))
		row("  mean / median / std (ms)", ms(m.mean)+" / "+ms(m.median)+" / "+ms(m.std))
		row("  p90 / p99 / p99.9 (ms)", ms(m.p90)+" / "+ms(m.p99)+" / "+ms(m.p999))
	}
	fmt.Fprintf(w, "%s\n", centered("Client"))
	row("Time basis", s.TimeBasis)
	row("Chunks received (wall-clock chunks/s)", strconv.FormatInt(s.TotalChunks, 10)+" ("+ms(s.ClientChunksPerS)+")")
	row("Client CPU per chunk (µs)", ms(s.ClientCPUMicrosChunk))
	row("Connections opened", strconv.FormatInt(s.ConnectionsOpened, 10))
	row("Usage chunks / mismatches", fmt.Sprintf("%d / %d", s.UsageReported, s.UsageChunkMismatches))
	// A replay's sessions sit in idle gaps by design: fewer requests in
	// flight than sessions is no cap there.
	if s.Agentic == nil && s.MaxConcurrency > 0 && s.MaxConcurrentReqs < int64(min(s.MaxConcurrency, s.NumPrompts)) {
		fmt.Fprintf(w, "WARNING: only %d requests were ever in flight, below --max-concurrency %d: the client or the server capped it\n", s.MaxConcurrentReqs, s.MaxConcurrency)
	}
	if len(s.Unmeasured) > 0 {
		row("Not measured (left out of the JSON)", strings.Join(s.Unmeasured, ", "))
	}
	for _, reason := range s.ErrorReasons() {
		fmt.Fprintf(w, "failed %d× %s (e.g. %s)\n", s.Errors[reason], reason, s.ErrorExamples[reason])
	}
	if s.Agentic != nil {
		s.Agentic.writeText(w, row, ms)
	}
	fmt.Fprintln(w, strings.Repeat("=", 50))
}

func centered(title string) string {
	pad := max(0, 48-len(title)) / 2
	return strings.Repeat("-", pad) + title + strings.Repeat("-", pad)
}

// ParseRequestRate reads a request rate as benchmark_serving's
// --request-rate takes it: requests/s, or "inf" for a closed loop.
func ParseRequestRate(s string) (float64, error) {
	if s == "inf" {
		return math.Inf(1), nil
	}
	rate, err := strconv.ParseFloat(s, 64)
	if err != nil || rate <= 0 {
		return 0, fmt.Errorf("%q: want a positive number or inf", s)
	}
	return rate, nil
}

// ParseMetadata reads KEY=VALUE pairs as benchmark_serving's --metadata
// takes them, keys and values trimmed. Upstream keeps only the text
// between the first and a second "="; a value with "=" in it is kept
// whole here. No pairs is nil.
func ParseMetadata(pairs []string) (map[string]string, error) {
	var out map[string]string
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want KEY=VALUE", pair)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[strings.TrimSpace(key)] = strings.TrimSpace(value)
	}
	return out, nil
}
