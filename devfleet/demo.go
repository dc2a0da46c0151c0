package devfleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/workflows"
)

// StartDemoSweep starts the demo's sweep of Specs, on a Fleet started with
// Demo set. The workers run in this process and read the files by path.
func (f *Fleet) StartDemoSweep(ctx context.Context, sweepID, date string, timeScale float64) (client.WorkflowRun, error) {
	run, err := f.Workers.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.SweepWorkflowID(sweepID), TaskQueue: workflows.ControlQueue}, workflows.SweepWorkflow,
		workflows.SweepInput{SweepID: sweepID, Date: date, Masters: f.Specs, Runners: f.Runners, Settings: f.Settings, Filters: f.filters, TimeScale: timeScale, Simulate: f.simulate})
	if err != nil {
		return nil, fmt.Errorf("start sweep: %w", err)
	}
	return run, nil
}

// DemoReport builds a finished demo sweep's report as the settings'
// analysis section asks (the example settings put its targets where the
// demo's curves are, 60 and 100 tok/s/user), and keeps the report page
// the sweep stored beside the stack's state (the temp dir for an
// in-memory stack): it opens from file:// after the stack is gone. It
// returns the report and the page's path.
func (f *Fleet) DemoReport(ctx context.Context, sweepID string) (*analysis.Report, string, error) {
	settings := f.plan.Settings
	a := settings.Analysis
	rep, err := analysis.Build(ctx, f.Workers.Lake, sweepID, analysis.Options{Costs: settings.Hardware, Tier: analysis.Tier(a.Tier), Targets: a.Targets, BaselineNights: a.BaselineNights})
	if err != nil {
		return nil, "", err
	}
	dir := os.TempDir()
	if f.Stack.StateDir != "" {
		dir = filepath.Join(f.Stack.StateDir, "reports")
	}
	page, err := f.Workers.Lake.DownloadReport(ctx, rep.Manifest, dir)
	return rep, page, err
}
