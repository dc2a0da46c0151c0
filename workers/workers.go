package workers

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

// teardownGrace lets a stopping worker finish teardowns in flight: longer
// than an engine's SIGTERM-to-SIGKILL grace.
const teardownGrace = 30 * time.Second

// NewControl is the worker that plans sweeps and commits them.
func NewControl(c client.Client, acts *activities.Activities) worker.Worker {
	w := worker.New(c, workflows.ControlQueue, worker.Options{WorkerStopTimeout: teardownGrace})
	w.RegisterWorkflow(workflows.SweepWorkflow)
	w.RegisterActivity(acts.PlanSweep)
	w.RegisterActivity(acts.WriteManifest)
	w.RegisterActivity(acts.AnalyzeSweep)
	w.RegisterActivity(acts.SendAlert)
	return w
}

// NewNode returns the two workers of one node of a pool: one on the pool's
// queue (the pool's orchestration, provisioning, failure rows) and one on
// the node's own queue (engine, load, teardown).
func NewNode(c client.Client, label string, acts *activities.Activities) []worker.Worker {
	pool := worker.New(c, sweep.TaskQueue(label), worker.Options{WorkerStopTimeout: teardownGrace})
	pool.RegisterWorkflow(workflows.HardwareSweepWorkflow)
	pool.RegisterActivity(acts.LoadRunnerPoints)
	pool.RegisterActivity(acts.Provision)
	pool.RegisterActivity(acts.RecordFailure)

	// The node queue: provisioning when the pool assigns this node, then
	// its engine, load and teardown.
	node := worker.New(c, acts.NodeQueue, worker.Options{WorkerStopTimeout: teardownGrace, MaxConcurrentActivityExecutionSize: 2})
	node.RegisterActivity(acts.Provision)
	node.RegisterActivity(acts.StartEngine)
	node.RegisterActivity(acts.RunLoad)
	node.RegisterActivity(acts.Teardown)
	return []worker.Worker{pool, node}
}
