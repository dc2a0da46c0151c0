// Package workers wires infersweep's workflows and activities to Temporal
// task queues: the control worker, the per-hardware pools, their queue
// names, and the client connection they share.
package workers
