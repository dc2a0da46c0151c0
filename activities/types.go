// Package activities are infersweep's side effects as Temporal activities:
// planning a sweep, leasing a node, starting an engine, generating load,
// writing results. They are thin: the work is in sweep, launch, loadgen and
// results; here errors are classified so workflows know what to retry.
package activities

import (
	"time"

	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// Error types workflows branch on (temporal.ApplicationError types).
const (
	// ErrConfig: the point cannot run as configured; no node would help.
	ErrConfig = "ConfigError"
	// ErrNodeFault: the node or its engine broke; retry on another node.
	ErrNodeFault = "NodeFault"
	// ErrNodeBusy: this node holds another lease (or is quarantined).
	ErrNodeBusy = "NodeBusy"
	// ErrFailureRate: the point was measured but more of its requests
	// failed than settings allow (InferenceX's 5%). It is a failed point
	// with its figures, not retried: InferenceX does not rerun it either.
	ErrFailureRate = "FailureRate"
	// ErrEngine: the engine failed the same way on two different nodes;
	// the image, flags or model are at fault, not the nodes.
	ErrEngine = "EngineFailure"
	// ErrWorkerRestarted: the node's worker restarted while running this;
	// the point is retried, and the node is not charged for it.
	ErrWorkerRestarted = "WorkerRestarted"
)

// PlanInput names the spec files of a sweep. The control worker reads them:
// in a fleet, a path on shared storage or a spec uploaded to the lake.
type PlanInput struct {
	SweepID  string
	Date     string // YYYY-MM-DD, the night the results belong to
	Masters  []string
	Runners  string
	Settings string
	Recipes  []string
	Filters  sweep.Filters
	// ChangedSince, a sweep id or a spec digest, keeps only the points
	// that sweep (or that spec, expanded with these runners and settings)
	// did not have.
	ChangedSince string
	// ChangedSinceLastOf, a schedule id, keeps only the points that
	// schedule's latest committed sweep before this one did not have (all
	// of them for its first sweep).
	ChangedSinceLastOf string
	// Simulate launches every point on the simulated engine standing in
	// for its framework (recipes.AttachSimulated).
	Simulate bool `json:",omitempty"`
	// Upstream, a lake ref to a results.UpstreamIndex, carries the
	// InferenceX checkout's srt-slurm recipes the points launch from; ""
	// plans without them (generic multinode launches).
	Upstream string `json:",omitempty"`
}

// RunnerPlan is one hardware pool's share of a sweep.
type RunnerPlan struct {
	Label  string
	Points int
	// Capacity is how many points the pool runs at once: its node count
	// unless the settings say otherwise.
	Capacity int
	// Nodes is how many nodes runners.yaml lists for the label.
	Nodes int
	// NodeNames are those nodes: the pool workflow hands points to free
	// nodes itself instead of letting busy nodes refuse them.
	NodeNames []string
}

// PlanOutput is small on purpose: the plan itself is in the lake.
type PlanOutput struct {
	PlanKey    string
	Total      int
	Runners    []RunnerPlan
	Models     []string
	Frameworks []string
	Precisions []string
	Settings   sweep.Settings
}

// Lease is a node claimed for one point.
type Lease struct {
	Node      string
	NodeQueue string
	LeaseID   string
}

// ProvisionInput asks the pool for a node.
type ProvisionInput struct {
	// Node is the node the pool chose, when it chose one.
	Node        string
	SweepID     string
	PointID     string
	Attempt     int
	Quarantined []string
}

// StartInput starts a point's engine on its leased node.
type StartInput struct {
	Lease Lease
	// Acquire takes the lease here: the pool chose the node, so no
	// separate provisioning round trip is needed.
	Acquire   bool
	Point     sweep.Point
	TimeScale float64
	Engine    sweep.EngineSettings
}

// EngineInfo is a ready engine.
type EngineInfo struct {
	BaseURL        string
	StartupSeconds float64
	ImageDigest    string
	Placement      launch.Placement
}

// LoadInput measures a point and writes its rows to the lake.
type LoadInput struct {
	Lease     Lease
	SweepID   string
	Date      string
	Point     sweep.Point
	Engine    EngineInfo
	Workload  sweep.WorkloadSettings
	Goodput   sweep.GoodputSettings
	TimeScale float64
	Attempt   int
	// ConfigDigest identifies the spec files the point came from.
	ConfigDigest string
	// Release stops the engine and frees the node once the rows are
	// written, sparing a teardown round trip; PointResult.Released says
	// whether it did.
	Release bool
	// Gang are the nodes of a multinode point's deployment, the lease's
	// node first.
	Gang []string `json:",omitempty"`
}

// PointResult is what a workflow keeps of a point: its manifest entry and
// a headline figure for progress, never the rows.
type PointResult struct {
	Manifest   results.ManifestPoint
	TputPerGPU float64
	Failed     int
	Completed  int
	Released   bool
	// Error says why a measured point failed (Manifest.Status failed).
	Error string
}

// TeardownInput ends a point's engine; the engine's log goes to the lake.
type TeardownInput struct {
	Lease    Lease
	SweepID  string
	Date     string
	Hardware string
	PointID  string
	Attempt  int
}

// FailureInput records a point that did not produce a measurement.
type FailureInput struct {
	SweepID    string
	Date       string
	Point      sweep.Point
	Status     string // failed or skipped
	ErrorClass string
	Error      string
	Attempts   int
	Node       string
	// At is when the workflow gave up on the point: the row's time, the
	// same on every retry so a retried write finds identical bytes.
	At time.Time
}

// ManifestInput commits a sweep.
type ManifestInput struct {
	SweepID string
	Date    string
	// Points are the manifest of sweeps started before pools wrote parts.
	Points []results.ManifestPoint
	// Pools name the parts each pool wrote to the lake.
	Pools       []PoolParts
	Quarantined map[string][]string // runner label → nodes
}

// PoolParts is how many manifest parts one pool wrote.
type PoolParts struct {
	Runner string
	Parts  int
}

// AnalyzeInput analyses a committed sweep.
type AnalyzeInput struct {
	SweepID string
	Date    string
	// Costs are the plan's prices and power per hardware; nil means the
	// defaults.
	Costs    map[string]sweep.HardwareCost
	Analysis sweep.AnalysisSettings
}

// GangInput brings one node into a deployment's gang.
type GangInput struct {
	Lease Lease
}

// GangNode is a node of a gang as the others reach it.
type GangNode struct {
	Address string
	// Whole: this node's backend starts a whole deployment itself (one
	// Slurm allocation), so its first node starts it and the others only
	// hold their lease.
	Whole bool
}

// RoleInput starts one rank of one worker of a deployment's role, or its
// frontend, on a node of the deployment's gang.
type RoleInput struct {
	Lease Lease
	// Point is the deployment's first point: what every role serves.
	Point sweep.Point
	Role  string
	// Worker is the worker's index in its role; Rank the node's among the
	// Nodes the worker spans; MasterAddr its rank 0's address.
	Worker, Rank, Nodes int
	MasterAddr          string
	// The frontend's backends, as base URLs.
	PrefillURLs, DecodeURLs, WorkerURLs []string
	// ControlAddr is the deployment's control plane's address, where it
	// has one.
	ControlAddr string
	TimeScale   float64
	Engine      sweep.EngineSettings
}

// RoleHealth is what a node of a gang says of the roles it runs.
type RoleHealth struct {
	// Dead are the roles whose engine exited, as role/worker/rank.
	Dead []string
}
