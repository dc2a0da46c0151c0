package simengine

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Faults are the seeded failures the reliability suite injects. Each is
// drawn from one random stream, so the same seed fails the same requests.
type Faults struct {
	// FailStartupProb: the server exits during startup with an OOM-like
	// error, as an engine with a bad config or a sick GPU does.
	FailStartupProb float64
	// CrashAfterRequests: the process dies once this many requests have
	// completed, taking every open stream with it (0: never).
	CrashAfterRequests int
	// StallProb: a request stops streaming at a random token and holds its
	// connection open.
	StallProb float64
	// ErrorRate: a request is answered with HTTP 500.
	ErrorRate float64
	// SlowStart: for this long after becoming ready, steps take five times
	// as long (cold caches, lazy compilation).
	SlowStart time.Duration
	Seed      uint64
}

// slowStartFactor is how much slower steps are during SlowStart.
const slowStartFactor = 5

// Validate names the first setting out of range.
func (f Faults) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"fail-startup-prob", f.FailStartupProb}, {"stall-prob", f.StallProb}, {"error-rate", f.ErrorRate}} {
		if p.v < 0 || p.v > 1 {
			return fmt.Errorf("%s %g: want a probability in [0, 1]", p.name, p.v)
		}
	}
	if f.CrashAfterRequests < 0 || f.SlowStart < 0 {
		return fmt.Errorf("crash-after-requests and slow-start must not be negative")
	}
	return nil
}

type dice struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newDice(seed uint64) *dice { return &dice{r: rand.New(rand.NewPCG(seed, 0xfa017))} }

func (d *dice) hit(p float64) bool {
	if p <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Float64() < p
}

// intN draws in [1, n].
func (d *dice) between1(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return 1 + d.r.IntN(max(n, 1))
}
