package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/infersweep/infersweep/specyaml"
)

// traceLine is one turn of the infersweep trace format. Lines of a
// session are its turns in file order; sessions may interleave.
//
//	{"session_id":"s1","start_ms":0,"shared":[{"id":"system","tokens":6000}],"input_tokens":900,"output_tokens":300}
//	{"session_id":"s1","delay_ms":2100,"input_tokens":450,"output_tokens":120}
//	{"session_id":"s1/a0","parent":"s1","parent_turn":1,"shared":[{"id":"system","tokens":6000}],"input_tokens":700,"output_tokens":200}
//
// input_tokens is the turn's new input after its shared content; the
// conversation so far (every earlier turn's input and answer) is sent
// before it. A session with parent is a sub-agent: it starts when turn
// parent_turn (0-based) of its parent has been answered, and the parent's
// next turn waits for it.
type traceLine struct {
	SessionID    string      `json:"session_id"`
	Parent       string      `json:"parent,omitempty"`
	ParentTurn   *int        `json:"parent_turn,omitempty"`
	StartMs      float64     `json:"start_ms,omitempty"`
	DelayMs      float64     `json:"delay_ms,omitempty"`
	Shared       []sharedRef `json:"shared,omitempty"`
	InputTokens  int         `json:"input_tokens"`
	OutputTokens int         `json:"output_tokens"`
}

type sharedRef struct {
	ID     string `json:"id"`
	Tokens int    `json:"tokens"`
}

// sharedKey keeps named content apart from mooncake's numbered blocks.
func sharedKey(id string) string { return "s/" + id }

type sessionNode struct {
	session    Session
	parent     string
	parentTurn int
	line       int
	children   []*sessionNode
}

func parseInfersweep(lines []jsonLine, name string) (*Trace, error) {
	nodes := map[string]*sessionNode{}
	var order []*sessionNode
	for _, l := range lines {
		var tl traceLine
		if err := decodeLine(l, name, &tl); err != nil {
			return nil, err
		}
		turn, err := infersweepTurn(tl, l.n, name)
		if err != nil {
			return nil, err
		}
		n, ok := nodes[tl.SessionID]
		if !ok {
			n = &sessionNode{session: Session{ID: tl.SessionID, Start: msDuration(tl.StartMs)}, parent: tl.Parent, parentTurn: -1, line: l.n}
			if tl.ParentTurn != nil {
				n.parentTurn = *tl.ParentTurn
			}
			if n.parent != "" && n.parentTurn < 0 {
				return nil, &specyaml.Error{File: name, Line: l.n, Path: "parent_turn", Msg: "missing: a sub-agent starts after one turn of its parent (0-based)"}
			}
			turn.Gap = 0
			nodes[tl.SessionID] = n
			order = append(order, n)
		} else if tl.Parent != "" && tl.Parent != n.parent {
			return nil, &specyaml.Error{File: name, Line: l.n, Path: "parent", Msg: fmt.Sprintf("%q: session %q began at line %d with parent %q", tl.Parent, tl.SessionID, n.line, n.parent)}
		}
		n.session.Turns = append(n.session.Turns, turn)
	}
	t := &Trace{}
	for _, n := range order {
		if n.parent == "" {
			continue
		}
		p, ok := nodes[n.parent]
		if !ok {
			return nil, &specyaml.Error{File: name, Line: n.line, Path: "parent", Msg: fmt.Sprintf("%q is no session of this file", n.parent)}
		}
		if n.parentTurn >= len(p.session.Turns) {
			return nil, &specyaml.Error{File: name, Line: n.line, Path: "parent_turn", Msg: fmt.Sprintf("%d: session %q has %d turns (0-based)", n.parentTurn, n.parent, len(p.session.Turns))}
		}
		for a := p; a != nil; a = nodes[a.parent] {
			if a == n {
				return nil, &specyaml.Error{File: name, Line: n.line, Path: "parent", Msg: fmt.Sprintf("%q makes a cycle of sub-agents", n.parent)}
			}
		}
		p.children = append(p.children, n)
	}
	for _, n := range order {
		if n.parent == "" {
			t.Sessions = append(t.Sessions, build(n))
		}
	}
	return t, nil
}

// build puts each sub-agent under the turn it follows.
func build(n *sessionNode) Session {
	s := n.session
	s.Turns = append([]Turn(nil), s.Turns...)
	for _, c := range n.children {
		s.Turns[c.parentTurn].SubAgents = append(s.Turns[c.parentTurn].SubAgents, build(c))
	}
	return s
}

func infersweepTurn(tl traceLine, line int, name string) (Turn, error) {
	bad := func(field, format string, args ...any) (Turn, error) {
		return Turn{}, &specyaml.Error{File: name, Line: line, Path: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case tl.SessionID == "":
		return bad("session_id", "missing: every turn names its session")
	case tl.InputTokens < 0:
		return bad("input_tokens", "%d: want 0 or more", tl.InputTokens)
	case tl.OutputTokens < 1:
		return bad("output_tokens", "%d: want at least 1 token", tl.OutputTokens)
	case tl.DelayMs < 0:
		return bad("delay_ms", "%g: want milliseconds ≥ 0", tl.DelayMs)
	case tl.StartMs < 0:
		return bad("start_ms", "%g: want milliseconds ≥ 0", tl.StartMs)
	}
	turn := Turn{Gap: msDuration(tl.DelayMs), InputTokens: tl.InputTokens, OutputTokens: tl.OutputTokens, Line: line}
	for i, s := range tl.Shared {
		if s.ID == "" || s.Tokens < 1 {
			return bad(fmt.Sprintf("shared[%d]", i), "want an id and at least 1 token, got id %q with %d", s.ID, s.Tokens)
		}
		turn.Shared = append(turn.Shared, Segment{Key: sharedKey(s.ID), Tokens: s.Tokens})
	}
	if turn.NewTokens() < 1 {
		return bad("input_tokens", "the turn sends no new tokens: give input_tokens or shared content")
	}
	return turn, nil
}

// WriteTrace writes t in the infersweep format, each session's lines
// followed by its sub-agents'.
func WriteTrace(w io.Writer, t *Trace) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	var write func(s *Session, parent string, parentTurn int) error
	write = func(s *Session, parent string, parentTurn int) error {
		for i := range s.Turns {
			turn := &s.Turns[i]
			tl := traceLine{SessionID: s.ID, DelayMs: ms(turn.Gap), InputTokens: turn.InputTokens, OutputTokens: turn.OutputTokens}
			if i == 0 {
				tl.StartMs, tl.DelayMs = ms(s.Start), 0
				if parent != "" {
					tl.Parent, tl.ParentTurn = parent, &parentTurn
				}
			}
			for _, seg := range turn.Shared {
				id := seg.Key
				if len(id) > 2 && id[:2] == "s/" {
					id = id[2:]
				}
				tl.Shared = append(tl.Shared, sharedRef{ID: id, Tokens: seg.Tokens})
			}
			if err := enc.Encode(tl); err != nil {
				return err
			}
		}
		for i := range s.Turns {
			for j := range s.Turns[i].SubAgents {
				if err := write(&s.Turns[i].SubAgents[j], s.ID, i); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i := range t.Sessions {
		if err := write(&t.Sessions[i], "", 0); err != nil {
			return fmt.Errorf("write trace: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
