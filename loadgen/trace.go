package loadgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/infersweep/infersweep/specyaml"
)

// TraceFormat names a trace file's layout.
type TraceFormat string

const (
	// TraceAuto reads the first record and picks mooncake or infersweep.
	TraceAuto TraceFormat = "auto"
	// TraceMooncake is AIPerf's mooncake_trace JSONL: one request a line
	// with input_length, output_length, optional hash_ids (one id per
	// BlockSize tokens of the prompt), timestamp or delay in
	// milliseconds, and session_id. Rows of one session are its turns in
	// file order; each carries only its new input (AIPerf's
	// deltas_without_responses mode), and the conversation so far is
	// sent before it. A row without session_id is a session of one turn.
	TraceMooncake TraceFormat = "mooncake"
	// TraceInfersweep is this project's JSONL, one turn a line; see
	// traceLine for its fields. It adds what mooncake cannot say: shared
	// content of any length under a name, and sub-agents.
	TraceInfersweep TraceFormat = "infersweep"
)

// DefaultBlockSize is the tokens per hash_id in a mooncake trace:
// AIPerf's default (--isl-block-size 512).
const DefaultBlockSize = 512

// Trace is a set of sessions to replay.
type Trace struct {
	Format   TraceFormat
	Sessions []Session
}

// Session is one conversation of an agent: turns sent one after the other,
// each with the whole conversation before it.
type Session struct {
	ID string
	// Start is the first turn's arrival in the recorded trace; sessions
	// are handed to lanes in Start order.
	Start time.Duration
	Turns []Turn
}

// Turn is one request of a session.
type Turn struct {
	// Gap is the idle time between the previous turn's answer (and its
	// sub-agents) and this turn: tool execution, a user typing.
	Gap time.Duration
	// Shared content comes first in the turn's new input; a key names
	// identical tokens wherever it appears (a system prompt, a mooncake
	// block), so every session that uses it sends the same bytes.
	Shared []Segment
	// InputTokens more tokens of new input follow, unique to the turn.
	InputTokens  int
	OutputTokens int
	// SubAgents start when this turn's answer ends, run side by side, and
	// the next turn waits for all of them.
	SubAgents []Session
	// Line is where the turn was read, for messages.
	Line int
}

// Segment is a run of Tokens tokens whose ids depend only on Key (and the
// run's seed): two segments with one key share their first tokens.
type Segment struct {
	Key    string
	Tokens int
}

// NewTokens is the turn's new input: shared segments and unique tokens.
func (t *Turn) NewTokens() int {
	n := t.InputTokens
	for _, s := range t.Shared {
		n += s.Tokens
	}
	return n
}

// Requests is how many requests the session sends, its sub-agents' included.
func (s *Session) Requests() int {
	n := len(s.Turns)
	for i := range s.Turns {
		for j := range s.Turns[i].SubAgents {
			n += s.Turns[i].SubAgents[j].Requests()
		}
	}
	return n
}

// fanOut is the most requests the session has in flight at once.
func (s *Session) fanOut() int {
	most := 1
	for i := range s.Turns {
		n := 0
		for j := range s.Turns[i].SubAgents {
			n += s.Turns[i].SubAgents[j].fanOut()
		}
		most = max(most, n)
	}
	return most
}

// ReadTraceFile reads a trace; blockSize is the tokens per mooncake
// hash_id (0 means DefaultBlockSize).
func ReadTraceFile(path string, format TraceFormat, blockSize int) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	defer f.Close()
	return ReadTrace(f, path, format, blockSize)
}

// ReadTrace reads a trace from r; name is used in messages.
func ReadTrace(r io.Reader, name string, format TraceFormat, blockSize int) (*Trace, error) {
	if blockSize == 0 {
		blockSize = DefaultBlockSize
	}
	if blockSize < 1 {
		return nil, fmt.Errorf("block-size %d: want at least 1 token", blockSize)
	}
	lines, err := jsonLines(r, name)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no records: want one JSON object a line", name)
	}
	if format == TraceAuto || format == "" {
		format = detectFormat(lines[0].data)
	}
	var t *Trace
	switch format {
	case TraceMooncake:
		t, err = parseMooncake(lines, name, blockSize)
	case TraceInfersweep:
		t, err = parseInfersweep(lines, name)
	default:
		return nil, fmt.Errorf("trace-format %q: want auto, mooncake or infersweep", format)
	}
	if err != nil {
		return nil, err
	}
	t.Format = format
	slices.SortStableFunc(t.Sessions, func(a, b Session) int { return int(a.Start - b.Start) })
	return t, nil
}

type jsonLine struct {
	n    int
	data []byte
}

func jsonLines(r io.Reader, name string) ([]jsonLine, error) {
	sc := bufio.NewScanner(r)
	// A mooncake line with a 200k-token prompt lists 400 hash ids; a
	// line of tools or messages can be far longer.
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var lines []jsonLine
	for n := 1; sc.Scan(); n++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		lines = append(lines, jsonLine{n: n, data: slices.Clone(b)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, len(lines)+1, err)
	}
	return lines, nil
}

func detectFormat(first []byte) TraceFormat {
	var probe map[string]json.RawMessage
	if json.Unmarshal(first, &probe) == nil {
		if _, ok := probe["input_tokens"]; ok {
			return TraceInfersweep
		}
	}
	return TraceMooncake
}

// decodeLine unmarshals one line strictly, naming the field a type error
// is about.
func decodeLine(l jsonLine, name string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(l.data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return &specyaml.Error{File: name, Line: l.n, Path: typeErr.Field, Msg: fmt.Sprintf("want %s, got %s", typeErr.Type, typeErr.Value)}
	}
	return &specyaml.Error{File: name, Line: l.n, Msg: err.Error()}
}

// mooncakeLine is AIPerf's MooncakeTrace record, the synthetic-prompt
// fields only: text_input and messages replay recorded text, which a
// token-id load generator cannot send.
type mooncakeLine struct {
	SessionID    *string  `json:"session_id"`
	InputLength  *int     `json:"input_length"`
	OutputLength *int     `json:"output_length"`
	HashIDs      []int64  `json:"hash_ids"`
	Timestamp    *float64 `json:"timestamp"`
	Delay        *float64 `json:"delay"`
}

func parseMooncake(lines []jsonLine, name string, blockSize int) (*Trace, error) {
	t := &Trace{}
	at := map[string]int{} // session id → index in t.Sessions
	lastStamp := map[string]float64{}
	for _, l := range lines {
		var m mooncakeLine
		if err := decodeLine(l, name, &m); err != nil {
			return nil, err
		}
		turn, err := mooncakeTurn(m, l.n, name, blockSize)
		if err != nil {
			return nil, err
		}
		id := "row-" + strconv.Itoa(l.n)
		if m.SessionID != nil {
			id = *m.SessionID
		}
		i, seen := at[id]
		if !seen || m.SessionID == nil {
			at[id] = len(t.Sessions)
			start := time.Duration(0)
			if m.Timestamp != nil {
				start = msDuration(*m.Timestamp)
				lastStamp[id] = *m.Timestamp
			}
			t.Sessions = append(t.Sessions, Session{ID: id, Start: start, Turns: []Turn{turn}})
			continue
		}
		// AIPerf waits delay after the previous answer; a timestamp
		// gives only arrivals, so the gap between two arrivals stands for
		// the idle time (the trace does not say how long the answer took).
		switch {
		case m.Delay != nil:
			turn.Gap = msDuration(*m.Delay)
		case m.Timestamp != nil:
			turn.Gap = msDuration(max(0, *m.Timestamp-lastStamp[id]))
			lastStamp[id] = *m.Timestamp
		}
		t.Sessions[i].Turns = append(t.Sessions[i].Turns, turn)
	}
	return t, nil
}

func mooncakeTurn(m mooncakeLine, line int, name string, blockSize int) (Turn, error) {
	bad := func(field, format string, args ...any) (Turn, error) {
		return Turn{}, &specyaml.Error{File: name, Line: line, Path: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case m.InputLength == nil:
		return bad("input_length", "missing: replay needs token counts (text_input and messages traces are not supported)")
	case *m.InputLength < 1:
		return bad("input_length", "%d: want at least 1 token", *m.InputLength)
	case m.OutputLength == nil:
		return bad("output_length", "missing: replay sends it as max_tokens")
	case *m.OutputLength < 1:
		return bad("output_length", "%d: want at least 1 token", *m.OutputLength)
	case m.Timestamp != nil && m.Delay != nil:
		return bad("delay", "timestamp and delay cannot be set together, as in AIPerf")
	case m.Delay != nil && (*m.Delay < 0 || math.IsNaN(*m.Delay)):
		return bad("delay", "%g: want milliseconds ≥ 0", *m.Delay)
	case m.Timestamp != nil && (*m.Timestamp < 0 || math.IsNaN(*m.Timestamp)):
		return bad("timestamp", "%g: want milliseconds ≥ 0", *m.Timestamp)
	}
	in := *m.InputLength
	blocks := len(m.HashIDs)
	if need := (in + blockSize - 1) / blockSize; blocks > need {
		return bad("hash_ids", "%d ids for input_length %d: at %d tokens a block it holds at most %d (is --block-size right?)", blocks, in, blockSize, need)
	}
	turn := Turn{OutputTokens: *m.OutputLength, Line: line}
	for i, h := range m.HashIDs {
		// The last block may be partial; its tokens are the first ones of
		// the full block with the same id, so prefixes still match.
		n := min(blockSize, in-i*blockSize)
		turn.Shared = append(turn.Shared, Segment{Key: "h/" + strconv.FormatInt(h, 10), Tokens: n})
	}
	turn.InputTokens = in - min(in, blocks*blockSize)
	return turn, nil
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
