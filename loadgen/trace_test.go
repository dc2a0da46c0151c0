package loadgen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadMooncakeTrace(t *testing.T) {
	// Two sessions share blocks 1 and 2 (a system prompt); rows without a
	// session_id are sessions of one turn, as in Mooncake's own traces.
	trace := `{"session_id":"a","timestamp":1000,"input_length":1200,"output_length":50,"hash_ids":[1,2,3]}
{"session_id":"b","timestamp":0,"input_length":1024,"output_length":20,"hash_ids":[1,2]}
{"session_id":"a","delay":2500,"input_length":300,"output_length":40,"hash_ids":[4]}

{"timestamp":5000,"input_length":700,"output_length":3}
{"session_id":"b","timestamp":4000,"input_length":10,"output_length":5}
`
	tr, err := ReadTrace(strings.NewReader(trace), "t.jsonl", TraceAuto, 0)
	require.NoError(t, err)
	require.Equal(t, TraceMooncake, tr.Format)
	require.Len(t, tr.Sessions, 3)
	b, a, single := tr.Sessions[0], tr.Sessions[1], tr.Sessions[2]
	require.Equal(t, "b", b.ID, "sessions in order of their first timestamp")
	require.Equal(t, "row-5", single.ID)

	require.Equal(t, []Segment{{"h/1", 512}, {"h/2", 512}, {"h/3", 176}}, a.Turns[0].Shared, "the last block holds the rest of input_length")
	require.Zero(t, a.Turns[0].InputTokens)
	require.Equal(t, 2500*time.Millisecond, a.Turns[1].Gap, "delay is the idle gap")
	require.Equal(t, []Segment{{"h/4", 300}}, a.Turns[1].Shared)
	require.Equal(t, 4*time.Second, b.Turns[1].Gap, "between timestamps, the gap is the difference")
	require.Equal(t, 10, b.Turns[1].InputTokens, "no hash_ids: unique input")
	require.Equal(t, 700, single.Turns[0].InputTokens)
	require.Equal(t, 3, a.Requests()+single.Requests())

	st := tr.Stats()
	require.EqualValues(t, 1024, st.SharedPrefixTokens, "blocks 1 and 2 are in two sessions")
	// First inputs less shared content: b 0 (all shared), a 1200 − 1024, the single row 700.
	require.Equal(t, 3, st.FirstInputTokens.Count)
	require.InDelta(t, 176, st.FirstInputTokens.P50, 0)
	require.InDelta(t, (0+176+700)/3.0, st.FirstInputTokens.Mean, 1e-9)
	require.InDelta(t, 1024, st.SharedTokensPerSession.Max, 0)
	require.InDelta(t, 300, st.TurnInputTokens.Max, 0, "block 4 is a's alone: input, not shared")
	require.InDelta(t, 1200+50+300, st.PromptTokens.Max, 0, "a's second turn resends its first and the answer")
}

func TestReadInfersweepTraceWithSubAgents(t *testing.T) {
	trace := `{"session_id":"s1","shared":[{"id":"system","tokens":6000}],"input_tokens":900,"output_tokens":300}
{"session_id":"s1/a0","parent":"s1","parent_turn":0,"shared":[{"id":"sub","tokens":100}],"input_tokens":50,"output_tokens":20}
{"session_id":"s1","delay_ms":2100,"input_tokens":450,"output_tokens":120}
{"session_id":"s1/a0","delay_ms":30,"input_tokens":40,"output_tokens":10}
{"session_id":"s1/a1","parent":"s1","parent_turn":0,"input_tokens":60,"output_tokens":10}
`
	tr, err := ReadTrace(strings.NewReader(trace), "t.jsonl", TraceAuto, 0)
	require.NoError(t, err)
	require.Equal(t, TraceInfersweep, tr.Format)
	require.Len(t, tr.Sessions, 1, "sub-agents live under their parent's turn")
	s := tr.Sessions[0]
	require.Len(t, s.Turns, 2)
	require.Equal(t, 2100*time.Millisecond, s.Turns[1].Gap)
	require.Len(t, s.Turns[0].SubAgents, 2)
	require.Equal(t, []Segment{{"s/sub", 100}}, s.Turns[0].SubAgents[0].Turns[0].Shared)
	require.Equal(t, 30*time.Millisecond, s.Turns[0].SubAgents[0].Turns[1].Gap)
	require.Equal(t, 5, s.Requests())
	require.Equal(t, 2, s.fanOut())

	var out bytes.Buffer
	require.NoError(t, WriteTrace(&out, tr))
	again, err := ReadTrace(&out, "again.jsonl", TraceInfersweep, 0)
	require.NoError(t, err)
	require.Equal(t, withoutLines(tr.Sessions), withoutLines(again.Sessions), "written and read back, the trace is the same")
}

// withoutLines are t's sessions with line numbers cleared, which differ
// between a file and its rewrite.
func withoutLines(sessions []Session) []Session {
	out := make([]Session, len(sessions))
	for i, s := range sessions {
		s.Turns = append([]Turn(nil), s.Turns...)
		for j := range s.Turns {
			s.Turns[j].Line = 0
			s.Turns[j].SubAgents = withoutLines(s.Turns[j].SubAgents)
		}
		out[i] = s
	}
	return out
}

func TestTraceErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct {
		name, trace string
		format      TraceFormat
		wantErr     string
	}{
		{"too many blocks", `{"input_length":600,"output_length":1,"hash_ids":[1,2,3]}`, TraceMooncake,
			"t.jsonl:1: hash_ids: 3 ids for input_length 600: at 512 tokens a block it holds at most 2 (is --block-size right?)"},
		{"text input", `{"text_input":"hi","output_length":1}`, TraceMooncake, `t.jsonl:1: json: unknown field "text_input"`},
		{"no output", "\n" + `{"input_length":6}`, TraceMooncake, "t.jsonl:2: output_length: missing: replay sends it as max_tokens"},
		{"both clocks", `{"input_length":6,"output_length":1,"timestamp":1,"delay":2}`, TraceMooncake, "t.jsonl:1: delay: timestamp and delay cannot be set together"},
		{"wrong type", `{"session_id":"s","input_tokens":"many","output_tokens":1}`, TraceAuto, "t.jsonl:1: input_tokens: want int, got string"},
		{"zero output", `{"session_id":"s","input_tokens":5,"output_tokens":0}`, TraceInfersweep, "t.jsonl:1: output_tokens: 0: want at least 1 token"},
		{"unknown parent", `{"session_id":"s","input_tokens":5,"output_tokens":1}` + "\n" + `{"session_id":"c","parent":"x","parent_turn":0,"input_tokens":5,"output_tokens":1}`, TraceInfersweep,
			`t.jsonl:2: parent: "x" is no session of this file`},
		{"parent turn past the end", `{"session_id":"s","input_tokens":5,"output_tokens":1}` + "\n" + `{"session_id":"c","parent":"s","parent_turn":3,"input_tokens":5,"output_tokens":1}`, TraceInfersweep,
			`t.jsonl:2: parent_turn: 3: session "s" has 1 turns (0-based)`},
		{"empty shared", `{"session_id":"s","shared":[{"id":"","tokens":5}],"input_tokens":5,"output_tokens":1}`, TraceInfersweep,
			`t.jsonl:1: shared[0]: want an id and at least 1 token, got id "" with 5`},
		{"nothing", "\n\n", TraceAuto, "t.jsonl: no records"},
		{"bad format", `{"input_length":6,"output_length":1}`, "sharegpt", `trace-format "sharegpt": want auto, mooncake or infersweep`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTrace(strings.NewReader(tt.trace), "t.jsonl", tt.format, 0)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestSynthesizeIsSeededAndFitsItsDistributions(t *testing.T) {
	cfg := DefaultSynth()
	cfg.Sessions = 300
	a, err := Synthesize(cfg)
	require.NoError(t, err)
	b, err := Synthesize(cfg)
	require.NoError(t, err)
	var wa, wb bytes.Buffer
	require.NoError(t, WriteTrace(&wa, a))
	require.NoError(t, WriteTrace(&wb, b))
	require.Equal(t, wa.String(), wb.String(), "same config and seed, same bytes")
	cfg.Seed = 2
	c, err := Synthesize(cfg)
	require.NoError(t, err)
	require.NotEqual(t, a.Sessions[0].Turns[0].InputTokens, c.Sessions[0].Turns[0].InputTokens)

	read, err := ReadTrace(&wa, "synth.jsonl", TraceAuto, 0)
	require.NoError(t, err)
	st := read.Stats()
	require.Equal(t, 300, st.Sessions)
	// The fits recover the parameters the trace was drawn with. Turn
	// counts are cut by the context limit and by rounding, so they are
	// checked loosely.
	tests := []struct {
		name      string
		got, want LogNormal
		tolMedian float64
		tolSigma  float64
	}{
		{"turn input", st.TurnInputTokens.LogNormal(), cfg.TurnInputTokens, 0.05, 0.05},
		{"first input", st.FirstInputTokens.LogNormal(), cfg.FirstInputTokens, 0.12, 0.1},
		{"output", st.OutputTokens.LogNormal(), cfg.OutputTokens, 0.05, 0.05},
		{"idle gap", st.IdleGapMs.LogNormal(), cfg.IdleGapMs, 0.05, 0.05},
		{"turns", st.TurnsPerSession.LogNormal(), cfg.Turns, 0.12, 0.15},
	}
	for _, tt := range tests {
		require.InEpsilon(t, tt.want.Median, tt.got.Median, tt.tolMedian, tt.name)
		require.InDelta(t, tt.want.Sigma, tt.got.Sigma, tt.tolSigma*tt.want.Sigma+0.02, tt.name)
	}
	require.EqualValues(t, cfg.SystemPromptTokens+cfg.SubAgentSystemTokens, st.SharedPrefixTokens, "the two system prompts are all that sessions share")
	require.InDelta(t, cfg.SubAgentProbability, st.SpawnShare, 0.02)
	require.LessOrEqual(t, st.FanOut.Max, float64(cfg.MaxFanOut))
	require.LessOrEqual(t, st.FinalContextTokens.Max, float64(cfg.MaxContextTokens))
	// Each turn resends the whole conversation: nearly all of a long
	// session's prompt was sent before.
	require.Greater(t, st.EstPrefixHitRate, 0.85)
	require.Less(t, st.EstPrefixHitRate, 1.0)
}

func TestParseLogNormal(t *testing.T) {
	d, err := ParseLogNormal("700:1.1")
	require.NoError(t, err)
	require.Equal(t, LogNormal{700, 1.1}, d)
	d, err = ParseLogNormal("24")
	require.NoError(t, err)
	require.Equal(t, LogNormal{24, 0}, d, "a median alone is a constant")
	_, err = ParseLogNormal("0:1")
	require.ErrorContains(t, err, `"0:1": want MEDIAN:SIGMA with MEDIAN > 0`)
	_, err = ParseLogNormal("5:-1")
	require.ErrorContains(t, err, "SIGMA ≥ 0")
}

func TestPrefixIndexCountsLeadingSegmentsSentBefore(t *testing.T) {
	p := newPrefixIndex()
	sys, u1, a1, u2 := Segment{"s/sys", 100}, Segment{"i/x/0", 10}, Segment{"a/x/0", 5}, Segment{"i/x/1", 7}
	tests := []struct {
		name string
		segs []Segment
		want int
	}{
		{"first prompt: nothing sent before", []Segment{sys, u1}, 0},
		{"next turn: the whole previous prompt", []Segment{sys, u1, a1, u2}, 110},
		{"another session: the shared system prompt", []Segment{sys, {"i/y/0", 9}}, 100},
		{"the same key after another prefix is no hit", []Segment{{"s/other", 3}, u1}, 0},
		{"a partial block differs from the full one", []Segment{{"s/sys", 50}}, 0},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, p.send(tt.segs), tt.name)
	}
}

func TestChatConversationsGrowByWholeMessages(t *testing.T) {
	w := DefaultWorkload()
	w.Model, w.API = "m", APIChat
	c := &conversation{w: &w}
	var bodies []chatRequest
	for turn := range 3 {
		c.appendInput([]Segment{{"s/system", 8}}, inputKey("s", turn), 5)
		b, err := c.body(7)
		require.NoError(t, err)
		var req chatRequest
		require.NoError(t, json.Unmarshal(b, &req))
		bodies = append(bodies, req)
		c.appendAnswer(answerKey("s", turn), 4)
	}
	for k := 1; k < len(bodies); k++ {
		prev, cur := bodies[k-1].Messages, bodies[k].Messages
		require.Len(t, cur, len(prev)+2, "turn %d adds the answer and its new input", k)
		require.Equal(t, prev, cur[:len(prev)], "turn %d resends turn %d's messages unchanged", k, k-1)
		require.Equal(t, "assistant", cur[len(prev)].Role)
		require.Len(t, strings.Fields(cur[len(prev)].Content), 4, "the answer's four tokens as four words")
		require.Len(t, strings.Fields(cur[len(prev)+1].Content), 13, "8 shared and 5 unique tokens")
	}
	require.Equal(t, 7, bodies[2].MaxTokens)
}
