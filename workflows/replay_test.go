package workflows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays histories recorded from real sweeps
// on the embedded stack (in cmd/infersweep: go test -run TestRecordHistories
// -record-histories): a successful pool, node faults with retries and
// quarantine, a pool that continued as new, a sweep cancelled mid-point,
// and multinode deployments on gangs. A change that would break running sweeps — a
// reordered activity, a new timer — fails here.
func TestReplayRecordedHistories(t *testing.T) {
	histories := []struct{ file, workflowID string }{
		{"sweep-success.json", "sweep-replay-success"},
		{"hardware-success.json", "sweep-replay-success/hw-sim-mi355x"},
		{"sweep-node-faults.json", "sweep-replay-node-faults"},
		{"hardware-node-faults.json", "sweep-replay-node-faults/hw-sim-mi355x"},
		{"sweep-continue-as-new.json", "sweep-replay-continue-as-new"},
		{"hardware-continue-as-new.json", "sweep-replay-continue-as-new/hw-sim-mi355x"},
		{"sweep-cancel.json", "sweep-replay-cancel"},
		{"hardware-cancel.json", "sweep-replay-cancel/hw-sim-mi355x"},
		// Recorded before pools assigned nodes themselves: provisioning
		// went through the pool queue. It must keep replaying.
		{"legacy-hardware-success.json", "sweep-replay-success/hw-sim-mi355x"},
		// Recorded before sweeps analysed themselves after the manifest.
		{"legacy-sweep-success.json", "sweep-replay-success"},
		// Recorded after the analysis step, before the alert after it.
		{"legacy-sweep-before-alert.json", "sweep-replay-success"},
		// Recorded before a cancelled or failed sweep sent its notice.
		{"legacy-sweep-cancel-before-notice.json", "sweep-replay-cancel"},
		// Recorded when node-fault failures were written at once, before
		// retry-failed deferred them.
		{"legacy-hardware-node-faults.json", "sweep-replay-node-faults/hw-sim-mi355x"},
		// Recorded when every point took four activities: Provision,
		// StartEngine, RunLoad and a Teardown the point waited for.
		{"legacy-hardware-provision-success.json", "sweep-replay-success/hw-sim-mi355x"},
		{"legacy-hardware-provision-node-faults.json", "sweep-replay-node-faults/hw-sim-mi355x"},
		{"legacy-hardware-provision-cancel.json", "sweep-replay-cancel/hw-sim-mi355x"},
		// Recorded before engine attribution: every node fault was charged.
		{"legacy-hardware-before-attribution-success.json", "sweep-replay-success/hw-sim-mi355x"},
		{"legacy-hardware-before-attribution-node-faults.json", "sweep-replay-node-faults/hw-sim-mi355x"},
		{"legacy-hardware-before-attribution-continue-as-new.json", "sweep-replay-continue-as-new/hw-sim-mi355x"},
		{"legacy-hardware-before-attribution-cancel.json", "sweep-replay-cancel/hw-sim-mi355x"},
		// Recorded before pools paged their points and wrote manifest
		// parts: every point travelled through payloads.
		{"legacy-sweep-success-unpaged.json", "sweep-replay-success"},
		{"legacy-hardware-success-unpaged.json", "sweep-replay-success/hw-sim-mi355x"},
		{"legacy-sweep-node-faults-unpaged.json", "sweep-replay-node-faults"},
		{"legacy-hardware-node-faults-unpaged.json", "sweep-replay-node-faults/hw-sim-mi355x"},
		{"legacy-sweep-continue-as-new-unpaged.json", "sweep-replay-continue-as-new"},
		{"legacy-hardware-continue-as-new-unpaged.json", "sweep-replay-continue-as-new/hw-sim-mi355x"},
		{"legacy-sweep-cancel-unpaged.json", "sweep-replay-cancel"},
		{"legacy-hardware-cancel-unpaged.json", "sweep-replay-cancel/hw-sim-mi355x"},
		// Recorded when paged pools kept their nodes' faults to themselves.
		{"legacy-hardware-paged-before-node-faults.json", "sweep-replay-node-faults/hw-sim-mi355x"},
		// Recorded before gang leases: every ask for a node took the first
		// free one, and multinode points ran like any other.
		{"legacy-hardware-before-gangs-success.json", "sweep-replay-success/hw-sim-mi355x"},
		{"legacy-hardware-before-gangs-node-faults.json", "sweep-replay-node-faults/hw-sim-mi355x"},
		{"legacy-hardware-before-gangs-continue-as-new.json", "sweep-replay-continue-as-new/hw-sim-mi355x"},
		{"legacy-hardware-before-gangs-cancel.json", "sweep-replay-cancel/hw-sim-mi355x"},
		// A disaggregated and an aggregated deployment on gangs.
		{"sweep-multinode.json", "sweep-replay-multinode"},
		{"hardware-multinode.json", "sweep-replay-multinode/hw-sim-h100-multinode"},
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(SweepWorkflow)
	replayer.RegisterWorkflow(HardwareSweepWorkflow)
	for _, h := range histories {
		t.Run(h.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", h.file))
			require.NoError(t, err)
			defer f.Close()
			history, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			require.NoError(t, err)
			// Child ids derive from the parent's id: replay under the original.
			err = replayer.ReplayWorkflowHistoryWithOptions(nil, history, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: h.workflowID},
			})
			require.NoError(t, err)
		})
	}
}
