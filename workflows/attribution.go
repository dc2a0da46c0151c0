package workflows

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/sweep"
)

// Attribution, the rules a failed attempt is judged by:
//   - A node is charged only with evidence tied to it: a node fault its
//     activities reported, or its worker gone (a timeout). The lake or
//     Temporal failing, and a worker that restarted at once, are retried
//     without a charge. Two charges quarantine a node.
//   - The same failure (signature, for points of the same entry) on two
//     nodes is the recipe's (its image, flags or model), not the nodes':
//     the point fails as an engine failure, the rest of the entry is
//     skipped, and the charges it caused are withdrawn, lifting the
//     quarantines they caused. A timeout says nothing about the engine.
//   - A config error (the engine refused to start, e.g. out of memory) is
//     the config's once a second node repeats it; if the point runs
//     elsewhere, it charges nobody.
//   - Only faults on different points count toward a quarantine, and a
//     point that failed on a node is retried on another.

// pointTry is a point's attempts so far.
type pointTry struct {
	p                 sweep.Point
	attempt, attempts int
	// suspect is the node whose config error a second node is to confirm.
	suspect    string
	suspectErr error
}

// judge decides whom a failed attempt blames (the rules above): ended
// says the point failed for good and is recorded; else it is tried again.
func (r *poolRun) judge(ctx workflow.Context, try *pointTry, node string, err error) (ended bool) {
	p := try.p
	fail := func(class, msg string) bool {
		r.record(ctx, p, "failed", class, msg, try.attempt, node)
		r.progress.Failed++
		return true
	}
	if errorType(err) == activities.ErrConfig {
		if try.suspect == "" && r.confirmConfig && try.attempt < try.attempts && r.anotherNodeFor(p, node) {
			// One node's word is not yet the config's fault (an out of
			// memory may be a node's leftover process): another node
			// confirms it or clears it.
			try.suspect, try.suspectErr, r.avoid[p.ID] = node, err, node
			return false
		}
		msg := reason(err)
		if try.suspect != "" {
			msg = fmt.Sprintf("on %s and %s alike: %s", try.suspect, node, msg)
		}
		r.configFailedEntries[p.Entry] = firstLine(msg)
		return fail(activities.ErrConfig, msg)
	}
	if r.attributeEngines && errorType(err) == activities.ErrWorkerRestarted {
		return false // a worker that came back at once says nothing of its node
	}
	if r.attributeEngines && r.engineAtFault(p, node, err) {
		msg := fmt.Sprintf("the engine failed the same way on %s: %s", strings.Join(r.blamedNodes(p.Entry, err), " and "), reason(err))
		r.configFailedEntries[p.Entry] = firstLine(msg)
		if r.in.Paged {
			// The entry is known broken now: its charges are withdrawn
			// and nothing of it is charged again (below), so they need
			// not be carried.
			delete(r.charges, p.Entry)
		}
		return fail(activities.ErrEngine, msg)
	}
	if why, broken := r.configFailedEntries[p.Entry]; broken && r.in.Paged {
		// A point of an entry found broken while it ran: its failure is
		// the entry's, not its node's, and another try is wasted.
		return fail(activities.ErrConfig, fmt.Sprintf("its entry failed (%s): %s", why, reason(err)))
	}
	if node != "" && (!r.nodeEvidenceOnly || errorType(err) == activities.ErrNodeFault) {
		r.charge(node, p, err)
		if r.distinctEvidence && r.anotherNodeFor(p, node) {
			r.avoid[p.ID] = node // a node fault is retried on another node
		}
	}
	return false
}

const withdrawnNote = " (withdrawn: the engine failed the same way on another node)"

var digits = regexp.MustCompile(`[0-9]{3,}`)

// signature is a failure with what varies between nodes (ports, pids,
// counts) taken out; "" for failures that are not engine evidence.
func signature(err error) string {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != activities.ErrNodeFault {
		return ""
	}
	// The whole first line, not firstLine's brief: pools in flight compared
	// whole lines, and a replay must reach the same verdicts.
	line, _, _ := strings.Cut(app.Message(), "\n")
	return digits.ReplaceAllString(line, "#")
}

// engineAtFault records a node fault of p on node and says whether the
// same failure was charged to another node for p's entry: then it
// withdraws those charges and the fault is not the node's.
func (r *poolRun) engineAtFault(p sweep.Point, node string, err error) bool {
	sig := signature(err)
	if sig == "" || node == "" {
		return false
	}
	bySig := r.charges[p.Entry]
	if bySig == nil {
		bySig = map[string][]string{}
		r.charges[p.Entry] = bySig
	}
	charged := bySig[sig]
	bySig[sig] = append(charged, node)
	if !slices.ContainsFunc(charged, func(n string) bool { return n != node }) {
		return false
	}
	// Every charge of this failure is withdrawn, repeats on one node too.
	for _, n := range charged {
		r.withdrawCharge(n, p.Entry)
	}
	return true
}

// blamedNodes are the nodes a failure of entry happened on, in order.
func (r *poolRun) blamedNodes(entry string, err error) []string {
	var nodes []string
	for _, n := range r.charges[entry][signature(err)] {
		if !slices.Contains(nodes, n) {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// withdrawCharge takes back the fault charged to node for entry, lifting
// its quarantine when that was what put it there; the evidence stays,
// marked withdrawn.
func (r *poolRun) withdrawCharge(node, entry string) {
	if r.faults[node] == 0 {
		return
	}
	r.faults[node]--
	ev := r.progress.Evidence[node]
	for i := len(ev) - 1; i >= 0; i-- {
		if strings.Contains(ev[i], " ("+entry+", conc ") && !strings.HasSuffix(ev[i], withdrawnNote) {
			ev[i] += withdrawnNote
			break
		}
	}
	if r.faults[node] < quarantineAfter {
		r.progress.Quarantined = slices.DeleteFunc(r.progress.Quarantined, func(n string) bool { return n == node })
	}
}

// timeoutType is the kind of timeout behind err, if it is one.
func timeoutType(err error) enumspb.TimeoutType {
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return timeout.TimeoutType()
	}
	return enumspb.TIMEOUT_TYPE_UNSPECIFIED
}

// errorType is the ApplicationError type behind err; a ScheduleToStart or
// heartbeat timeout (the node's worker is gone) counts as a node fault.
func errorType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	switch timeoutType(err) {
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, enumspb.TIMEOUT_TYPE_HEARTBEAT:
		return activities.ErrNodeFault
	}
	return ""
}

// reason is what a user should read of an activity's failure: the
// application error's own message without Temporal's wrapping.
func reason(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// firstLine is the first line of msg, at most briefBytes of it: enough to
// say what failed, while what a pool carries and reports stays small.
func firstLine(msg string) string {
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) <= briefBytes {
		return msg
	}
	cut := briefBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

const briefBytes = 300

// failureLine is a failed or skipped point in the pool's summary.
func failureLine(p sweep.Point, status, msg string) string {
	return fmt.Sprintf("%s (%s, conc %d): %s: %s", p.ID, p.Entry, p.Conc, status, firstLine(msg))
}
