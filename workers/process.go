package workers

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/watchdog"
	"github.com/infersweep/infersweep/workflows"
)

// deploymentEnv names the worker deployment; empty leaves workers
// unversioned.
const deploymentEnv = "INFERSWEEP_WORKER_DEPLOYMENT"

// Process is what one `infersweep worker` runs: the control worker, or
// one node of a pool when Pool and Node are set.
type Process struct {
	Pool, Node string
	// MetricsAddr, when set, serves /metrics and /healthz there.
	MetricsAddr string
}

// What names the process in logs: the control worker, or a node with the
// two queues it polls.
func (p Process) What() string {
	if p.Pool == "" {
		return "control worker"
	}
	return fmt.Sprintf("node %s of pool %s (queues %s, %s)", p.Node, p.Pool, workflows.TaskQueue(p.Pool), workflows.NodeQueue(p.Pool, p.Node))
}

// startWatchdog runs, beside the control worker, the watchdog that tells
// the team about sweeps that finish no point for INFERSWEEP_ALERT_STALL_AFTER.
// Every control worker runs one; the lake's notice markers keep it to one
// message per sweep.
func startWatchdog(ctx context.Context, c client.Client, tcfg TemporalConfig, s Setup) error {
	alerts, err := activities.LoadAlertConfig()
	if err != nil {
		return err
	}
	w := &watchdog.Watchdog{Client: c, Namespace: tcfg.Namespace, Notifier: &activities.Activities{Lake: s.Lake, Alerts: alerts, Logger: s.Logger},
		StallAfter: alerts.StallAfter, StartGrace: alerts.StartGrace, NightDeadline: alerts.NightDeadline, Logger: s.Logger}
	go w.Run(ctx, min(time.Minute, alerts.StallAfter/3))
	return nil
}

// Run dials Temporal and runs p with s until ctx ends, then stops, which
// waits for activities in flight, teardowns included. Workers are
// versioned when deploymentEnv is set. A node first fails what an earlier
// worker of it left running, at once rather than after their heartbeat
// timeouts (which still catch them if Temporal cannot say). started is
// called once the workers poll.
func Run(ctx context.Context, tcfg TemporalConfig, s Setup, p Process, started func()) error {
	if s.Versioning.Deployment = os.Getenv(deploymentEnv); s.Versioning.Deployment != "" {
		s.Versioning.BuildID = ReadVersion().BuildID()
	}
	var metricsHandler []client.MetricsHandler
	if p.MetricsAddr != "" {
		var err error
		if s.Metrics, err = NewMetrics(); err != nil {
			return err
		}
		metricsHandler = append(metricsHandler, s.Metrics.SDK)
		stop, err := s.Metrics.Serve(p.MetricsAddr, s.Logger)
		if err != nil {
			return fmt.Errorf("metrics on %s: %w", p.MetricsAddr, err)
		}
		defer stop()
	}
	c, err := Dial(ctx, tcfg, s.Logger, metricsHandler...)
	if err != nil {
		return err
	}
	defer c.Close()
	var running Fleet
	if p.Pool == "" {
		if running, err = StartControl(c, s); err == nil {
			err = startWatchdog(ctx, c, tcfg, s)
		}
	} else {
		reapLeftovers(ctx, s, p.Node)
		running, err = StartNode(c, s, p.Pool, p.Node)
	}
	if err != nil {
		return err
	}
	if p.Pool != "" {
		n, err := FailOrphans(ctx, c, tcfg.Namespace, p.Pool, workflows.NodeQueue(p.Pool, p.Node))
		if err != nil {
			s.Logger.Warn("activities of an earlier worker of this node not failed; their heartbeat timeouts will", "error", err)
		} else if n > 0 {
			s.Logger.Warn("failed activities an earlier worker of this node left running", "count", n)
		}
	}
	s.Logger.Info("worker started", "what", p.What(), "temporal", tcfg.Address, "namespace", tcfg.Namespace, "bucket", s.Lake.Store().Bucket(),
		"deployment", s.Versioning.Deployment, "build_id", s.Versioning.BuildID)
	started()
	<-ctx.Done()
	running.Stop()
	s.Logger.Info("worker stopped", "what", p.What())
	return nil
}

// reapLeftovers removes what an earlier worker of this node left running
// (containers and Slurm jobs outlive a killed worker) as soon as the node
// is back, not only when it next starts an engine: it may never get
// another point tonight. A failure is left to the next start's reap.
func reapLeftovers(ctx context.Context, s Setup, node string) {
	reaper, ok := s.Launcher.(launch.Reaper)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := reaper.Reap(ctx, node)
	switch {
	case err != nil:
		s.Logger.Warn("leftover engines of this node not removed; the next engine start tries again", "node", node, "error", err)
	case n > 0:
		s.Logger.Warn("removed engines an earlier worker of this node left", "node", node, "count", n)
	}
}
