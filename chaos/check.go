package chaos

import (
	"bufio"
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/devstack/s3store"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// check counts what landed, what leaked and which faults were injected,
// and notes every broken promise.
func (h *harness) check(ctx context.Context, sweepID, date string) {
	run := h.run
	checkLake(ctx, h.control.Lake, sweepID, date, run)
	run.EnginesLeaked = leakedEngines(h.dir)
	run.Panics = panics(h.dir, h.fleet.nodes())
	if run.EnginesLeaked > 0 {
		run.problem("%d engine processes outlived the run", run.EnginesLeaked)
	}
	if run.Panics > 0 {
		run.problem("%d worker panics", run.Panics)
	}
	if !h.faults {
		return
	}
	checkAttribution(run)
	countFaults(h.faultLog(), h.s3Faults, run)
	for _, kind := range FaultKinds {
		if run.Faults[kind] == 0 {
			run.problem("no %s fault was injected", kind)
		}
	}
}

// checkLake compares the plan with the manifest and the points objects:
// once each, nothing missing, nothing extra.
func checkLake(ctx context.Context, lake *results.Lake, sweepID, date string, run *Run) {
	body, err := lake.Store().Get(ctx, results.PlanKey(date, sweepID))
	if err != nil {
		run.problem("no plan: %v", err)
		return
	}
	plan, err := sweep.ReadStoredPlan(sweepID, body)
	if err != nil {
		run.problem("%v", err)
		return
	}
	run.Planned = len(plan.Points)
	m, rows, err := lake.SweepPoints(ctx, sweepID)
	if err != nil {
		run.problem("no committed sweep: %v", err)
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
		if r.Entry == brokenEntry {
			run.BrokenEntry[strings.TrimSpace(r.Status+" "+r.ErrorClass)]++
		}
	}
	ids, err := lake.TablePointIDs(ctx, results.TablePoints, date, sweepID)
	if err != nil {
		run.problem("%v", err)
	}
	inObjects := map[string]int{}
	for _, id := range ids {
		inObjects[id]++
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
		run.problem("%d planned points are not in the lake", run.Lost)
	}
	if run.Duplicated > 0 {
		run.problem("%d points are in the lake more than once", run.Duplicated)
	}
	if len(inObjects) > 0 {
		run.problem("%d points objects the plan does not have", len(inObjects))
	}
	if len(m.Points) != run.Planned {
		run.problem("the manifest lists %d points, the plan %d", len(m.Points), run.Planned)
	}
	run.Quarantined, run.NodeFaults = m.Quarantined, m.NodeFaults
	for pool, nodes := range pools {
		if len(m.Quarantined[pool]) >= len(nodes) {
			run.PoolsDown = append(run.PoolsDown, pool)
		}
	}
	slices.Sort(run.PoolsDown)
}

// checkAttribution: the broken entry's points fail as its own (the
// engine's, or skipped behind its failed canary); no charge against a
// node stands for its failures or for a worker's restart. A pool may
// still lose every node to faults charged to them (engines dying on them
// over different points): the report says so, with the evidence.
func checkAttribution(run *Run) {
	for outcome, n := range run.BrokenEntry {
		switch outcome {
		case "failed EngineFailure", "skipped ConfigError", "failed ConfigError":
		default:
			run.problem("%d points of the broken entry %s ended %q, not as the engine's failure", n, brokenEntry, outcome)
		}
	}
	if len(run.BrokenEntry) == 0 {
		run.problem("no point of the broken entry %s is in the lake", brokenEntry)
	}
	for _, pool := range slices.Sorted(maps.Keys(run.NodeFaults)) {
		for _, node := range slices.Sorted(maps.Keys(run.NodeFaults[pool])) {
			for _, line := range run.NodeFaults[pool][node] {
				withdrawn := strings.Contains(line, "(withdrawn:")
				switch {
				case strings.Contains(line, "("+brokenEntry+", conc ") && !withdrawn:
					run.problem("%s is charged with the broken entry's failure: %s", node, line)
				case strings.Contains(line, "restarted") && !withdrawn:
					run.problem("%s is charged with its worker's restart: %s", node, line)
				}
			}
		}
	}
}

// leakedEngines counts live engine processes launched for this run: the
// local backend starts them as `<infersweep> engine sim …` with their
// worker's environment, which carries the run's marker.
func leakedEngines(dir string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	leaked := 0
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(cmdline, []byte("engine\x00sim\x00")) {
			continue
		}
		env, err := os.ReadFile(filepath.Join(filepath.Dir(p), "environ"))
		if err == nil && bytes.Contains(env, []byte(marker+"="+dir+"\x00")) {
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

// engineFaultKinds name what the engines record drawing from their
// --fault-plan.
var engineFaultKinds = map[string]string{"startup": "engine-startup", "crash": "engine-crash", "stall": "engine-stall", "error": "engine-http-500"}

// countFaults reads what the engines drew and what the store injected.
func countFaults(faultLog string, s3 *s3store.Faults, run *Run) {
	if f, err := os.Open(faultLog); err == nil {
		scan := bufio.NewScanner(f)
		for scan.Scan() {
			if kind, ok := engineFaultKinds[scan.Text()]; ok {
				run.Faults[kind]++
			}
		}
		f.Close()
	}
	refused, lost := s3.Injected()
	run.Faults["s3-refused"], run.Faults["s3-lost-reply"] = int(refused), int(lost)
}
