package sweep

import "strings"

// AgenticSettings say what agentic-coding points replay and how. Upstream
// replays recorded coding-agent traces with AIPerf; no trace is shipped
// or downloaded here, so the default replays sessions drawn by the load
// generator's synthesizer (seeded: the same every night).
type AgenticSettings struct {
	// Trace is a path on the worker, a key in the lake ("lake:<key>", as
	// specs are read), or "synth" for Synth's sessions.
	Trace string `yaml:"trace" json:"trace"`
	// TraceFormat is auto, mooncake (AIPerf's) or infersweep.
	TraceFormat string `yaml:"trace-format" json:"trace_format"`
	// BlockSize is the tokens behind each of a mooncake trace's hash_ids
	// (AIPerf's --isl-block-size, 512).
	BlockSize int `yaml:"block-size" json:"block_size"`
	// Synth are the synthesized sessions' count and seed.
	Synth SynthSettings `yaml:"synth" json:"synth"`
	// DurationS overrides the points' measured window (upstream's 3600 s,
	// which callers of its reusable workflow override too); 0 keeps it.
	DurationS int `yaml:"duration-s" json:"duration_s"`
	// WarmupPerLane requests of every session lane are left out.
	WarmupPerLane int `yaml:"warmup-per-lane" json:"warmup_per_lane"`
	// MaxIdleGapS caps the idle gaps between turns (0: as recorded).
	MaxIdleGapS float64 `yaml:"max-idle-gap-s" json:"max_idle_gap_s"`
	// StartFraction [lo, hi]: each lane's first session starts part-way,
	// as upstream starts a trajectory between 25% and 75% of its length.
	StartFraction []float64 `yaml:"start-fraction" json:"start_fraction"`
}

// SynthSettings seed the synthesized trace.
type SynthSettings struct {
	Sessions int    `yaml:"sessions" json:"sessions"`
	Seed     uint64 `yaml:"seed" json:"seed"`
}

// TraceSynth is AgenticSettings.Trace for synthesized sessions.
const TraceSynth = "synth"

// DefaultAgenticSettings replay 200 synthesized sessions, one warm-up a
// lane, idle gaps capped at a minute, first sessions started between 25%
// and 75% of their length.
func DefaultAgenticSettings() AgenticSettings {
	return AgenticSettings{Trace: TraceSynth, TraceFormat: "auto", BlockSize: 512, Synth: SynthSettings{Sessions: 200, Seed: 1},
		WarmupPerLane: 1, MaxIdleGapS: 60, StartFraction: []float64{0.25, 0.75}}
}

// Duration is the measured window of an agentic point, in seconds.
func (a AgenticSettings) Duration(p Point) int {
	if a.DurationS > 0 {
		return a.DurationS
	}
	return p.DurationSeconds
}

func (a AgenticSettings) check(bad reportFunc) {
	if a.Trace == "" {
		bad("agentic.trace", "empty: want a path, lake:<key> or %s", TraceSynth)
	}
	if f := strings.ToLower(a.TraceFormat); f != "auto" && f != "mooncake" && f != "infersweep" {
		bad("agentic.trace-format", "%q: want auto, mooncake or infersweep", a.TraceFormat)
	}
	if a.BlockSize < 1 {
		bad("agentic.block-size", "%d: want at least 1 token", a.BlockSize)
	}
	if a.Trace == TraceSynth && a.Synth.Sessions < 1 {
		bad("agentic.synth.sessions", "%d: want at least 1", a.Synth.Sessions)
	}
	if a.DurationS < 0 {
		bad("agentic.duration-s", "%d: want 0 (the point's) or more", a.DurationS)
	}
	if a.WarmupPerLane < 0 {
		bad("agentic.warmup-per-lane", "%d: want 0 or more", a.WarmupPerLane)
	}
	if a.MaxIdleGapS < 0 {
		bad("agentic.max-idle-gap-s", "%g: want 0 (as recorded) or more", a.MaxIdleGapS)
	}
	if f := a.StartFraction; len(f) != 2 || !(f[0] >= 0 && f[0] <= f[1] && f[1] < 1) {
		bad("agentic.start-fraction", "%v: want [lo, hi] with 0 ≤ lo ≤ hi < 1", f)
	}
}
