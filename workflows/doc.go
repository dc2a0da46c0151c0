// Package workflows holds infersweep's deterministic orchestration: the
// nightly sweep and its per-hardware children. Workflow code here does no
// I/O, reads no clock and starts no goroutines; side effects live in the
// activities package. It also names the task queues and child workflows
// (TaskQueue, NodeQueue, PoolWorkflowID) that workers poll and clients
// address.
package workflows
