package loadgen

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
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
}

// scrapedCounters are reported as the change over the run.
var scrapedCounters = []string{
	"vllm:prompt_tokens_total",
	"vllm:generation_tokens_total",
	"vllm:num_preemptions_total",
	"vllm:request_success_total",
	"sglang:prompt_tokens_total",
	"sglang:generation_tokens_total",
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

// parsePrometheus reads the text exposition format and keeps the gauges
// and counters above, summed over their label sets (one engine may report
// per model or per engine index).
func parsePrometheus(r io.Reader) (gauges, counters map[string]float64) {
	gauges, counters = map[string]float64{}, map[string]float64{}
	wanted := map[string]bool{}
	for _, c := range scrapedCounters {
		wanted[c] = true
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 && i < len(name) {
			name = line[:i]
			end := strings.LastIndexByte(line, '}')
			if end < 0 {
				continue
			}
			rest = strings.TrimSpace(line[end+1:])
			ok = true
		}
		if !ok {
			continue
		}
		valueText, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		v, err := strconv.ParseFloat(valueText, 64)
		if err != nil {
			continue
		}
		switch {
		case scrapedGauges[name]:
			gauges[name] += v
		case wanted[name]:
			counters[name] += v
		}
	}
	return gauges, counters
}
