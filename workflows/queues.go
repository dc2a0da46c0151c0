package workflows

import "github.com/infersweep/infersweep/sweep"

// Task-queue and child-workflow names live here, not in workers: workflow
// code needs them (a pool's child runs on its pool's queue, a point's
// activities on its node's), and workers imports workflows, so workflows
// importing workers would be a cycle. Nor in sweep, a domain package that
// knows nothing of Temporal: it only folds a label to its pool key.
// Running workers and recorded histories use these names: they must not
// change.

// TaskQueue is the task queue of a runner label's (or pool name's) pool:
// hw-<pool key>, so label cluster:x polls hw-cluster.x.
func TaskQueue(label string) string { return "hw-" + sweep.PoolKey(label) }

// NodeQueue is the task queue only one node of a pool polls: where the
// pool hands it points, and where its engines are started, measured and
// torn down.
func NodeQueue(label, node string) string { return TaskQueue(label) + "." + node }

// PoolWorkflowID is the id of a sweep's child workflow for one pool:
// <sweep workflow id>/hw-<pool name>. The pool name is used as it is (not
// folded as in TaskQueue), as SweepWorkflow has always named its children.
func PoolWorkflowID(sweepWorkflowID, pool string) string { return sweepWorkflowID + "/hw-" + pool }
