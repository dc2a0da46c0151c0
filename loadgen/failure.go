package loadgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"syscall"
)

// FailureKind says how a request failed, in the terms that decide who is
// at fault: the request itself, the engine's answer, the engine's process,
// or patience. Callers branch on it instead of on error text.
type FailureKind string

const (
	// FailClientError: HTTP 4xx. The engine refused the request (a prompt
	// too long, an unknown model): the configuration is wrong.
	FailClientError FailureKind = "client-error"
	// FailServerError: HTTP 5xx, or an error object in the stream. The
	// engine is up and answering, but not with tokens.
	FailServerError FailureKind = "server-error"
	// FailEngineGone: the connection was refused, reset or closed before
	// the answer ended: the engine's process went away.
	FailEngineGone FailureKind = "engine-gone"
	// FailStalled: the stream went silent for longer than StallTimeout.
	FailStalled FailureKind = "stalled"
	// FailTimeout: the request outlasted RequestTimeout.
	FailTimeout FailureKind = "timeout"
	// FailProtocol: the answer was not the event stream asked for (a
	// malformed chunk, no content, a status that is no error).
	FailProtocol FailureKind = "protocol"
	// FailOther: anything else, such as a cancelled run.
	FailOther FailureKind = "other"
)

// FailureCount is how many measured requests failed one way.
type FailureCount struct {
	Kind FailureKind `json:"kind"`
	// HTTPStatus is the status the engine answered; 0 when it answered none.
	HTTPStatus int    `json:"http_status,omitempty"`
	Count      int    `json:"count"`
	Example    string `json:"example"` // the first such failure's message
}

// The errors a request fails with where it fails; failureOf reads their
// kind back. Their texts are what result files have always recorded.
var (
	errStalled     = errors.New("stalled")
	errTimedOut    = errors.New("request timeout")
	errMidStream   = errors.New("server error mid-stream")
	errNoContent   = errors.New("stream ended without any content chunk")
	errClosedEarly = errors.New("stream closed before [DONE]")
)

// statusError is an answer other than 200 OK.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

// failureOf is the kind of err, and the HTTP status behind it if any.
func failureOf(err error) (FailureKind, int) {
	var status *statusError
	switch {
	case errors.As(err, &status):
		switch {
		case status.code >= 400 && status.code < 500:
			return FailClientError, status.code
		case status.code >= 500 && status.code < 600:
			return FailServerError, status.code
		}
		return FailProtocol, status.code
	case errors.Is(err, errStalled):
		return FailStalled, 0
	case errors.Is(err, errTimedOut):
		return FailTimeout, 0
	case errors.Is(err, errMidStream):
		return FailServerError, 0
	case errors.Is(err, errMalformedChunk), errors.Is(err, errEventTooLong), errors.Is(err, errNoContent):
		return FailProtocol, 0
	case errors.Is(err, context.Canceled):
		return FailOther, 0
	case errors.Is(err, errClosedEarly), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return FailEngineGone, 0
	}
	return FailOther, 0
}

// countFailures groups failed records by kind and status, most frequent
// first (ties in kind and status order, so the result is stable).
func countFailures(records []Record) []FailureCount {
	counts := []FailureCount{}
	for i := range records {
		r := &records[i]
		if r.OK() {
			continue
		}
		at := slices.IndexFunc(counts, func(c FailureCount) bool { return c.Kind == r.Failure && c.HTTPStatus == r.HTTPStatus })
		if at < 0 {
			counts = append(counts, FailureCount{Kind: r.Failure, HTTPStatus: r.HTTPStatus, Example: r.Err})
			at = len(counts) - 1
		}
		counts[at].Count++
	}
	slices.SortStableFunc(counts, func(a, b FailureCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.HTTPStatus, b.HTTPStatus))
	})
	return counts
}

// CountOf is how many measured requests failed with one of kinds.
func (s Summary) CountOf(kinds ...FailureKind) int {
	n := 0
	for _, c := range s.FailureKinds {
		if slices.Contains(kinds, c.Kind) {
			n += c.Count
		}
	}
	return n
}
