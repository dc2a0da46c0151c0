package loadgen

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Record is one measured request, kept for the per-request table of the
// lake. Times are offsets and durations in the run's time basis (see
// Summary.TimeBasis). It costs about 200 bytes plus 4 per content chunk.
type Record struct {
	Index int
	// SendTime is when the request was written, from the start of the
	// measured window; ScheduledTime is when an open-loop schedule wanted
	// it sent (equal to SendTime in closed loop).
	SendTime      time.Duration
	ScheduledTime time.Duration
	// QueueTime is the wait for a concurrency slot before sending.
	QueueTime time.Duration
	TTFT      time.Duration
	E2EL      time.Duration
	// ITLs are the gaps between content chunks, in microseconds.
	ITLs []uint32
	// InputTokens is prompt_tokens from the usage chunk when the server sent
	// one, else the number of tokens (or approximated words) sent.
	InputTokens int
	// OutputTokens is completion_tokens from the usage chunk when sent, else
	// Chunks.
	OutputTokens   int
	RequestedInput int
	RequestedOut   int
	Chunks         int
	UsageReported  bool
	Err            string
	// Failure and HTTPStatus say how a failed request failed (Err says
	// it in words); HTTPStatus is 0 when the engine answered no status.
	Failure    FailureKind
	HTTPStatus int
	// SessionID and Turn place a trace replay's request in its session
	// (Turn is 0-based); SessionID is empty outside a replay.
	SessionID string
	Turn      int
	// EstCachedTokens is the client's estimate of the prompt's tokens an
	// engine's prefix cache could reuse (see prefixIndex); replay only.
	EstCachedTokens int
}

// OK tells whether the request completed and produced output.
func (r *Record) OK() bool { return r.Err == "" }

// fail marks the request failed by err.
func (r *Record) fail(err error) {
	r.Err = err.Error()
	r.Failure, r.HTTPStatus = failureOf(err)
}

// TPOT is (E2EL − TTFT)/(output_tokens − 1); false when it is undefined.
func (r *Record) TPOT() (time.Duration, bool) {
	if !r.OK() || r.OutputTokens < 2 {
		return 0, false
	}
	return (r.E2EL - r.TTFT) / time.Duration(r.OutputTokens-1), true
}

// streamState turns the events of one response stream into a Record. It
// is fed payloads with their arrival times, so tests can drive it with
// hand-made timestamps; the hot path allocates nothing.
type streamState struct {
	rec      *Record
	send     time.Time
	last     time.Time
	gotFirst bool
	sawDone  bool
}

func (s *streamState) onPayload(now time.Time, payload []byte) error {
	c, err := scanChunk(payload)
	if err != nil {
		return err
	}
	if c.done {
		s.sawDone = true
		return nil
	}
	if c.errText != nil {
		return fmt.Errorf("%w: %s", errMidStream, clip(c.errText))
	}
	if c.hasUsage {
		s.rec.UsageReported = true
		if c.completionTokens >= 0 {
			s.rec.OutputTokens = c.completionTokens
		}
		if c.promptTokens > 0 {
			s.rec.InputTokens = c.promptTokens
		}
	}
	if !c.hasChoices {
		return nil
	}
	if !s.gotFirst {
		s.gotFirst = true
		s.rec.TTFT = now.Sub(s.send)
	} else {
		gap := now.Sub(s.last) / time.Microsecond
		s.rec.ITLs = append(s.rec.ITLs, uint32(min(gap, 1<<32-1)))
	}
	s.last = now
	s.rec.Chunks++
	return nil
}

// finish closes the record once the stream has ended with err (nil or
// io.EOF for a clean end).
func (s *streamState) finish(err error) {
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		s.rec.fail(err)
	case !s.gotFirst:
		s.rec.fail(errNoContent)
	case !s.sawDone && s.rec.Chunks < s.rec.RequestedOut && (!s.rec.UsageReported || s.rec.OutputTokens < s.rec.RequestedOut):
		// A missing [DONE] is tolerated, a short stream without it is not:
		// that is a server that went away mid-answer.
		s.rec.fail(fmt.Errorf("%w after %d of %d output tokens", errClosedEarly, s.rec.Chunks, s.rec.RequestedOut))
	}
	if s.gotFirst {
		s.rec.E2EL = s.last.Sub(s.send)
	}
	if !s.rec.UsageReported {
		s.rec.OutputTokens = s.rec.Chunks
	}
}
