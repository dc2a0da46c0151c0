package recipes

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/sweep"
)

// upstreamMultinode plans the multinode points of the InferenceX
// snapshot, both scenarios, with the shipped catalogue.
func upstreamMultinode(t *testing.T) *sweep.Plan {
	t.Helper()
	return planUpstream(t, Attach, sweep.Filters{MultiNode: true})
}

// planUpstream plans the snapshot's points that filters keep, launched by
// launches (Attach or AttachSimulated).
func planUpstream(t *testing.T, launches sweep.Launcher, filters sweep.Filters) *sweep.Plan {
	t.Helper()
	dir := "../sweep/testdata/upstream"
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{filepath.Join(dir, "nvidia-master.yaml"), filepath.Join(dir, "amd-master.yaml")},
		Runners: filepath.Join(dir, "runners.yaml"), Launches: launches}, filters)
	require.NoError(t, err)
	return plan
}

// TestEveryUpstreamMultinodePointHasRoleLaunches: every multinode point
// of the snapshot, fixed-seq-len and agentic, gets one launch per role of
// its deployment, in its order, then the frontend's (after Dynamo's
// control plane); the recipes per framework and scenario and the count
// of points are the snapshot's, so a framework upstream adds shows here.
func TestEveryUpstreamMultinodePointHasRoleLaunches(t *testing.T) {
	plan := upstreamMultinode(t)
	recipes := map[string]map[string]string{}
	points := map[string]int{}
	for _, p := range plan.Points {
		l := p.Launch
		require.NotNil(t, l, "point %s of %s", p.ID, p.Entry)
		roles := l.Roles
		if strings.HasPrefix(p.Framework, "dynamo-") {
			// Dynamo's etcd and NATS start first; workers and frontend find
			// them at the first node's address.
			require.Equal(t, sweep.RoleControlPlane, roles[0].Role, "point %s of %s", p.ID, p.Entry)
			require.Equal(t, "/health", roles[0].Launch.ReadyPath)
			require.Equal(t, 2379, roles[0].Launch.ReadyPort)
			roles = roles[1:]
			for _, r := range roles {
				require.Equal(t, "http://"+ControlAddrVar+":2379", r.Launch.Env["ETCD_ENDPOINTS"], "%s of %s", r.Role, p.Entry)
				require.Equal(t, "nats://"+ControlAddrVar+":4222", r.Launch.Env["NATS_SERVER"], "%s of %s", r.Role, p.Entry)
			}
		}
		require.Len(t, roles, len(p.Roles)+1, "point %s of %s", p.ID, p.Entry)
		for i, shape := range p.Roles {
			require.Equal(t, shape.Role, roles[i].Role)
			require.NotEmpty(t, roles[i].Launch.Args)
			image := p.Image
			if img := settings(p)["PREFILL_IMAGE"]; img != "" && shape.Role == sweep.RolePrefill {
				image = img // TileRT's prefill is stock vLLM
			}
			require.Equal(t, image, roles[i].Launch.Image)
		}
		require.Equal(t, sweep.RoleFrontend, l.Roles[len(l.Roles)-1].Role)
		require.Equal(t, RolesFingerprint(l.Roles), l.Fingerprint)
		require.Empty(t, l.Args, "a deployment's launch is its roles'")
		if recipes[p.Scenario] == nil {
			recipes[p.Scenario] = map[string]string{}
		}
		recipes[p.Scenario][p.Framework] = l.Recipe
		points[p.Scenario]++
	}
	require.Equal(t, map[string]map[string]string{
		sweep.ScenarioFixedSeqLen: {
			"atom-disagg": "atom-disagg-multinode", "dynamo-sglang": "dynamo-sglang-multinode", "dynamo-trt": "dynamo-trt-multinode",
			"dynamo-vllm": "dynamo-vllm-multinode", "llmd-vllm": "llmd-vllm-multinode", "sglang-disagg": "sglang-disagg-multinode",
			"tilert": "tilert-multinode",
		},
		sweep.ScenarioAgentic: {
			"dynamo-sglang": "dynamo-sglang-multinode", "dynamo-trt": "dynamo-trt-multinode", "dynamo-vllm": "dynamo-vllm-multinode",
			"sglang-disagg": "dsv4-fp4-mi355x-sglang-disagg-agentic", "vllm": "vllm-multinode",
		},
	}, recipes)
	require.Equal(t, map[string]int{sweep.ScenarioFixedSeqLen: 642, sweep.ScenarioAgentic: 264}, points)
}
