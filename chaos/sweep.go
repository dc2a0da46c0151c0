package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/devstack/s3store"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
	"github.com/infersweep/infersweep/workflows"
)

// pools are the run's simulated pools and their nodes, each node a worker
// process.
var pools = map[string][]string{
	"sim-h100":   {"c-h100-0", "c-h100-1", "c-h100-2"},
	"sim-mi355x": {"c-mi355x-0", "c-mi355x-1"},
}

// marker names a run's directory in its workers' and engines'
// environment, where the leak check finds it.
const marker = "INFERSWEEP_CHAOS_RUN"

// harness is one sweep's stack, workers and what they did.
type harness struct {
	o         Options
	faults    bool
	dir       string
	stackOpts devstack.Options
	stack     *devstack.Stack
	s3Faults  *s3store.Faults
	control   *devstack.Workers
	fleet     *fleet
	run       *Run
	ended     chan struct{} // closes when the sweep's workflow has ended
}

func (h *harness) say(format string, args ...any) {
	if h.o.Progress != nil {
		fmt.Fprintf(h.o.Progress, "chaos: "+format+"\n", args...)
	}
}

// sweepOnce runs one sweep on a fresh stack, with faults or without, and
// checks the lake afterwards.
func sweepOnce(ctx context.Context, o Options, faults bool) (*Run, error) {
	dir, err := os.MkdirTemp("", "infersweep-chaos-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	h := &harness{o: o, faults: faults, dir: dir, ended: make(chan struct{}),
		run: &Run{Faults: map[string]int{}, ByStatus: map[string]int{}, ByErrorClass: map[string]int{}, Reasons: map[string]int{}, BrokenEntry: map[string]int{}}}
	in, err := h.writeSpec()
	if err != nil {
		return nil, err
	}
	if err := h.startStack(ctx); err != nil {
		return nil, err
	}
	defer h.stopStack(ctx)
	if h.control, err = h.stack.StartWorkers(ctx, sweep.Runners{}, workers.Setup{Logger: o.Logger}); err != nil {
		return nil, err
	}
	defer h.control.Stop()
	// The marker travels from the workers to their engines' environment.
	env := append(append(os.Environ(), h.stack.Env()...), marker+"="+dir)
	h.fleet = newFleet(o.Binary, env, dir, pools)
	defer h.fleet.stopAll()
	if err := h.fleet.startAll(); err != nil {
		return nil, err
	}

	in.SweepID = fmt.Sprintf("chaos-%d", o.Seed)
	if !faults {
		in.SweepID += "-baseline"
	}
	in.Date, in.TimeScale = time.Now().Format(time.DateOnly), o.TimeScale
	started := time.Now()
	wf, err := h.control.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(in.SweepID), TaskQueue: workflows.ControlQueue},
		workflows.SweepWorkflow, in)
	if err != nil {
		return nil, err
	}
	h.say("%s started (%d points planned, faults %t)", in.SweepID, o.Points, faults)
	done := make(chan error, 1)
	go func() { done <- wf.Get(ctx, nil); close(h.ended) }()
	if faults {
		if err = h.inject(ctx); err != nil {
			return nil, err
		}
	}
	if err = <-done; ctx.Err() != nil {
		return nil, ctx.Err()
	}
	h.run.Wall = time.Since(started)
	if err != nil {
		h.run.problem("the sweep workflow failed: %v", err)
	}
	h.say("%s ended in %s", in.SweepID, h.run.Wall.Round(time.Second))
	h.fleet.stopAll()
	h.check(ctx, in.SweepID, in.Date)
	return h.run, nil
}

// writeSpec writes the run's spec, runners and settings: entries of five
// concurrencies (1–16), every third on the second pool.
func (h *harness) writeSpec() (workflows.SweepInput, error) {
	var spec strings.Builder
	for i := range (h.o.Points + 4) / 5 {
		runner := "sim-h100"
		if i%3 == 2 {
			runner = "sim-mi355x"
		}
		fmt.Fprintf(&spec, `chaos-%03d:
  image: infersweep/sim:dev
  model: meta-llama/Llama-3.3-70B-Instruct
  model-prefix: llama70b
  runner: %s
  precision: fp8
  framework: sim
  scenarios:
    fixed-seq-len:
      - isl: %d
        osl: 1024
        search-space:
          - { tp: 8, conc-start: 1, conc-end: 16 }
`, i, runner, 512+64*i)
	}
	var runners strings.Builder
	runners.WriteString("labels:\n")
	for pool, nodes := range pools {
		fmt.Fprintf(&runners, "  %s: [%s]\n", pool, strings.Join(nodes, ", "))
	}
	runners.WriteString("hardware:\n  sim-h100: { gpus-per-node: 8, available-cpu-dram-mib: 2_000_000 }\n")
	settings := "workload: { random-range-ratio: 0.8, range-mode: inferencemax, prompts-per-conc: 4, warmups-per-conc: 0, request-rate: inf, seed: 1 }\n" +
		"retry: { point-attempts: 3, start-timeout: 1m, load-timeout: 5m }\n"
	if h.faults {
		settings += fmt.Sprintf("engines:\n  sim:\n    args: [--fault-plan, %q, --fault-record, %q]\n", engineFaults, h.faultLog())
		// A broken image or flag: this entry's engine starts, then answers
		// HTTP 500 to every request, on whatever node it runs.
		settings += fmt.Sprintf("  %s:\n    args: [--error-rate, \"1\"]\n", brokenEntry)
	}
	in := workflows.SweepInput{Masters: []string{filepath.Join(h.dir, "sweep.yaml")}, Runners: filepath.Join(h.dir, "runners.yaml"), Settings: filepath.Join(h.dir, "settings.yaml")}
	for path, body := range map[string]string{in.Masters[0]: spec.String(), in.Runners: runners.String(), in.Settings: settings} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return in, err
		}
	}
	return in, nil
}

// faultLog is where the engines record the fault each drew.
func (h *harness) faultLog() string { return filepath.Join(h.dir, "engine-faults.log") }

func (h *harness) startStack(ctx context.Context) error {
	var ports [3]int
	for i := range ports {
		var err error
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	h.stackOpts = devstack.Options{StateDir: filepath.Join(h.dir, "state"), TemporalPort: ports[0], UIPort: ports[1], S3Port: ports[2], Logger: h.o.Logger}
	if h.faults {
		h.s3Faults = &s3store.Faults{Rate: s3FaultRate, Seed: h.o.Seed}
		h.stackOpts.S3Faults = h.s3Faults
	}
	devstack.TuneGC()
	var err error
	h.stack, err = devstack.Start(ctx, h.stackOpts)
	return err
}

func (h *harness) stopStack(ctx context.Context) {
	if h.stack != nil {
		_ = h.stack.Stop(context.WithoutCancel(ctx))
	}
}

// freePort asks the kernel for a port nobody holds; the stack binds it
// again on restart.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// inject kills workers at random and restarts the stack once, until the
// sweep ends; an error is the harness's own, not the sweep's.
func (h *harness) inject(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(h.o.Seed, 0xc4a05))
	restartAfter := h.o.RestartAfter
	if restartAfter == 0 {
		restartAfter = time.Duration(float64(h.o.KillEvery) * 2.5)
	}
	restartAt := time.After(restartAfter)
	// Like the engines' faults, every kind happens at least once: the
	// first kill comes by half the fault-free run at the latest.
	firstKillBy := time.Now().Add(restartAfter * 3 / 2)
	nodes := h.fleet.nodes()
	for {
		// Exponential gaps around the mean: kills at random intervals.
		gap := time.Duration(rng.ExpFloat64() * float64(h.o.KillEvery))
		if h.run.Faults["worker-sigkill"] == 0 {
			gap = min(gap, max(time.Until(firstKillBy), 0))
		}
		select {
		case <-h.ended:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-restartAt:
			if err := h.restartStack(ctx); err != nil {
				return err
			}
		case <-time.After(gap):
			node := nodes[rng.IntN(len(nodes))]
			killed, err := h.fleet.restart(node)
			if err != nil {
				return err
			}
			if killed {
				h.run.Faults["worker-sigkill"]++
				h.say("SIGKILL %s's worker", node)
			}
		}
	}
}

// restartStack stops Temporal and the store and starts them again on the
// same state and ports.
func (h *harness) restartStack(ctx context.Context) error {
	h.say("stopping Temporal and the S3 store")
	h.stopStack(ctx)
	h.stack = nil
	time.Sleep(time.Second)
	stack, err := devstack.Start(ctx, h.stackOpts)
	if err != nil {
		return fmt.Errorf("restart the stack: %w", err)
	}
	h.stack = stack
	h.run.Faults["temporal-restart"]++
	h.say("Temporal and the S3 store are back")
	return nil
}
