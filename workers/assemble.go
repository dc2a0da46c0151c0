package workers

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

// Setup is what every worker of one process shares.
type Setup struct {
	Lake       *results.Lake
	Logger     *slog.Logger
	Metrics    *Metrics // nil: none recorded
	Versioning Versioning
	// Version names this build on every row it writes, so a result can be
	// traced to the code that measured it.
	Version string
	// Launcher starts the engines of node workers; nil starts them as
	// local child processes of this one.
	Launcher activities.Launcher
}

// Fleet is a set of started workers, stopped together.
type Fleet []worker.Worker

// Stop stops every worker; each waits for its activities in flight,
// teardowns included.
func (f Fleet) Stop() {
	for _, w := range f {
		w.Stop()
	}
}

func (s Setup) activities() (*activities.Activities, error) {
	// The local backend launches the simulated engine as this binary.
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary for the simulated engine: %w", err)
	}
	acts := &activities.Activities{Lake: s.Lake, Launcher: &launch.Local{Self: self}, Version: s.Version, Logger: s.Logger}
	if s.Metrics != nil {
		acts.Metrics = s.Metrics
	}
	return acts, nil
}

// StartControl runs the control worker, with the alert settings of the
// environment.
func StartControl(c client.Client, s Setup) (Fleet, error) {
	acts, err := s.activities()
	if err != nil {
		return nil, err
	}
	if acts.Alerts, err = activities.LoadAlertConfig(); err != nil {
		return nil, err
	}
	w := NewControl(c, acts, s.Versioning)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start control worker: %w", err)
	}
	return Fleet{w}, nil
}

// StartNode runs one node of a pool, its engines started by s.Launcher.
func StartNode(c client.Client, s Setup, label, node string) (Fleet, error) {
	s.Logger = s.Logger.With("pool", label, "node", node)
	acts, err := s.activities()
	if err != nil {
		return nil, err
	}
	if s.Launcher != nil {
		acts.Launcher = s.Launcher
	}
	acts.Power = localPower()
	acts.Node, acts.NodeQueue = node, workflows.NodeQueue(label, node)
	var started Fleet
	for _, w := range NewNode(c, label, acts, s.Versioning) {
		if err := w.Start(); err != nil {
			started.Stop()
			return nil, fmt.Errorf("start worker for %s/%s: %w", label, node, err)
		}
		started = append(started, w)
	}
	return started, nil
}

// localPower is the sampler of this machine's GPUs; without one, the
// engine's own power metric is used.
func localPower() activities.PowerSampler {
	if _, err := exec.LookPath("nvidia-smi"); err == nil {
		return activities.NvidiaSMI{Exec: launch.ExecRunner{}}
	}
	if _, err := exec.LookPath("amd-smi"); err == nil {
		return activities.AMDSMI{Exec: launch.ExecRunner{}}
	}
	return nil
}

// StartPools runs every node of every pool of runners in this process,
// with s.Launcher: a simulated fleet on one machine. It returns
// the workers and how many nodes they are.
func StartPools(c client.Client, s Setup, runners sweep.Runners) (Fleet, int, error) {
	labels := make([]string, 0, len(runners.Labels))
	for l := range runners.Labels {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	var all Fleet
	nodes := 0
	for _, label := range labels {
		for _, node := range runners.Labels[label] {
			f, err := StartNode(c, s, label, node)
			if err != nil {
				all.Stop()
				return nil, 0, err
			}
			all = append(all, f...)
			nodes++
		}
	}
	return all, nodes, nil
}

// Serve serves /metrics and /healthz on addr until stop is called.
func (m *Metrics) Serve(addr string, logger *slog.Logger) (stop func(), err error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics endpoint stopped", "error", err)
		}
	}()
	return func() { _ = srv.Close() }, nil
}
