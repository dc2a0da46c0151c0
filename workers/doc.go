// Package workers wires infersweep's workflows and activities to Temporal
// task queues (named by the workflows package): the control worker, the
// per-hardware pools, and the client connection they share. It assembles a
// process's workers (StartControl, StartNode, StartPools) with what they
// share (Setup), runs one `infersweep worker` process (Run), serves their
// metrics, and reads what a worker is configured with: the effective
// configuration, secrets masked, and the build's version, which rows and
// worker versioning name.
package workers
