package activities

import (
	"context"
	"log/slog"
	"sync"

	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// Launcher starts engines on this node.
type Launcher interface {
	Start(ctx context.Context, spec launch.Spec) (*launch.Engine, error)
}

// Activities holds what the activities need. A control worker sets Lake;
// a node worker also sets Node, NodeQueue and Launcher.
type Activities struct {
	Lake     *results.Lake
	Launcher Launcher
	// Power, when set, is sampled once a second during each load; it wins
	// over the engine's own power metric.
	Power     PowerSampler
	Node      string
	NodeQueue string
	// Address is where other nodes of a deployment reach this node's
	// engines; "" means this host's loopback (a fleet on one machine).
	Address string
	Version string
	Logger  *slog.Logger
	Alerts  AlertConfig
	Metrics Recorder // nil: not recorded

	plans      planCache // pools of stored plans, read a page at a time
	evalsCache evalCache // eval settings and datasets

	mu     sync.Mutex
	lease  string         // the one lease this node holds, if any
	engine *launch.Engine // the engine started under it
	roles  []roleEngine   // or the ranks of a deployment it runs
}

// Recorder takes the figures an operator graphs: points by outcome, engine
// startup, load time, retries and quarantined nodes, per pool.
type Recorder interface {
	PointFinished(pool, status string)
	EngineReady(pool string, seconds float64)
	LoadMeasured(pool string, seconds float64)
	PointRetried(pool string)
	NodesQuarantined(pool string, nodes int)
}

type noMetrics struct{}

func (noMetrics) PointFinished(string, string) {}
func (noMetrics) EngineReady(string, float64)  {}
func (noMetrics) LoadMeasured(string, float64) {}
func (noMetrics) PointRetried(string)          {}
func (noMetrics) NodesQuarantined(string, int) {}

func (a *Activities) metrics() Recorder {
	if a.Metrics == nil {
		return noMetrics{}
	}
	return a.Metrics
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *Activities) pointRow(sweepID string, p sweep.Point, node string, attempts int, digest string) results.PointRow {
	row := results.PointRow{
		SweepID: sweepID, PointID: p.ID, Entry: p.Entry, Model: p.Model, ModelPrefix: p.ModelPrefix, Precision: p.Precision,
		Framework: p.Framework, Image: p.Image, Runner: p.Runner, Node: node, TP: int32(p.TP), EP: int32(p.EP), PP: int32(p.PP),
		DPAttn: p.DPAttn, DCPSize: int32(p.DCPSize), PCPSize: int32(p.PCPSize), Disagg: p.Disagg, GPUs: int32(p.GPUs),
		ISL: int32(p.ISL), OSL: int32(p.OSL), Conc: int32(p.Conc), Attempts: int32(attempts),
		InfersweepVersion: a.Version, ConfigDigest: digest, TimeScale: 1, TimeBasis: loadgen.TimeBasisWall,
	}
	row.SpecDecoding = p.SpecDecoding
	if p.Launch != nil {
		row.LaunchRecipe, row.LaunchFingerprint = p.Launch.Recipe, p.Launch.Fingerprint
	}
	row.SetTopology(p)
	row.SetScenario(p)
	return row
}
