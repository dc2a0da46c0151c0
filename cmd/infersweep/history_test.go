package main

import (
	"context"
	"flag"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	historypb "go.temporal.io/api/history/v1"

	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workflows"
)

var recordHistories = flag.Bool("record-histories", false, "run sweeps on the embedded stack and rewrite workflows/testdata/*.json")

// TestRecordHistories records real workflow histories for the replay tests
// in workflows/: a successful pool, and a pool whose engine fails every
// request so points are retried, nodes quarantined and points failed.
func TestRecordHistories(t *testing.T) {
	if !*recordHistories {
		t.Skip("run with -record-histories to re-record workflows/testdata")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack := devstacktest.Start(ctx, t)
	runners, err := sweep.ReadRunners("../../examples/runners.yaml")
	require.NoError(t, err)
	multinode, err := sweep.ReadRunners("../../examples/disagg-runners.yaml")
	require.NoError(t, err)
	maps.Copy(runners.Labels, multinode.Labels)
	fleet, err := stack.StartWorkers(ctx, runners, workerSetup(nil, slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	defer fleet.Stop()

	settings := filepath.Join(t.TempDir(), "settings.yaml")
	require.NoError(t, os.WriteFile(settings, []byte("workload: { prompts-per-conc: 2, warmups-per-conc: 0 }\nengines:\n  sim: { args: [--error-rate, \"1\"] }\n"), 0o644))
	for _, rec := range []struct {
		name, settings  string
		maxPointsPerRun int
		cancel          bool
		multinode       bool
	}{{"success", "../../examples/settings.yaml", 0, false, false}, {"node-faults", settings, 0, false, false}, {"continue-as-new", "../../examples/settings.yaml", 2, false, false},
		{"cancel", "../../examples/settings.yaml", 0, true, false}, {"multinode", "../../examples/settings.yaml", 0, false, true}} {
		id := "replay-" + rec.name
		in := workflows.SweepInput{SweepID: id, Date: "2026-11-27", Masters: []string{"../../examples/sweep.yaml"},
			Runners: "../../examples/runners.yaml", Settings: rec.settings, TimeScale: 20, MaxPointsPerRun: rec.maxPointsPerRun,
			Filters: sweep.Filters{Runners: []string{"sim-mi355x"}, MaxConc: 16}}
		pool := "sim-mi355x"
		if rec.multinode {
			pool = "sim-h100-multinode"
			in.Masters, in.Runners, in.Filters = []string{"../../examples/disagg.yaml"}, "../../examples/disagg-runners.yaml", sweep.Filters{MaxConc: 16}
		}
		run, err := fleet.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(id), TaskQueue: workflows.ControlQueue},
			workflows.SweepWorkflow, in)
		require.NoError(t, err)
		if rec.cancel {
			// Cancel while a point's load is running.
			require.Eventually(t, func() bool {
				resp, err := fleet.Client.QueryWorkflow(ctx, workflows.PoolWorkflowID(run.GetID(), "sim-mi355x"), "", workflows.ProgressQuery)
				var p workflows.HardwareProgress
				return err == nil && resp.Get(&p) == nil && len(p.Running) > 0
			}, time.Minute, 20*time.Millisecond)
			time.Sleep(300 * time.Millisecond)
			require.NoError(t, fleet.Client.CancelWorkflow(ctx, run.GetID(), ""))
			require.Error(t, run.Get(ctx, nil))
			// The pool finishes its teardown after the parent is gone.
			require.Eventually(t, func() bool {
				d, err := fleet.Client.DescribeWorkflowExecution(ctx, workflows.PoolWorkflowID(run.GetID(), "sim-mi355x"), "")
				return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
			}, time.Minute, 50*time.Millisecond)
		} else {
			require.NoError(t, run.Get(ctx, nil))
		}
		// The hardware history is the pool's last run: after continue-as-new,
		// one that starts from a carry.
		for suffix, wfID := range map[string]string{"sweep": run.GetID(), "hardware": workflows.PoolWorkflowID(run.GetID(), pool)} {
			history := &historypb.History{}
			iter := fleet.Client.GetWorkflowHistory(ctx, wfID, "", false, 0)
			for iter.HasNext() {
				event, err := iter.Next()
				require.NoError(t, err)
				history.Events = append(history.Events, event)
			}
			data, err := protojson.MarshalOptions{Indent: " "}.Marshal(history)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join("../../workflows/testdata", suffix+"-"+rec.name+".json"), data, 0o644))
		}
	}
}
