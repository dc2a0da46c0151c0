package loadgen

import (
	"math"
	"slices"
	"time"
)

// TraceStats describes a trace in the terms SynthConfig takes, so a
// synthetic trace can be fitted to a recorded one: every Fit's
// median and log_sigma are a LogNormal's.
type TraceStats struct {
	Format           string `json:"format"`
	Sessions         int    `json:"sessions"`
	SubAgentSessions int    `json:"subagent_sessions"`
	Requests         int    `json:"requests"`
	// TurnsPerSession counts top-level sessions' own turns.
	TurnsPerSession Fit `json:"turns_per_session"`
	// FirstInputTokens is a session's first new input less the content it
	// shares with other sessions (synth's first-input); TurnInputTokens the
	// same for later turns.
	FirstInputTokens Fit `json:"first_input_tokens"`
	TurnInputTokens  Fit `json:"turn_input_tokens"`
	OutputTokens     Fit `json:"output_tokens"`
	IdleGapMs        Fit `json:"idle_gap_ms"`
	// PromptTokens is every request's whole prompt, context included;
	// FinalContextTokens a session's prompt and answer at its last turn.
	PromptTokens       Fit `json:"prompt_tokens"`
	FinalContextTokens Fit `json:"final_context_tokens"`
	// SharedPrefixTokens is the distinct tokens of content (named
	// segments, mooncake blocks) used by more than one session, and
	// SharedTokensPerSession how many of those each session's first turn
	// sends.
	SharedPrefixTokens     int64 `json:"shared_prefix_tokens"`
	SharedTokensPerSession Fit   `json:"shared_tokens_per_session"`
	// SpawnShare is the share of turns that spawn sub-agents, FanOut how
	// many they spawn, SubAgentTurns how many turns those have.
	SpawnShare    float64 `json:"spawn_share"`
	FanOut        Fit     `json:"fan_out"`
	SubAgentTurns Fit     `json:"subagent_turns"`
	// EstPrefixHitRate replays the trace once, one session at a time with
	// recorded output lengths, through the client's estimator: the hit
	// rate an unbounded cache would reach.
	EstPrefixHitRate float64 `json:"est_prefix_cache_hit_rate"`
}

// Fit summarises positive values: count, mean, median, p90, max, and the
// log-normal whose median and sigma fit them (exp of the mean of ln x,
// standard deviation of ln x).
type Fit struct {
	Count    int     `json:"count"`
	Mean     float64 `json:"mean"`
	P50      float64 `json:"p50"`
	P90      float64 `json:"p90"`
	Max      float64 `json:"max"`
	Median   float64 `json:"median"`
	LogSigma float64 `json:"log_sigma"`
}

// LogNormal is the fitted distribution, in SynthConfig's terms.
func (f Fit) LogNormal() LogNormal { return LogNormal{Median: f.Median, Sigma: f.LogSigma} }

func fit(values []float64) Fit {
	if len(values) == 0 {
		return Fit{}
	}
	slices.Sort(values)
	var sum, logSum float64
	positive := 0
	for _, v := range values {
		sum += v
		if v > 0 {
			logSum += math.Log(v)
			positive++
		}
	}
	f := Fit{Count: len(values), Mean: sum / float64(len(values)), P50: percentile(values, 50), P90: percentile(values, 90), Max: values[len(values)-1]}
	if positive == 0 {
		return f
	}
	mu := logSum / float64(positive)
	var sq float64
	for _, v := range values {
		if v > 0 {
			d := math.Log(v) - mu
			sq += d * d
		}
	}
	f.Median, f.LogSigma = math.Exp(mu), math.Sqrt(sq/float64(positive))
	return f
}

type statsWalk struct {
	index                                           *prefixIndex
	turns, first, later, out, gaps, prompts, finals []float64
	shared, fanOut, subTurns                        []float64
	sessionsOf                                      map[string]map[string]bool // shared key → sessions using it
	sharedLen                                       map[string]int
	requests, subSessions, spawning, allTurns       int
	promptTokens, hitTokens                         int64
}

// Stats describes t.
func (t *Trace) Stats() TraceStats {
	w := &statsWalk{index: newPrefixIndex(), sessionsOf: map[string]map[string]bool{}, sharedLen: map[string]int{}}
	for i := range t.Sessions {
		w.users(&t.Sessions[i], t.Sessions[i].ID)
	}
	for i := range t.Sessions {
		s := &t.Sessions[i]
		w.turns = append(w.turns, float64(len(s.Turns)))
		w.session(s, s.ID, true)
	}
	st := TraceStats{
		Format: string(t.Format), Sessions: len(t.Sessions), SubAgentSessions: w.subSessions, Requests: w.requests,
		TurnsPerSession: fit(w.turns), FirstInputTokens: fit(w.first), TurnInputTokens: fit(w.later), OutputTokens: fit(w.out),
		IdleGapMs: fit(w.gaps), PromptTokens: fit(w.prompts), FinalContextTokens: fit(w.finals),
		SharedTokensPerSession: fit(w.shared), FanOut: fit(w.fanOut), SubAgentTurns: fit(w.subTurns),
	}
	for key, users := range w.sessionsOf {
		if len(users) > 1 {
			st.SharedPrefixTokens += int64(w.sharedLen[key])
		}
	}
	if w.allTurns > 0 {
		st.SpawnShare = float64(w.spawning) / float64(w.allTurns)
	}
	if w.promptTokens > 0 {
		st.EstPrefixHitRate = float64(w.hitTokens) / float64(w.promptTokens)
	}
	return st
}

// users notes which sessions use each segment key: content counts as
// shared only when another session sends it too (a mooncake block of one
// session alone is its own input).
func (w *statsWalk) users(s *Session, key string) {
	for i := range s.Turns {
		for _, seg := range s.Turns[i].Shared {
			users := w.sessionsOf[seg.Key]
			if users == nil {
				users = map[string]bool{}
				w.sessionsOf[seg.Key] = users
			}
			users[key] = true
			w.sharedLen[seg.Key] = max(w.sharedLen[seg.Key], seg.Tokens)
		}
		for j := range s.Turns[i].SubAgents {
			sub := &s.Turns[i].SubAgents[j]
			w.users(sub, key+"/"+sub.ID)
		}
	}
}

func (w *statsWalk) session(s *Session, key string, top bool) {
	var segs []Segment
	context := 0
	for i := range s.Turns {
		turn := &s.Turns[i]
		w.requests++
		w.allTurns++
		shared := 0
		for _, seg := range turn.Shared {
			if len(w.sessionsOf[seg.Key]) > 1 {
				shared += seg.Tokens
			}
			segs = append(segs, seg)
		}
		input := turn.NewTokens() - shared
		if turn.InputTokens > 0 {
			segs = append(segs, Segment{Key: inputKey(key, i), Tokens: turn.InputTokens})
		}
		context += turn.NewTokens()
		if i == 0 {
			w.first = append(w.first, float64(input))
			if top {
				w.shared = append(w.shared, float64(shared))
			}
		} else {
			w.later = append(w.later, float64(input))
			w.gaps = append(w.gaps, float64(turn.Gap)/float64(time.Millisecond))
		}
		w.out = append(w.out, float64(turn.OutputTokens))
		w.prompts = append(w.prompts, float64(context))
		w.promptTokens += int64(context)
		w.hitTokens += int64(w.index.send(segs))
		segs = append(segs, Segment{Key: answerKey(key, i), Tokens: turn.OutputTokens})
		context += turn.OutputTokens
		if len(turn.SubAgents) > 0 {
			w.spawning++
			w.fanOut = append(w.fanOut, float64(len(turn.SubAgents)))
		}
		for j := range turn.SubAgents {
			sub := &turn.SubAgents[j]
			w.subSessions++
			w.subTurns = append(w.subTurns, float64(len(sub.Turns)))
			w.session(sub, key+"/"+sub.ID, false)
		}
	}
	w.finals = append(w.finals, float64(context))
}
