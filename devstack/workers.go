package devstack

import (
	"context"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
)

// Workers are a stack's workers run in its own process: the control
// worker and one simulated node per entry of a runners file.
type Workers struct {
	Client client.Client
	Lake   *results.Lake
	Nodes  int
	fleet  workers.Fleet
}

// StartWorkers runs a control worker and every node of runners (none:
// the control worker only) against the stack. setup's Lake is the
// stack's.
func (s *Stack) StartWorkers(ctx context.Context, runners sweep.Runners, setup workers.Setup) (*Workers, error) {
	c, err := s.Dial(ctx)
	if err != nil {
		return nil, err
	}
	if setup.Lake, err = s.Lake(ctx); err != nil {
		c.Close()
		return nil, err
	}
	control, err := workers.StartControl(c, setup)
	if err != nil {
		c.Close()
		return nil, err
	}
	pools, nodes, err := workers.StartPools(c, setup, runners)
	if err != nil {
		control.Stop()
		c.Close()
		return nil, err
	}
	return &Workers{Client: c, Lake: setup.Lake, Nodes: nodes, fleet: append(pools, control...)}, nil
}

// Stop stops the pools, then the control worker, then closes the client.
func (w *Workers) Stop() {
	w.fleet.Stop()
	w.Client.Close()
}

// TuneGC trades memory for CPU in a process that hosts the embedded
// Temporal server: the server allocates so fast that the collector costs
// 12 % of the CPU of a sweep at the default GOGC=100 (the orchestration
// benchmark). At 400 the heap may grow to five times what is live, which
// at 20,000 points outgrew a 24 GiB machine and swapped; a soft limit of
// half the machine's memory makes the collector work harder before that.
// GOGC and GOMEMLIMIT, when set, win.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if total := physicalMemory(); os.Getenv("GOMEMLIMIT") == "" && total > 0 {
		debug.SetMemoryLimit(total / 2)
	}
}

// physicalMemory is the machine's memory in bytes, 0 where /proc does
// not say.
func physicalMemory() int64 {
	info, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(info)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kib << 10
		}
	}
	return 0
}
