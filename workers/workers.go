package workers

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/workflows"
)

// teardownGrace lets a stopping worker finish teardowns in flight: longer
// than an engine's SIGTERM-to-SIGKILL grace.
const teardownGrace = 30 * time.Second

// Versioning opts workers into Temporal's worker versioning: each build
// polls as its own version of a deployment, and sweeps are pinned to the
// build that started them, so a deploy during a sweep never replays its
// workflows on different code. Old workers must run until their sweeps end
// (deploy/README.md has the runbook).
type Versioning struct {
	Deployment string // empty: unversioned workers
	BuildID    string
}

func (v Versioning) options() worker.Options {
	opts := worker.Options{WorkerStopTimeout: teardownGrace}
	if v.Deployment != "" {
		opts.DeploymentOptions = worker.DeploymentOptions{
			UseVersioning:             true,
			Version:                   worker.WorkerDeploymentVersion{DeploymentName: v.Deployment, BuildID: v.BuildID},
			DefaultVersioningBehavior: workflow.VersioningBehaviorPinned,
		}
	}
	return opts
}

// NewControl is the worker that plans sweeps and commits them.
func NewControl(c client.Client, acts *activities.Activities, v Versioning) worker.Worker {
	w := worker.New(c, workflows.ControlQueue, v.options())
	w.RegisterWorkflow(workflows.SweepWorkflow)
	w.RegisterActivity(acts.PlanSweep)
	w.RegisterActivity(acts.WriteManifest)
	w.RegisterActivity(acts.AnalyzeSweep)
	w.RegisterActivity(acts.SendAlert)
	w.RegisterActivity(acts.NotifySweepFailed)
	return w
}

// NewNode returns the two workers of one node of a pool: one on the pool's
// queue (the pool's orchestration, provisioning, failure rows) and one on
// the node's own queue (engine, load, teardown).
func NewNode(c client.Client, label string, acts *activities.Activities, v Versioning) []worker.Worker {
	pool := worker.New(c, workflows.TaskQueue(label), v.options())
	pool.RegisterWorkflow(workflows.HardwareSweepWorkflow)
	pool.RegisterActivity(acts.LoadRunnerPoints)
	pool.RegisterActivity(acts.LoadPoolPage)
	pool.RegisterActivity(acts.WriteManifestPart)
	pool.RegisterActivity(acts.WriteNodeFaults)
	pool.RegisterActivity(acts.Provision)
	pool.RegisterActivity(acts.RecordFailure)

	// The node queue: provisioning when the pool assigns this node, then
	// its engine, load and teardown.
	nodeOpts := v.options()
	// A point's engine and load, and its teardown beside the next start;
	// a node of a deployment may start several ranks and the frontend at
	// once, and answers a probe during a load.
	nodeOpts.MaxConcurrentActivityExecutionSize = 8
	nodeOpts.Identity = NodeIdentity(acts.NodeQueue)
	node := worker.New(c, acts.NodeQueue, nodeOpts)
	node.RegisterActivity(acts.Provision)
	node.RegisterActivity(acts.StartEngine)
	node.RegisterActivity(acts.RunLoad)
	node.RegisterActivity(acts.Teardown)
	node.RegisterActivity(acts.JoinGang)
	node.RegisterActivity(acts.StartRole)
	node.RegisterActivity(acts.StartDeployment)
	node.RegisterActivity(acts.CheckRoles)
	return []worker.Worker{pool, node}
}
