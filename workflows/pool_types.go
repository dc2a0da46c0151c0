package workflows

import (
	"maps"
	"slices"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// What a pool workflow takes, carries, answers and returns.

// HardwareInput runs one pool's share of a sweep.
type HardwareInput struct {
	SweepID  string
	Date     string
	PlanKey  string
	Runner   string
	Capacity int
	Nodes    int
	// NodeNames lets the pool assign points to free nodes; without them
	// (sweeps started before this field) any node of the pool queue claims
	// a point and busy nodes refuse.
	NodeNames []string
	TimeScale float64
	Settings  sweep.Settings
	// MaxPointsPerRun bounds one run's history: after this many points (or
	// when Temporal suggests it) the workflow drains and continues as new.
	MaxPointsPerRun int
	// Paged pools read their points a page at a time and write manifest
	// parts (pages.go); pools of sweeps started before then are not.
	Paged bool
	// Carry is the state a continued run inherits; nil on the first run.
	Carry *HardwareCarry
}

// HardwareCarry is what a pool's run hands to the next after
// continue-as-new: where it stopped, what it found, who is quarantined.
type HardwareCarry struct {
	Cursor   int // points of the canary-first order already finished
	Result   HardwareResult
	Pending  []PendingFailure
	Progress HardwareProgress
	Faults   map[string]int
	// ConfigFailed are the entries skipped after their canary failed, with
	// why; a paged pool carries them as Skipped, its reasons said once in
	// SkipReasons, since a broken image fails many entries the same way.
	ConfigFailed map[string]string `json:",omitempty"`
	Skipped      map[string]int    `json:",omitempty"`
	SkipReasons  []string          `json:",omitempty"`
	// Charges are the node faults charged per entry and failure
	// signature, withdrawn when the engine turns out to be at fault.
	Charges map[string]map[string][]string `json:",omitempty"`
}

// PendingFailure is a point that failed on node faults and may still be
// retried; its failure row is written when the pool gives up on it.
type PendingFailure struct {
	Point    sweep.Point
	Reason   string
	Attempts int
	Node     string
}

// HardwareResult is a pool's outcome.
type HardwareResult struct {
	// Points is the manifest share of an unpaged pool; a paged one wrote
	// Parts manifest parts to the lake and counts its points by status.
	Points []results.ManifestPoint `json:",omitempty"`
	Parts  int                     `json:",omitempty"`
	Counts map[string]int          `json:",omitempty"`
	// Failures are "point: reason" lines; MoreFailures, those left out.
	Failures     []string
	MoreFailures int `json:",omitempty"`
	Quarantined  []string
}

// HardwareProgress answers the "progress" query of a pool.
type HardwareProgress struct {
	Paused      bool
	Planned     int
	Done        int
	Failed      int
	Skipped     int
	Running     map[string]string // point id → node
	Quarantined []string
	// Evidence is, per node, the faults charged to it tonight (point and
	// first line of the failure): why a quarantined node is out.
	Evidence map[string][]string `json:",omitempty"`
	// Nodes are the pool's nodes, in runners-file order.
	Nodes []string `json:",omitempty"`
}

// Signals a pool workflow takes: pause stops starting points (running
// ones finish), resume starts them again.
const (
	PauseSignal  = "pause"
	ResumeSignal = "resume"
	// RetryFailedSignal re-runs the points that failed on node faults,
	// with quarantine lifted (the operator fixed the nodes).
	RetryFailedSignal = "retry-failed"
	// ReleaseNodeSignal lifts one node's quarantine (ReleaseNode): the
	// operator fixed it, or knows the faults were not its own.
	ReleaseNodeSignal = "release-node"
)

// ReleaseNode is the release-node signal's payload; the reason is kept
// with the node's evidence.
type ReleaseNode struct {
	Node   string
	Reason string
}

// keepConfigFailed stores the entries skipped after a failed canary: as
// they are for unpaged pools, each reason once for paged ones.
func (c *HardwareCarry) keepConfigFailed(failed map[string]string, paged bool) {
	if !paged {
		c.ConfigFailed = failed
		return
	}
	index := map[string]int{}
	c.Skipped = make(map[string]int, len(failed))
	for _, entry := range slices.Sorted(maps.Keys(failed)) {
		i, ok := index[failed[entry]]
		if !ok {
			i = len(c.SkipReasons)
			index[failed[entry]] = i
			c.SkipReasons = append(c.SkipReasons, failed[entry])
		}
		c.Skipped[entry] = i
	}
}

// configFailed is what keepConfigFailed stored, in either form.
func (c *HardwareCarry) configFailed() map[string]string {
	out := map[string]string{}
	maps.Copy(out, c.ConfigFailed)
	for entry, i := range c.Skipped {
		out[entry] = c.SkipReasons[i]
	}
	return out
}
