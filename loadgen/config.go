package loadgen

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Config is one load run against one server.
type Config struct {
	BaseURL  string // e.g. http://127.0.0.1:8000
	APIKey   string // sent as a bearer token when set
	Workload Workload
	// NumPrompts measured requests; 0 means 10 × MaxConcurrency.
	NumPrompts int
	// MaxConcurrency caps requests in flight; 0 means no cap (open loop only).
	MaxConcurrency int
	// RequestRate in requests/s; +Inf (the default) is a closed loop at
	// MaxConcurrency, InferenceMAX's mode.
	RequestRate float64
	Burstiness  float64 // gamma shape of arrival gaps; 1 is Poisson
	// NumWarmups requests run first at the same concurrency and are left
	// out of every figure; -1 means 2 × MaxConcurrency.
	NumWarmups int
	// Duration stops sending new requests after this long; 0 means none.
	Duration time.Duration
	// RequestTimeout bounds one request; StallTimeout bounds the silence
	// between two chunks of one stream.
	RequestTimeout time.Duration
	StallTimeout   time.Duration
	Goodput        SLO
	// TimeScale reports results in simulated time for an engine running
	// TimeScale times faster than real time; 1 is wall-clock.
	TimeScale float64
	// ScrapeMetrics polls the server's Prometheus /metrics once a second.
	ScrapeMetrics bool
	// OnProgress, when set, is called about five times a second from one
	// goroutine.
	OnProgress func(Progress)
	// Metadata is copied into the Summary as top-level keys of the
	// result file (benchmark_serving.py's --metadata).
	Metadata map[string]string
}

// SLO thresholds for goodput, in milliseconds; zero means unconstrained.
type SLO struct {
	TTFTms, TPOTms, E2ELms float64
}

func (s SLO) enabled() bool { return s.TTFTms > 0 || s.TPOTms > 0 || s.E2ELms > 0 }

// Progress is a snapshot of a running load.
type Progress struct {
	Warmup    bool
	Done      int
	Failed    int
	Total     int
	InFlight  int
	Elapsed   time.Duration
	OutTokens int64
}

// readBufferSize is the stream reader's buffer; longer lines are
// reassembled, so this sets speed, not a limit.
const readBufferSize = 16 << 10

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.RequestRate == 0 {
		c.RequestRate = math.Inf(1)
	}
	if c.Burstiness == 0 {
		c.Burstiness = 1
	}
	if c.NumPrompts == 0 {
		c.NumPrompts = 10 * max(c.MaxConcurrency, 1)
	}
	if c.NumWarmups < 0 {
		c.NumWarmups = 2 * c.MaxConcurrency
	}
	defaultTimes(&c.RequestTimeout, &c.StallTimeout, &c.TimeScale)
	return c
}

// defaultTimes fills the timeouts and time scale a random load and a
// replay share: half an hour a request, a minute of silence, real time.
func defaultTimes(request, stall *time.Duration, scale *float64) {
	if *request == 0 {
		*request = 30 * time.Minute
	}
	if *stall == 0 {
		*stall = time.Minute
	}
	if *scale == 0 {
		*scale = 1
	}
}

// Validate names the first setting that cannot work.
func (c Config) Validate() error {
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("base-url %q: want http://host:port", c.BaseURL)
	}
	if err := c.Workload.Validate(); err != nil {
		return err
	}
	switch {
	case c.NumPrompts < 1:
		return fmt.Errorf("num-prompts %d: want at least 1", c.NumPrompts)
	case c.MaxConcurrency < 0:
		return fmt.Errorf("max-concurrency %d: want 0 (no cap) or more", c.MaxConcurrency)
	case math.IsInf(c.RequestRate, 1) && c.MaxConcurrency == 0:
		return fmt.Errorf("request-rate inf needs max-concurrency: a closed loop runs at a fixed concurrency")
	case c.RequestRate <= 0 || math.IsNaN(c.RequestRate):
		return fmt.Errorf("request-rate %g: want a positive rate or inf", c.RequestRate)
	case c.Burstiness <= 0:
		return fmt.Errorf("burstiness %g: want > 0", c.Burstiness)
	case c.TimeScale <= 0:
		return fmt.Errorf("time-scale %g: want > 0", c.TimeScale)
	case c.NumWarmups < 0:
		return fmt.Errorf("num-warmups %d: want 0 or more", c.NumWarmups)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Metadata)) {
		if err := checkMetadata(k, c.Metadata[k]); err != nil {
			return err
		}
	}
	return nil
}
