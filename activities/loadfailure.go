package activities

import (
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/loadgen"
)

// nearlyEvery is the share of failed requests at which a load measured
// an engine that does not serve rather than a point: it started, then
// failed (nearly) every request. Below it, down to the settings' failure
// limit, the point is measured and failed, as InferenceX fails it.
const nearlyEvery = 0.95

// loadFailure is the error a load ends with when it measured no point;
// nil when it did. Only the kinds loadgen gave the failures decide.
//
// The first line of a node fault's message is its signature: the
// workflow compares it across nodes (numbers of three digits or more
// masked) and blames the engine when two nodes failed a point the same
// way. So it names the kind and status, never counts or addresses,
// which go on the second line.
func loadFailure(s loadgen.Summary) error {
	if len(s.FailureKinds) == 0 {
		return nil
	}
	sent := s.Completed + s.Failed
	if top := s.FailureKinds[0]; s.Completed == 0 || s.FailureRate() >= nearlyEvery {
		if top.Kind == loadgen.FailClientError {
			// The engine refused what was asked of it: no node would help.
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("the engine refused %d/%d requests: %s", top.Count, sent, top.Example), ErrConfig, nil)
		}
		return nodeFault("the engine failed the load", top, fmt.Sprintf("%s; first: %s", outcome(s, top), top.Example))
	}
	if gone := s.CountOf(loadgen.FailEngineGone, loadgen.FailStalled); gone > 0 {
		// Some requests finished before the engine went away: a partial
		// measurement is not a point. Retry it on a healthy node.
		first := s.FailureKinds[0]
		for _, c := range s.FailureKinds {
			if c.Kind == loadgen.FailEngineGone || c.Kind == loadgen.FailStalled {
				first = c
				break
			}
		}
		return nodeFault("the engine died during the load", first, fmt.Sprintf("%d/%d requests lost; first: %s", gone, sent, first.Example))
	}
	return nil
}

// nodeFault is a load failure for the workflow to attribute: to the node,
// or to the engine once another node saw the same signature.
func nodeFault(verdict string, c loadgen.FailureCount, details string) error {
	signature := fmt.Sprintf("%s: %s", verdict, c.Kind)
	if c.HTTPStatus != 0 {
		signature += fmt.Sprintf(", HTTP %d", c.HTTPStatus)
	}
	return temporal.NewNonRetryableApplicationError(signature+"\n"+details, ErrNodeFault, nil)
}

// outcome says how many of the sent requests failed as c did: for an
// HTTP status, how many the engine answered with one of its class (5xx).
func outcome(s loadgen.Summary, c loadgen.FailureCount) string {
	sent := s.Completed + s.Failed
	if c.HTTPStatus == 0 {
		return fmt.Sprintf("%d/%d requests failed as %s", s.CountOf(c.Kind), sent, c.Kind)
	}
	n := 0
	for _, other := range s.FailureKinds {
		if other.HTTPStatus/100 == c.HTTPStatus/100 {
			n += other.Count
		}
	}
	return fmt.Sprintf("the engine answered %dxx to %d/%d requests", c.HTTPStatus/100, n, sent)
}
