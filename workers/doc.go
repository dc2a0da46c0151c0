// Package workers wires infersweep's workflows and activities to Temporal
// task queues (named by the workflows package): the control worker, the
// per-hardware pools, and the client connection they share. It assembles a process's
// workers (StartControl, StartNode, StartPools) with what they share
// (Setup) and serves their metrics.
package workers
