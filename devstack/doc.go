// Package devstack runs everything infersweep needs on one machine, inside
// one process: a real Temporal server (frontend, history, matching, worker)
// persisted in SQLite, the Temporal Web UI, and an S3-compatible object
// store persisted in a bbolt file, and on request (StartWorkers) a control
// worker and simulated pools in the same process. It is what `infersweep
// dev`, the demo, the chaos harness and the integration tests start;
// production uses a Temporal cluster and real S3.
package devstack
