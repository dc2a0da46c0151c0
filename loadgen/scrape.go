package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapedGauges are the engine gauges worth a time series: queue depth,
// batch size and KV-cache pressure, under vLLM's and SGLang's names.
var scrapedGauges = map[string]bool{
	"vllm:num_requests_running": true,
	"vllm:num_requests_waiting": true,
	"vllm:kv_cache_usage_perc":  true,
	"vllm:gpu_cache_usage_perc": true, // vLLM before 0.10
	"vllm:gpu_power_watts":      true, // the simulated engine's modeled power
	"sglang:num_running_reqs":   true,
	"sglang:num_queue_reqs":     true,
	"sglang:token_usage":        true,
	"sglang:gen_throughput":     true,
	"sglang:cache_hit_rate":     true,
	"sglang:num_used_tokens":    true,
	vllmV0HitRate:               true, // vLLM V0's prefix-cache hit rate
}

// scrapedCounters are reported as the change over the run.
var scrapedCounters = []string{
	"vllm:prompt_tokens_total",
	"vllm:generation_tokens_total",
	"vllm:num_preemptions_total",
	"vllm:request_success_total",
	"sglang:prompt_tokens_total",
	"sglang:generation_tokens_total",
	vllmPrefixQueries, // vLLM V1: prompt tokens looked up in the prefix cache
	vllmPrefixHits,    // and those found
}

// offloadCounter tells the counters of KV offloading (vLLM's
// OffloadingConnector, LMCache, SGLang's HiCache) and of a prefix cache
// outside the GPU, whose names vary by engine and version: all are kept.
func offloadCounter(name string, mf *dto.MetricFamily) bool {
	return mf.GetType() == dto.MetricType_COUNTER && (strings.Contains(name, "offload") || strings.Contains(name, "external_prefix_cache"))
}

// Sample is one gauge reading; T is wall-clock from the start of the
// measured window (scraping is not scaled: it samples the server as it runs).
type Sample struct {
	T     time.Duration
	Name  string
	Value float64
}

// ScrapedMetrics is what the server's /metrics said during a run.
type ScrapedMetrics struct {
	Samples       []Sample
	CounterDeltas map[string]float64
	Scrapes       int
	Errors        int
	LastError     string
}

type scraper struct {
	client *http.Client
	url    string
	start  time.Time
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	out    ScrapedMetrics
	first  map[string]float64
	latest map[string]float64
}

func startScraper(ctx context.Context, client *http.Client, url string) *scraper {
	ctx, cancel := context.WithCancel(ctx)
	s := &scraper{client: client, url: url, start: time.Now(), cancel: cancel, latest: map[string]float64{}}
	s.out.CounterDeltas = map[string]float64{}
	// The first reading is taken before the measured window opens, so
	// counter deltas cover all of it.
	s.scrapeOnce(ctx)
	s.wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.scrapeOnce(ctx)
			}
		}
	})
	return s
}

func (s *scraper) scrapeOnce(ctx context.Context) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return
	}
	at := time.Since(s.start)
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			s.recordError(err.Error())
		}
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.recordError("HTTP " + strconv.Itoa(resp.StatusCode))
		return
	}
	gauges, counters := parsePrometheus(resp.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.Scrapes++
	for name, v := range gauges {
		s.out.Samples = append(s.out.Samples, Sample{T: at, Name: name, Value: v})
	}
	if s.first == nil {
		s.first = counters
	}
	s.latest = counters
}

func (s *scraper) recordError(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.Errors++
	s.out.LastError = msg
}

// stop takes a last reading, so counter deltas cover the whole run.
func (s *scraper) stop() *ScrapedMetrics {
	s.cancel()
	s.wg.Wait()
	s.scrapeOnce(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, end := range s.latest {
		if begin, ok := s.first[name]; ok {
			s.out.CounterDeltas[name] = end - begin
		}
	}
	return &s.out
}

// maxMetricsPage bounds what one scrape reads: a vLLM or SGLang page is
// tens of kilobytes, and a broken server must not fill the load
// generator's memory.
const maxMetricsPage = 16 << 20

// parsePrometheus reads the text exposition format with Prometheus's own
// parser and keeps the gauges and counters above, summed over their label
// sets (one engine may report per model or per engine index). A page
// that breaks somewhere keeps what parses: the parser stops at the first
// bad line, so parsing resumes after it.
func parsePrometheus(r io.Reader) (gauges, counters map[string]float64) {
	gauges, counters = map[string]float64{}, map[string]float64{}
	page, err := io.ReadAll(io.LimitReader(r, maxMetricsPage))
	if err != nil && len(page) == 0 {
		return gauges, counters
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	for len(page) > 0 {
		families, err := parser.TextToMetricFamilies(bytes.NewReader(page))
		for name, mf := range families {
			switch {
			case scrapedGauges[name]:
				gauges[name] += sum(mf)
			case slices.Contains(scrapedCounters, name), offloadCounter(name, mf):
				counters[name] += sum(mf)
			}
		}
		var bad expfmt.ParseError
		if !errors.As(err, &bad) {
			break
		}
		page = afterLine(page, bad.Line)
	}
	return gauges, counters
}

// sum adds a family's samples; after a bad line its TYPE may be lost,
// so untyped samples count too.
func sum(mf *dto.MetricFamily) float64 {
	var total float64
	for _, m := range mf.GetMetric() {
		switch {
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

// afterLine is what follows line n (1-based) of page.
func afterLine(page []byte, n int) []byte {
	for ; n > 0 && len(page) > 0; n-- {
		i := bytes.IndexByte(page, '\n')
		if i < 0 {
			return nil
		}
		page = page[i+1:]
	}
	return page
}
