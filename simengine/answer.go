package simengine

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"strings"

	"github.com/infersweep/infersweep/evals"
)

// The simulated model can answer the generated arithmetic set
// (evals.GenerateArithmetic), so accuracy evals run end to end without a
// GPU: with ServerConfig.Accuracy p > 0 a prompt whose last "Question: "
// is one of that set's problems gets a worked answer ending "#### N",
// right with probability p and off by a few otherwise. The draw hashes the
// question with Faults.Seed, not the arrival order, so an eval scores the
// same at any concurrency. A GPQA-shaped prompt over the same problems
// (evals.GenerateGPQA) is answered "The answer is (X)." with the same
// odds. Every other prompt gets the usual filler.

// answerText is the simulated model's reply to a recognised question;
// ok is false where it keeps its filler tokens.
func (s *Server) answerText(req *generateRequest, chat bool) (string, bool) {
	if s.cfg.Accuracy <= 0 {
		return "", false
	}
	var prompt string
	if chat {
		// The question is the last user turn, after any few-shot turns
		// (evals' chat format, upstream's).
		if len(req.Messages) == 0 {
			return "", false
		}
		prompt = req.Messages[len(req.Messages)-1].Content
	} else if json.Unmarshal(req.Prompt, &prompt) != nil {
		return "", false
	}
	text, ok := s.answerPrompt(prompt)
	if chat {
		// A chat reply starts a turn of its own, not a continuation of
		// "Answer:".
		text = strings.TrimPrefix(text, " ")
	}
	return text, ok
}

// answerPrompt answers a GPQA-shaped or GSM8K-shaped question: the last
// "Question: " line, in stock lm-eval's prompt or upstream's, whose
// instruction follows on the next line.
func (s *Server) answerPrompt(prompt string) (string, bool) {
	if letter, ok := evals.SolveGPQA(prompt); ok {
		sum := s.draw(prompt)
		if !s.right(sum) {
			letter = string(rune('A' + (int(letter[0]-'A')+1+int(sum%3))%4))
		}
		return " The answer is (" + letter + ").", true
	}
	i := strings.LastIndex(prompt, "Question: ")
	if i < 0 {
		return "", false
	}
	question, _, _ := strings.Cut(prompt[i+len("Question: "):], "\n")
	sol, ok := evals.SolveArithmetic(question)
	if !ok {
		return "", false
	}
	sum := s.draw(question)
	if s.right(sum) {
		return " " + sol.Written(sol.Answer), true
	}
	miss := 1 + int(sum%9)
	if sum&16 != 0 {
		miss = -miss
	}
	return " " + sol.Written(sol.Answer+miss), true
}

// draw hashes what was asked with the seed.
func (s *Server) draw(asked string) uint64 {
	h := fnv.New64a()
	_ = binary.Write(h, binary.LittleEndian, s.cfg.Faults.Seed)
	_, _ = h.Write([]byte(asked))
	return h.Sum64()
}

// right: the top 53 bits of a draw make a uniform number in [0, 1); the
// low bits pick the mistake, so the two are independent.
func (s *Server) right(sum uint64) bool { return float64(sum>>11)/(1<<53) < s.cfg.Accuracy }

// piece is the text of the written-th token of a stream, JSON-escaped for
// an SSE chunk: filler, or about four characters of the answer, the last
// token taking the rest.
func (g *generation) piece(written int) string {
	if g.text == "" {
		return tokenText
	}
	from := min(len(g.text), (written-1)*4)
	to := min(len(g.text), written*4)
	if written == g.output {
		to = len(g.text)
	}
	quoted, _ := json.Marshal(g.text[from:to])
	return string(quoted[1 : len(quoted)-1])
}
