package simengine

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
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
	// Plan draws at most one fault per engine at startup, for chaos runs
	// where a fault rate means "this share of engines": fail to start,
	// crash after a few requests, stall one stream, or answer one request
	// with HTTP 500.
	Plan FaultPlan
}

// FaultPlan holds the chance of each fault an engine may draw at startup;
// they exclude each other and sum to at most 1.
type FaultPlan struct {
	Startup, Crash, Stall, Error float64
	// Record, when set, is a file each engine appends the fault it drew
	// to (one word a line, "none" for none), so a chaos run counts what it
	// injected.
	Record string
	// Ensure makes the 2nd, 4th, 6th and 8th engine of a run (in Record's
	// order) draw startup, crash, stall and error: a short run still sees
	// every kind once.
	Ensure bool
}

// ParseFaultPlan reads "startup=0.1,crash=0.05,stall=0.02,error=0.02".
func ParseFaultPlan(spec string) (FaultPlan, error) {
	var p FaultPlan
	if spec == "" {
		return p, nil
	}
	for _, part := range strings.Split(spec, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if name == "ensure" && !ok {
			value, ok = "1", true
		}
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil || v < 0 || v > 1 {
			return p, fmt.Errorf("fault plan %q: want kind=probability, e.g. startup=0.1,crash=0.05", part)
		}
		switch name {
		case "startup":
			p.Startup = v
		case "crash":
			p.Crash = v
		case "stall":
			p.Stall = v
		case "error":
			p.Error = v
		case "ensure":
			p.Ensure = v > 0
		default:
			return p, fmt.Errorf("fault plan %q: kinds are startup, crash, stall and error (and ensure)", part)
		}
	}
	if sum := p.Startup + p.Crash + p.Stall + p.Error; sum > 1 {
		return p, fmt.Errorf("fault plan %q: probabilities add up to %g, over 1", spec, sum)
	}
	return p, nil
}

// drawn is the fault an engine drew from its plan: which, and at which
// request (1-based) it strikes.
type drawn struct {
	kind string // "", startup, crash, stall, error
	at   int
}

// faultWindow bounds the request a drawn fault strikes at: early, so that
// a point's load always reaches it.
const faultWindow = 4

func (p FaultPlan) draw(d *dice) drawn {
	d.mu.Lock()
	u := d.r.Float64()
	d.mu.Unlock()
	for _, k := range []struct {
		kind string
		p    float64
	}{{"startup", p.Startup}, {"crash", p.Crash}, {"stall", p.Stall}, {"error", p.Error}} {
		if u < k.p {
			return drawn{kind: k.kind, at: d.between1(faultWindow)}
		}
		u -= k.p
	}
	return drawn{}
}

// ensured are the faults the first engines of an Ensure run draw, by their
// position in the record (0-based).
var ensured = map[int]string{1: "startup", 3: "crash", 5: "stall", 7: "error"}

// drawAndRecord draws this engine's fault and appends it to the record,
// under an exclusive lock: the record's length orders engines for Ensure.
func (p FaultPlan) drawAndRecord(d *dice) (drawn, error) {
	if p.Record == "" {
		return p.draw(d), nil
	}
	f, err := os.OpenFile(p.Record, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return p.draw(d), err
	}
	defer f.Close()
	unlock, err := lockFile(f)
	if err != nil {
		return p.draw(d), err
	}
	defer unlock()
	got := p.draw(d)
	if p.Ensure {
		earlier, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
		if err != nil {
			return got, err
		}
		if kind, ok := ensured[bytes.Count(earlier, []byte("\n"))]; ok {
			got = drawn{kind: kind, at: d.between1(faultWindow)}
		}
	}
	kind := got.kind
	if kind == "" {
		kind = "none"
	}
	_, err = f.WriteString(kind + "\n")
	return got, err
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
