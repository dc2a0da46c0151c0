// Package devstack runs everything infersweep needs on one machine, inside
// one process: a real Temporal server (frontend, history, matching, worker)
// persisted in SQLite, the Temporal Web UI, and an S3-compatible object
// store persisted in a bbolt file. It is what `infersweep dev` and the
// integration tests start; production uses a Temporal cluster and real S3.
package devstack
