package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Options shape one chaos run.
type Options struct {
	Points    int           // planned points, rounded up to whole entries
	Seed      uint64        // kills, S3 faults and the engines' dice
	KillEvery time.Duration // mean interval between worker SIGKILLs
	// RestartAfter is when the Temporal server and the store restart;
	// 0 means 2.5 × KillEvery.
	RestartAfter time.Duration
	TimeScale    float64
	// Baseline runs the same sweep without faults first, for the wall-time
	// ratio.
	Baseline bool
	// Binary is the infersweep binary the pool workers run as
	// (`Binary worker --pool …`); their engines are its `engine sim`.
	Binary   string
	Logger   *slog.Logger
	Progress io.Writer // a line per event; nil for none
}

// Rates are the reliability issue's: per engine start for engine faults,
// per request for S3.
const (
	engineFaults = "startup=0.10,crash=0.05,stall=0.02,error=0.02,ensure"
	s3FaultRate  = 0.05
)

// maxWallRatio is how much slower than the fault-free run a run under
// faults may be.
const maxWallRatio = 1.5

// brokenEntry's engine answers HTTP 500 to every request in a run under
// faults: its points must fail as the engine's or the config's failures,
// and no node may pay for them.
const brokenEntry = "chaos-001"

// Run is what one sweep under (or without) faults did.
type Run struct {
	Wall          time.Duration       `json:"wall_ns"`
	Planned       int                 `json:"planned"`
	Landed        int                 `json:"landed"`
	Duplicated    int                 `json:"duplicated"`
	Lost          int                 `json:"lost"`
	ByStatus      map[string]int      `json:"by_status"`
	ByErrorClass  map[string]int      `json:"by_error_class"`
	EnginesLeaked int                 `json:"engines_leaked"`
	Panics        int                 `json:"panics"`
	Retries       int                 `json:"retries"`
	Faults        map[string]int      `json:"faults"`
	Quarantined   map[string][]string `json:"quarantined"`
	// BrokenEntry counts the broken entry's points by status and error
	// class ("failed EngineFailure"); it is broken only under faults.
	BrokenEntry map[string]int `json:"broken_entry,omitempty"`
	// PoolsDown are the pools whose every node ended quarantined.
	PoolsDown []string `json:"pools_down,omitempty"`
	// NodeFaults are what the manifest says was charged to each node.
	NodeFaults map[string]map[string][]string `json:"node_faults,omitempty"`
	// Reasons counts failed and skipped points by error class and the
	// start of their message, to see what the faults turned into.
	Reasons map[string]int `json:"reasons"`
	// Problems lists every broken promise; empty is a pass.
	Problems []string `json:"problems"`
}

func (r *Run) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Report is `infersweep chaos`'s result.
type Report struct {
	Options  Options `json:"-"`
	Baseline *Run    `json:"baseline,omitempty"`
	Chaos    Run     `json:"chaos"`
	// WallRatio is the chaos run's wall time over the fault-free one's.
	WallRatio float64 `json:"wall_ratio,omitempty"`
}

// FaultKinds are every kind a chaos run must inject at least once.
var FaultKinds = []string{"worker-sigkill", "engine-startup", "engine-crash", "engine-stall", "engine-http-500", "s3-refused", "s3-lost-reply", "temporal-restart"}

// Problems are the broken promises of the whole report.
func (r *Report) Problems() []string {
	out := append([]string(nil), r.Chaos.Problems...)
	if r.Baseline != nil {
		for _, p := range r.Baseline.Problems {
			out = append(out, "baseline: "+p)
		}
		if r.WallRatio > maxWallRatio {
			out = append(out, fmt.Sprintf("wall time %.2f× the fault-free run (want ≤ %.1f×)", r.WallRatio, maxWallRatio))
		}
	}
	return out
}

// Execute runs the fault-free sweep (with Baseline) and then the one under
// faults, each on its own fresh stack.
func Execute(ctx context.Context, o Options) (*Report, error) {
	if o.Points < 5 {
		return nil, fmt.Errorf("%d points: want at least 5", o.Points)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	rep := &Report{Options: o}
	if o.Baseline {
		run, err := sweepOnce(ctx, o, false)
		if err != nil {
			return nil, fmt.Errorf("fault-free run: %w", err)
		}
		rep.Baseline = run
	}
	// The restart lands a third of the way through, while points run.
	if rep.Baseline != nil && rep.Baseline.Wall > 0 {
		o.RestartAfter = rep.Baseline.Wall / 3
	}
	run, err := sweepOnce(ctx, o, true)
	if err != nil {
		return nil, fmt.Errorf("chaos run: %w", err)
	}
	rep.Chaos = *run
	if rep.Baseline != nil && rep.Baseline.Wall > 0 {
		rep.WallRatio = float64(run.Wall) / float64(rep.Baseline.Wall)
	}
	return rep, nil
}
