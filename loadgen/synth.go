package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// LogNormal is a positive quantity X = Median·exp(Sigma·Z), Z standard
// normal: Median is X's median and Sigma the standard deviation of ln X,
// which is what TraceStats reports for a trace, so a user's own trace can
// be fitted by copying its figures.
type LogNormal struct {
	Median float64 `json:"median"`
	Sigma  float64 `json:"sigma"`
}

// String is the MEDIAN:SIGMA form ParseLogNormal reads.
func (d LogNormal) String() string {
	return strconv.FormatFloat(d.Median, 'g', -1, 64) + ":" + strconv.FormatFloat(d.Sigma, 'g', -1, 64)
}

// ParseLogNormal reads MEDIAN:SIGMA, or MEDIAN alone for a constant.
func ParseLogNormal(s string) (LogNormal, error) {
	m, sg, hasSigma := strings.Cut(s, ":")
	median, err := strconv.ParseFloat(m, 64)
	if err != nil || !(median > 0) {
		return LogNormal{}, fmt.Errorf("%q: want MEDIAN:SIGMA with MEDIAN > 0, e.g. 700:1.1", s)
	}
	var sigma float64
	if hasSigma {
		if sigma, err = strconv.ParseFloat(sg, 64); err != nil || sigma < 0 || math.IsInf(sigma, 0) {
			return LogNormal{}, fmt.Errorf("%q: want MEDIAN:SIGMA with SIGMA ≥ 0, e.g. 700:1.1", s)
		}
	}
	return LogNormal{Median: median, Sigma: sigma}, nil
}

func (d LogNormal) draw(r *rand.Rand) float64 { return d.Median * math.Exp(d.Sigma*r.NormFloat64()) }

// drawInt is a draw rounded to a whole number of at least 1.
func (d LogNormal) drawInt(r *rand.Rand) int { return max(1, int(math.Round(d.draw(r)))) }

// SynthConfig describes synthetic coding-agent sessions. Every session
// opens with the same system prompt (tools, instructions), then a task
// with the files read for it; every later turn adds a tool result and
// the answer before it. Some turns spawn sub-agents, which open with a
// sub-agent system prompt of their own, run side by side, and hold the
// parent until they finish.
type SynthConfig struct {
	Sessions             int
	Seed                 uint64
	SystemPromptTokens   int       // shared by every session
	Turns                LogNormal // turns per session
	FirstInputTokens     LogNormal // a session's first turn after the system prompt
	TurnInputTokens      LogNormal // each later turn's new input
	OutputTokens         LogNormal
	IdleGapMs            LogNormal // between an answer and the next turn
	MaxContextTokens     int       // a session ends before its prompt would pass this
	SubAgentProbability  float64   // per turn, the chance it spawns sub-agents
	MaxFanOut            int       // sub-agents per spawn, uniform from 1
	SubAgentTurns        LogNormal
	SubAgentSystemTokens int // shared by every sub-agent
}

// DefaultSynth is an illustrative coding agent, not fitted to any
// published trace: fit your own with `infersweep trace stats`.
func DefaultSynth() SynthConfig {
	return SynthConfig{
		Sessions: 50, Seed: 1, SystemPromptTokens: 6000,
		Turns: LogNormal{24, 0.6}, FirstInputTokens: LogNormal{3000, 0.8}, TurnInputTokens: LogNormal{700, 1.1},
		OutputTokens: LogNormal{220, 0.9}, IdleGapMs: LogNormal{1500, 1.0}, MaxContextTokens: 131072,
		SubAgentProbability: 0.04, MaxFanOut: 3, SubAgentTurns: LogNormal{8, 0.5}, SubAgentSystemTokens: 3000,
	}
}

// Validate names the first field that cannot work.
func (c SynthConfig) Validate() error {
	for _, d := range []struct {
		name string
		d    LogNormal
	}{{"turns", c.Turns}, {"first-input", c.FirstInputTokens}, {"turn-input", c.TurnInputTokens}, {"output", c.OutputTokens}, {"idle-gap-ms", c.IdleGapMs}, {"subagent-turns", c.SubAgentTurns}} {
		if !(d.d.Median > 0) || !(d.d.Sigma >= 0) {
			return fmt.Errorf("%s %s: want MEDIAN > 0 and SIGMA ≥ 0", d.name, d.d)
		}
	}
	switch {
	case c.Sessions < 1:
		return fmt.Errorf("sessions %d: want at least 1", c.Sessions)
	case c.SystemPromptTokens < 0 || c.SubAgentSystemTokens < 0:
		return fmt.Errorf("system prompts %d and %d tokens: want 0 or more", c.SystemPromptTokens, c.SubAgentSystemTokens)
	case c.MaxContextTokens < c.SystemPromptTokens+2:
		return fmt.Errorf("max-context %d: want room for the %d-token system prompt and a turn", c.MaxContextTokens, c.SystemPromptTokens)
	case !(c.SubAgentProbability >= 0 && c.SubAgentProbability <= 1):
		return fmt.Errorf("subagent-probability %g: want 0 to 1", c.SubAgentProbability)
	case c.SubAgentProbability > 0 && c.MaxFanOut < 1:
		return fmt.Errorf("max-fan-out %d: want at least 1 when sub-agents are spawned", c.MaxFanOut)
	}
	return nil
}

// Synthesize draws a trace: the same config and seed give the same trace.
func Synthesize(c SynthConfig) (*Trace, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	t := &Trace{Format: TraceInfersweep}
	for i := range c.Sessions {
		// A stream per session: session i is the same whatever Sessions is.
		r := rand.New(rand.NewPCG(c.Seed, uint64(i)))
		id := fmt.Sprintf("s%04d", i)
		s := c.session(r, id, "system", c.SystemPromptTokens, c.Turns, true)
		t.Sessions = append(t.Sessions, s)
	}
	return t, nil
}

func (c SynthConfig) session(r *rand.Rand, id, system string, systemTokens int, turns LogNormal, spawns bool) Session {
	s := Session{ID: id}
	n := turns.drawInt(r)
	context := systemTokens
	for k := range n {
		turn := Turn{OutputTokens: c.OutputTokens.drawInt(r)}
		if k == 0 {
			if systemTokens > 0 {
				turn.Shared = []Segment{{Key: sharedKey(system), Tokens: systemTokens}}
			}
			turn.InputTokens = c.FirstInputTokens.drawInt(r)
		} else {
			turn.Gap = time.Duration(c.IdleGapMs.draw(r) * float64(time.Millisecond)).Round(time.Millisecond)
			turn.InputTokens = c.TurnInputTokens.drawInt(r)
		}
		if context+turn.InputTokens+turn.OutputTokens > c.MaxContextTokens {
			break
		}
		context += turn.InputTokens + turn.OutputTokens
		if spawns && k < n-1 && r.Float64() < c.SubAgentProbability {
			for j := range 1 + r.IntN(c.MaxFanOut) {
				sub := c.session(r, id+"/a"+strconv.Itoa(k)+"."+strconv.Itoa(j), "subagent-system", c.SubAgentSystemTokens, c.SubAgentTurns, false)
				turn.SubAgents = append(turn.SubAgents, sub)
			}
		}
		s.Turns = append(s.Turns, turn)
	}
	if len(s.Turns) == 0 {
		// The first turn alone was past MaxContextTokens: keep one that fits.
		turn := Turn{InputTokens: max(1, (c.MaxContextTokens-systemTokens-1)/2), OutputTokens: 1}
		if systemTokens > 0 {
			turn.Shared = []Segment{{Key: sharedKey(system), Tokens: systemTokens}}
		}
		s.Turns = []Turn{turn}
	}
	return s
}
