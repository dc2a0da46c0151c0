package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/devstack/s3store"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/workflows"
)

// chaosOptions shape one chaos run.
type chaosOptions struct {
	Points    int           // planned points, rounded up to whole entries
	Seed      uint64        // kills, S3 faults and the engines' dice
	KillEvery time.Duration // mean interval between worker SIGKILLs
	// RestartAfter is when the Temporal server and the store restart;
	// 0 means 2.5 × KillEvery.
	RestartAfter time.Duration
	TimeScale    float64
	// Baseline runs the same sweep without faults first, for the wall-time
	// ratio.
	Baseline bool
	Logger   *slog.Logger
	Progress io.Writer // a line per event; nil for none
}

// chaosRates are the rates: per engine start for engine faults,
// per request for S3.
const (
	chaosEngineFaults = "startup=0.10,crash=0.05,stall=0.02,error=0.02,ensure"
	chaosS3FaultRate  = 0.05
)

// chaosRun is what one sweep under (or without) faults did.
type chaosRun struct {
	Wall          time.Duration       `json:"wall_ns"`
	Planned       int                 `json:"planned"`
	Landed        int                 `json:"landed"`
	Duplicated    int                 `json:"duplicated"`
	Lost          int                 `json:"lost"`
	ByStatus      map[string]int      `json:"by_status"`
	ByErrorClass  map[string]int      `json:"by_error_class"`
	EnginesLeaked int                 `json:"engines_leaked"`
	Panics        int                 `json:"panics"`
	Retries       int                 `json:"retries"`
	Faults        map[string]int      `json:"faults"`
	Quarantined   map[string][]string `json:"quarantined"`
	// Reasons counts failed and skipped points by error class and the
	// start of their message, to see what the faults turned into.
	Reasons map[string]int `json:"reasons"`
	// Problems lists every broken promise; empty is a pass.
	Problems []string `json:"problems"`
}

// chaosReport is `infersweep chaos`'s result.
type chaosReport struct {
	Options  chaosOptions `json:"-"`
	Baseline *chaosRun    `json:"baseline,omitempty"`
	Chaos    chaosRun     `json:"chaos"`
	// WallRatio is the chaos run's wall time over the fault-free one's.
	WallRatio float64 `json:"wall_ratio,omitempty"`
}

// faultKinds are every kind a chaos run must inject at least once.
var faultKinds = []string{"worker-sigkill", "engine-startup", "engine-crash", "engine-stall", "engine-http-500", "s3-refused", "s3-lost-reply", "temporal-restart"}

func newChaosCommand(g *globalFlags) *cobra.Command {
	o := chaosOptions{}
	var baseline bool
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Run a sweep under injected faults and check nothing is lost, duplicated or leaked",
		Long: `chaos starts a fresh dev stack (state in a temporary directory), runs simulated
pools as separate worker processes, and sweeps --points points while it:
  - SIGKILLs a random pool worker about every --kill-every and restarts it;
  - makes engines fail at startup (10% of engine starts), crash mid-run (5%),
    stall a stream (2%) and answer HTTP 500 (2%), every kind at least once;
  - makes the S3 store answer 500 to 5% of requests, half after the write;
  - stops the Temporal server (and the store) once mid-sweep and restarts it
    on the same state.
Then it checks what a benchmark must never do: every planned point is in the
lake exactly once (measured, or failed with its error class), the manifest
matches the objects, no engine process outlives the run, no worker panicked,
nodes that kept failing were quarantined. With --baseline (the default) the
same sweep first runs without faults, and the wall-time ratio is printed.
Exit 1 when any promise is broken.`,
		Example: `  infersweep chaos
  infersweep chaos --points 200 --seed 7 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			if o.Points < 5 {
				return usageError{fmt.Errorf("--points %d: want at least 5", o.Points)}
			}
			if o.Logger, err = g.logger(cmd.ErrOrStderr()); err != nil {
				return err
			}
			o.Baseline, o.Progress = baseline, cmd.ErrOrStderr()
			rep, err := runChaos(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				printChaos(cmd.OutOrStdout(), rep)
			}
			if problems := rep.problems(); len(problems) > 0 {
				return fmt.Errorf("chaos: %d broken promise(s): %s", len(problems), strings.Join(problems, "; "))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Points, "points", 60, "points to plan (60: the CI profile; 200: the full one)")
	cmd.Flags().Uint64Var(&o.Seed, "seed", 1, "seed for kills, S3 faults and engine faults")
	cmd.Flags().DurationVar(&o.KillEvery, "kill-every", 10*time.Second, "mean time between worker SIGKILLs")
	cmd.Flags().Float64Var(&o.TimeScale, "time-scale", 20, "simulated engines run this much faster than real time")
	cmd.Flags().BoolVar(&baseline, "baseline", true, "first run the same sweep without faults, for the wall-time ratio")
	return cmd
}

// problems are the broken promises of the whole report.
func (r *chaosReport) problems() []string {
	out := append([]string(nil), r.Chaos.Problems...)
	if r.Baseline != nil {
		for _, p := range r.Baseline.Problems {
			out = append(out, "baseline: "+p)
		}
		if r.WallRatio > 2 {
			out = append(out, fmt.Sprintf("wall time %.1f× the fault-free run (want ≤ 2×)", r.WallRatio))
		}
	}
	return out
}

func runChaos(ctx context.Context, o chaosOptions) (*chaosReport, error) {
	rep := &chaosReport{Options: o}
	if o.Baseline {
		run, err := chaosSweep(ctx, o, false)
		if err != nil {
			return nil, fmt.Errorf("fault-free run: %w", err)
		}
		rep.Baseline = run
	}
	// The restart lands a third of the way through, while points run.
	if rep.Baseline != nil && rep.Baseline.Wall > 0 {
		o.RestartAfter = rep.Baseline.Wall / 3
	}
	run, err := chaosSweep(ctx, o, true)
	if err != nil {
		return nil, fmt.Errorf("chaos run: %w", err)
	}
	rep.Chaos = *run
	if rep.Baseline != nil && rep.Baseline.Wall > 0 {
		rep.WallRatio = float64(run.Wall) / float64(rep.Baseline.Wall)
	}
	return rep, nil
}

// chaosFleet is the node workers of a run, as processes it can kill.
type chaosFleet struct {
	mu      sync.Mutex
	self    string
	env     []string
	logDir  string
	procs   map[string]*chaosProc // node → its running worker
	pools   map[string]string     // node → pool
	stopped bool
}

// chaosProc is one worker process; done closes when it has exited.
type chaosProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (f *chaosFleet) start(node string) error {
	logFile, err := os.OpenFile(filepath.Join(f.logDir, node+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(f.self, "worker", "--pool", f.pools[node], "--node", node, "--log-level", "warn")
	cmd.Env, cmd.Stdout, cmd.Stderr = f.env, logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	p := &chaosProc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	f.procs[node] = p
	return nil
}

// kill SIGKILLs a node's worker; its engines die with it (Pdeathsig).
func (f *chaosFleet) kill(node string) {
	if p := f.procs[node]; p != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

func (f *chaosFleet) stopAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	for _, p := range f.procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	// Workers wait up to 30 s for teardowns; then they are killed.
	deadline := time.After(45 * time.Second)
	for _, p := range f.procs {
		select {
		case <-p.done:
		case <-deadline:
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
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

// chaosSpec writes the run's spec, runners and settings: entries of five
// concurrencies (1–16) on two simulated pools.
func chaosSpec(dir string, points int, faults bool, faultLog string) (spec, runners, settings string, err error) {
	var b strings.Builder
	for i := range (points + 4) / 5 {
		runner := "sim-h100"
		if i%3 == 2 {
			runner = "sim-mi355x"
		}
		fmt.Fprintf(&b, `chaos-%03d:
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
	spec = filepath.Join(dir, "sweep.yaml")
	runners = filepath.Join(dir, "runners.yaml")
	settings = filepath.Join(dir, "settings.yaml")
	engineArgs := ""
	if faults {
		engineArgs = fmt.Sprintf("engines:\n  sim:\n    args: [--fault-plan, %q, --fault-record, %q]\n", chaosEngineFaults, faultLog)
	}
	files := map[string]string{
		spec: b.String(),
		runners: "labels:\n  sim-h100: [c-h100-0, c-h100-1, c-h100-2]\n  sim-mi355x: [c-mi355x-0, c-mi355x-1]\n" +
			"hardware:\n  sim-h100: { gpus-per-node: 8, available-cpu-dram-mib: 2_000_000 }\n",
		settings: "workload: { random-range-ratio: 0.8, range-mode: inferencemax, prompts-per-conc: 4, warmups-per-conc: 0, request-rate: inf, seed: 1 }\n" +
			"retry: { point-attempts: 3, start-timeout: 1m, load-timeout: 5m }\n" + engineArgs,
	}
	for path, body := range files {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return "", "", "", err
		}
	}
	return spec, runners, settings, nil
}

// chaosSweep runs one sweep on a fresh stack, with faults or without, and
// checks the lake afterwards.
func chaosSweep(ctx context.Context, o chaosOptions, faults bool) (*chaosRun, error) {
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "chaos: "+format+"\n", args...)
		}
	}
	dir, err := os.MkdirTemp("", "infersweep-chaos-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	faultLog := filepath.Join(dir, "engine-faults.log")
	spec, runnersFile, settingsFile, err := chaosSpec(dir, o.Points, faults, faultLog)
	if err != nil {
		return nil, err
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	stackOpts := devstack.Options{StateDir: filepath.Join(dir, "state"), TemporalPort: ports[0], UIPort: ports[1], S3Port: ports[2], Logger: o.Logger}
	var s3Faults *s3store.Faults
	if faults {
		s3Faults = &s3store.Faults{Rate: chaosS3FaultRate, Seed: o.Seed}
		stackOpts.S3Faults = s3Faults
	}
	embeddedStackGC()
	stack, err := devstack.Start(ctx, stackOpts)
	if err != nil {
		return nil, err
	}
	stopStack := func() { _ = stack.Stop(context.WithoutCancel(ctx)) }
	defer func() { stopStack() }()
	control, err := startDevFleet(ctx, stack, emptyRunners(dir), o.Logger)
	if err != nil {
		return nil, err
	}
	defer control.stop()

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// The marker travels from the workers to their engines' environment,
	// where the leak check finds it.
	env := append(append(os.Environ(), stack.Env()...), chaosMarker+"="+dir)
	fleet := &chaosFleet{self: self, env: env, logDir: dir, procs: map[string]*chaosProc{}, pools: map[string]string{}}
	for _, n := range []string{"c-h100-0", "c-h100-1", "c-h100-2"} {
		fleet.pools[n] = "sim-h100"
	}
	for _, n := range []string{"c-mi355x-0", "c-mi355x-1"} {
		fleet.pools[n] = "sim-mi355x"
	}
	nodes := make([]string, 0, len(fleet.pools))
	for n := range fleet.pools {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	fleet.mu.Lock()
	for _, n := range nodes {
		if err := fleet.start(n); err != nil {
			fleet.mu.Unlock()
			return nil, err
		}
	}
	fleet.mu.Unlock()
	defer fleet.stopAll()

	run := &chaosRun{Faults: map[string]int{}, ByStatus: map[string]int{}, ByErrorClass: map[string]int{}, Reasons: map[string]int{}}
	sweepID := fmt.Sprintf("chaos-%d", o.Seed)
	if !faults {
		sweepID += "-baseline"
	}
	date := time.Now().Format(time.DateOnly)
	started := time.Now()
	wf, err := control.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(sweepID), TaskQueue: workflows.ControlQueue},
		workflows.SweepWorkflow, workflows.SweepInput{SweepID: sweepID, Date: date, Masters: []string{spec}, Runners: runnersFile, Settings: settingsFile, TimeScale: o.TimeScale})
	if err != nil {
		return nil, err
	}
	say("%s started (%d points planned, faults %t)", sweepID, o.Points, faults)

	done := make(chan error, 1)
	go func() { done <- wf.Get(ctx, nil) }()
	if faults {
		rng := rand.New(rand.NewPCG(o.Seed, 0xc4a05))
		restartAfter := o.RestartAfter
		if restartAfter == 0 {
			restartAfter = time.Duration(float64(o.KillEvery) * 2.5)
		}
		restartAt := time.After(restartAfter)
		restarted := false
		// Like the engines' faults, every kind happens at least once: the
		// first kill comes by half the fault-free run at the latest.
		firstKillBy := time.Now().Add(restartAfter * 3 / 2)
		for waiting := true; waiting; {
			// Exponential gaps around the mean: kills at random intervals.
			gap := time.Duration(rng.ExpFloat64() * float64(o.KillEvery))
			if run.Faults["worker-sigkill"] == 0 {
				gap = min(gap, max(time.Until(firstKillBy), 0))
			}
			select {
			case err = <-done:
				waiting = false
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-restartAt:
				if restarted {
					continue
				}
				restarted = true
				say("stopping Temporal and the S3 store")
				stopStack()
				time.Sleep(time.Second)
				if stack, err = devstack.Start(ctx, stackOpts); err != nil {
					return nil, fmt.Errorf("restart the stack: %w", err)
				}
				run.Faults["temporal-restart"]++
				say("Temporal and the S3 store are back")
			case <-time.After(gap):
				node := nodes[rng.IntN(len(nodes))]
				fleet.mu.Lock()
				if !fleet.stopped {
					fleet.kill(node)
					run.Faults["worker-sigkill"]++
					say("SIGKILL %s's worker", node)
					if err := fleet.start(node); err != nil {
						fleet.mu.Unlock()
						return nil, err
					}
				}
				fleet.mu.Unlock()
			}
		}
	} else {
		err = <-done
	}
	run.Wall = time.Since(started)
	if err != nil {
		run.Problems = append(run.Problems, "the sweep workflow failed: "+err.Error())
	}
	say("%s ended in %s", sweepID, run.Wall.Round(time.Second))
	fleet.stopAll()
	checkChaosLake(ctx, control.lake, sweepID, date, run)
	run.EnginesLeaked = leakedEngines(dir)
	run.Panics = panics(dir, nodes)
	if faults {
		countFaults(faultLog, s3Faults, run)
	}
	if run.EnginesLeaked > 0 {
		run.Problems = append(run.Problems, fmt.Sprintf("%d engine processes outlived the run", run.EnginesLeaked))
	}
	if run.Panics > 0 {
		run.Problems = append(run.Problems, fmt.Sprintf("%d worker panics", run.Panics))
	}
	if faults {
		for _, kind := range faultKinds {
			if run.Faults[kind] == 0 {
				run.Problems = append(run.Problems, "no "+kind+" fault was injected")
			}
		}
	}
	return run, nil
}

// emptyRunners is a runners file with no pools: the in-process fleet is
// the control worker only.
func emptyRunners(dir string) string {
	path := filepath.Join(dir, "no-pools.yaml")
	_ = os.WriteFile(path, []byte("labels: {}\n"), 0o644)
	return path
}

// checkChaosLake compares the plan with the manifest and the points
// objects: once each, nothing missing, nothing extra.
func checkChaosLake(ctx context.Context, lake *results.Lake, sweepID, date string, run *chaosRun) {
	problem := func(format string, args ...any) { run.Problems = append(run.Problems, fmt.Sprintf(format, args...)) }
	body, err := lake.Store().Get(ctx, results.PlanKey(date, sweepID))
	if err != nil {
		problem("no plan: %v", err)
		return
	}
	var plan struct {
		Points []struct {
			ID string `json:"id"`
		} `json:"points"`
	}
	if err := json.Unmarshal(body, &plan); err != nil {
		problem("plan: %v", err)
		return
	}
	run.Planned = len(plan.Points)
	m, rows, err := lake.SweepPoints(ctx, sweepID)
	if err != nil {
		problem("no committed sweep: %v", err)
		run.Lost = run.Planned
		return
	}
	inManifest := map[string]int{}
	for _, p := range m.Points {
		inManifest[p.PointID]++
	}
	inRows := map[string]int{}
	for _, r := range rows {
		inRows[r.PointID]++
		run.ByStatus[r.Status]++
		if r.ErrorClass != "" {
			run.ByErrorClass[r.ErrorClass]++
			msg, _, _ := strings.Cut(r.Error, "\n")
			if len(msg) > 90 {
				msg = msg[:90] + "…"
			}
			run.Reasons[r.ErrorClass+": "+msg]++
		}
		run.Retries += max(int(r.Attempts)-1, 0)
	}
	objects, err := lake.Store().List(ctx, "v1/points/dt="+date+"/")
	if err != nil {
		problem("list points: %v", err)
	}
	inObjects := map[string]int{}
	for _, o := range objects {
		if strings.Contains(o.Key, "/sweep="+sweepID+"/") {
			inObjects[strings.TrimSuffix(filepath.Base(o.Key), ".parquet")]++
		}
	}
	for _, p := range plan.Points {
		switch {
		case inManifest[p.ID] == 0 || inRows[p.ID] == 0:
			run.Lost++
		case inManifest[p.ID] > 1 || inRows[p.ID] > 1:
			run.Duplicated++
		default:
			run.Landed++
		}
		delete(inObjects, p.ID)
	}
	if run.Lost > 0 {
		problem("%d planned points are not in the lake", run.Lost)
	}
	if run.Duplicated > 0 {
		problem("%d points are in the lake more than once", run.Duplicated)
	}
	if len(inObjects) > 0 {
		problem("%d points objects the plan does not have", len(inObjects))
	}
	if len(m.Points) != run.Planned {
		problem("the manifest lists %d points, the plan %d", len(m.Points), run.Planned)
	}
	run.Quarantined = m.Quarantined
}

// chaosMarker names a run's directory in its workers' and engines'
// environment.
const chaosMarker = "INFERSWEEP_CHAOS_RUN"

// leakedEngines counts live engine processes launched for this run: the
// local backend starts them as `<self> engine sim …` with their worker's
// environment, which carries the run's marker.
func leakedEngines(dir string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	leaked := 0
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(cmdline, []byte("engine\x00sim\x00")) {
			continue
		}
		env, err := os.ReadFile(filepath.Join(filepath.Dir(p), "environ"))
		if err == nil && bytes.Contains(env, []byte(chaosMarker+"="+dir+"\x00")) {
			leaked++
		}
	}
	return leaked
}

// panics counts Go panics in the workers' logs.
func panics(dir string, nodes []string) int {
	n := 0
	for _, node := range nodes {
		data, err := os.ReadFile(filepath.Join(dir, node+".log"))
		if err == nil {
			n += bytes.Count(data, []byte("panic: "))
		}
	}
	return n
}

// countFaults reads what the engines drew and what the store injected.
func countFaults(faultLog string, s3 *s3store.Faults, run *chaosRun) {
	if f, err := os.Open(faultLog); err == nil {
		scan := bufio.NewScanner(f)
		for scan.Scan() {
			if kind := scan.Text(); kind != "none" {
				name := map[string]string{"startup": "engine-startup", "crash": "engine-crash", "stall": "engine-stall", "error": "engine-http-500"}[kind]
				run.Faults[name]++
			}
		}
		f.Close()
	}
	refused, lost := s3.Injected()
	run.Faults["s3-refused"], run.Faults["s3-lost-reply"] = int(refused), int(lost)
}

func printChaos(out io.Writer, rep *chaosReport) {
	row := func(name string, chaos, baseline any) {
		if rep.Baseline == nil {
			fmt.Fprintf(out, "  %-28s %v\n", name, chaos)
			return
		}
		fmt.Fprintf(out, "  %-28s %-14v %v\n", name, chaos, baseline)
	}
	c, b := rep.Chaos, rep.Baseline
	if b == nil {
		b = &chaosRun{}
		fmt.Fprintf(out, "chaos run (seed %d)\n", rep.Options.Seed)
	} else {
		fmt.Fprintf(out, "chaos run (seed %d)           %-14s %s\n", rep.Options.Seed, "with faults", "fault-free")
	}
	row("points planned", c.Planned, b.Planned)
	row("landed once", c.Landed, b.Landed)
	row("duplicated", c.Duplicated, b.Duplicated)
	row("lost", c.Lost, b.Lost)
	for _, status := range []string{"succeeded", "failed", "skipped"} {
		row("  "+status, c.ByStatus[status], b.ByStatus[status])
	}
	for _, class := range sortedKeys(c.ByErrorClass) {
		row("  error class "+class, c.ByErrorClass[class], b.ByErrorClass[class])
	}
	reasons := sortedKeys(c.Reasons)
	sort.SliceStable(reasons, func(i, j int) bool { return c.Reasons[reasons[i]] > c.Reasons[reasons[j]] })
	for _, r := range reasons[:min(len(reasons), 5)] {
		fmt.Fprintf(out, "    %4d × %s\n", c.Reasons[r], r)
	}
	row("engines leaked", c.EnginesLeaked, b.EnginesLeaked)
	row("worker panics", c.Panics, b.Panics)
	row("point retries", c.Retries, b.Retries)
	for _, kind := range faultKinds {
		row("faults: "+kind, c.Faults[kind], b.Faults[kind])
	}
	quarantined := []string{}
	for pool, nodes := range c.Quarantined {
		quarantined = append(quarantined, pool+": "+strings.Join(nodes, ","))
	}
	sort.Strings(quarantined)
	row("quarantined nodes", strings.Join(append(quarantined, "")[:max(len(quarantined), 1)], "; "), "")
	row("wall time", c.Wall.Round(100*time.Millisecond), b.Wall.Round(100*time.Millisecond))
	if rep.WallRatio > 0 {
		fmt.Fprintf(out, "  %-28s %.2f× (want ≤ 2×)\n", "wall time vs fault-free", rep.WallRatio)
	}
	if problems := rep.problems(); len(problems) == 0 {
		fmt.Fprintln(out, "every promise held: 0 lost, 0 duplicated, 0 leaked, 0 panics, every fault kind injected")
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
