// Package chaos is the fault-injection harness behind `infersweep chaos`:
// it runs a sweep on a fresh dev stack with simulated pools as separate
// worker processes, SIGKILLs and restarts those workers, makes engines and
// the S3 store fail, restarts Temporal mid-sweep, and then checks the
// lake through the exported plan and listing APIs: every planned point
// landed exactly once, nothing leaked, nobody panicked.
package chaos
