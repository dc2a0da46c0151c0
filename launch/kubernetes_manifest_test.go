package launch

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

// examplePoints plans examples/disagg.yaml as `sweep plan` does: its
// first disaggregated (2 prefill + 1 decode, a node each) and first
// aggregated (2 workers of 2 nodes) point.
func examplePoints(t *testing.T) (disagg, agg sweep.Point) {
	t.Helper()
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{"../examples/disagg.yaml"}, Runners: "../examples/disagg-runners.yaml",
		Launches: recipes.Attach}, sweep.Filters{MultiNode: true})
	require.NoError(t, err)
	for _, p := range plan.Points {
		switch {
		case p.Disagg && disagg.ID == "":
			disagg = p
		case !p.Disagg && agg.ID == "":
			agg = p
		}
	}
	require.NotEmpty(t, disagg.ID)
	require.NotEmpty(t, agg.ID)
	return disagg, agg
}

func kubeSpec(p sweep.Point) Spec {
	return Spec{Point: p, Name: "infersweep-n0-sweep1/" + p.ID + "/1-deployment", Node: "sim-mn-0", Lease: "sweep1/" + p.ID + "/1", Port: 8000, TimeScale: 10}
}

// manifestObject is what a test reads back of an applied object.
type manifestObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
}

// parseManifest reads every document of a manifest back, as kubectl does.
func parseManifest(t *testing.T, manifest string) []manifestObject {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	var objects []manifestObject
	for {
		var o manifestObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objects
		}
		require.NoError(t, err)
		objects = append(objects, o)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "k8s", name)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

// TestKubernetesBackendManifests: every manifest is valid YAML of the objects a
// user would find with kubectl, each labelled with the hashed lease (its
// full value annotated) and the node, and equal to its golden file.
func TestKubernetesBackendManifests(t *testing.T) {
	disagg, agg := examplePoints(t)
	single := point("sim")
	single.ID = "p1"
	single.GPUs = 8
	tests := []struct {
		golden string
		spec   Spec
		lws    bool
		want   []string // kind/name, in order
	}{
		{"single-sim.yaml", kubeSpec(single), false, []string{"Pod/infersweep-n0-sweep1-p1-1-054c7b9015", "Service/infersweep-n0-sweep1-p1-1-054c7b9015"}},
		{"disagg-lws.yaml", kubeSpec(disagg), true, []string{
			"LeaderWorkerSet/" + depBase(disagg) + "-prefill", "Service/" + depBase(disagg) + "-prefill-0", "Service/" + depBase(disagg) + "-prefill-1",
			"LeaderWorkerSet/" + depBase(disagg) + "-decode", "Service/" + depBase(disagg) + "-decode-0",
			"Deployment/" + depBase(disagg) + "-frontend", "Service/" + depBase(disagg) + "-frontend"}},
		{"disagg-sts.yaml", kubeSpec(disagg), false, append(append(append(stsWorker(depBase(disagg)+"-prefill-0"), stsWorker(depBase(disagg)+"-prefill-1")...),
			stsWorker(depBase(disagg)+"-decode-0")...), "Deployment/"+depBase(disagg)+"-frontend", "Service/"+depBase(disagg)+"-frontend")},
		{"agg-lws.yaml", kubeSpec(agg), true, []string{
			"LeaderWorkerSet/" + depBase(agg) + "-aggregated", "Service/" + depBase(agg) + "-aggregated-0", "Service/" + depBase(agg) + "-aggregated-1",
			"Deployment/" + depBase(agg) + "-frontend", "Service/" + depBase(agg) + "-frontend"}},
		{"agg-sts.yaml", kubeSpec(agg), false, append(append(stsWorker(depBase(agg)+"-aggregated-0"), stsWorker(depBase(agg)+"-aggregated-1")...),
			"Deployment/"+depBase(agg)+"-frontend", "Service/"+depBase(agg)+"-frontend")},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			k := &Kubernetes{Namespace: "bench", SimImage: "registry.local/infersweep/sim:dev"}
			k.SetLWS(tt.lws)
			manifest, err := k.Manifest(tt.spec)
			if tt.spec.Point.Multinode {
				manifest, err = k.DeploymentManifest(context.Background(), tt.spec)
			}
			require.NoError(t, err)
			golden(t, tt.golden, manifest)
			var got []string
			for _, o := range parseManifest(t, manifest) {
				got = append(got, o.Kind+"/"+o.Metadata.Name)
				require.LessOrEqual(t, len(o.Metadata.Name), 63)
				require.Equal(t, labelValue(tt.spec.Lease), o.Metadata.Labels[LabelLease], o.Metadata.Name)
				require.Equal(t, tt.spec.Lease, o.Metadata.Annotations[LabelLease], "the full lease is kept")
				require.Equal(t, "sim-mn-0", o.Metadata.Labels[LabelNode])
				require.Equal(t, "true", o.Metadata.Labels[LabelManaged])
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// depBase is the name a deployment's objects share, from kubeSpec.
func depBase(p sweep.Point) string { return dnsName(kubeSpec(p).Name, kubeNameLimit) }

// stsWorker are one StatefulSet worker's objects.
func stsWorker(name string) []string {
	return []string{"Service/" + name + "-ranks", "StatefulSet/" + name, "Service/" + name}
}

// withRanks is p whose workers also read the values only their pod
// knows, as multinode engines' recipes do.
func withRanks(p sweep.Point) sweep.Point {
	l := *p.Launch
	l.Roles = slices.Clone(l.Roles)
	for i := range l.Roles {
		if l.Roles[i].Role == sweep.RoleAggregated {
			l.Roles[i].Launch.Args = append(slices.Clone(l.Roles[i].Launch.Args),
				"--dist-init-addr=${MASTER_ADDR}:29500", "--node-rank=${NODE_RANK}", "--nnodes=${NNODES}", "--worker=${WORKER}")
		}
	}
	p.Launch = &l
	return p
}

// withControlPlane is p with a control plane (etcd on 2379) that its
// workers and frontend find at ${CONTROL_ADDR}, as Dynamo's recipes do.
func withControlPlane(p sweep.Point) sweep.Point {
	l := *p.Launch
	l.Roles = []sweep.RoleLaunch{{Role: sweep.RoleControlPlane, Launch: sweep.Launch{Image: "etcd:3", ReadyPath: "/health", ReadyPort: 2379,
		Args: []string{"etcd", "--advertise-client-urls", "http://${CONTROL_ADDR}:2379"}}}}
	for _, r := range p.Launch.Roles {
		r.Launch.Env = map[string]string{"ETCD_ENDPOINTS": "http://${CONTROL_ADDR}:2379"}
		l.Roles = append(l.Roles, r)
	}
	p.Launch = &l
	return p
}

// TestKubernetesBackendDeploymentWiring: the frontend routes to the workers'
// Services, ranks find their master, and every role its control plane,
// in both modes.
func TestKubernetesBackendDeploymentWiring(t *testing.T) {
	disagg, agg := examplePoints(t)
	base := depBase(disagg)
	tests := []struct {
		name  string
		point sweep.Point
		lws   bool
		want  []string
	}{
		{"disagg routes to each worker's Service", disagg, false, []string{
			"- --prefill\n            - http://" + base + "-prefill-0.bench.svc:8000,http://" + base + "-prefill-1.bench.svc:8000\n",
			"- --decode\n            - http://" + base + "-decode-0.bench.svc:8000\n"}},
		{"LWS ranks come from LWS", withRanks(agg), true, []string{
			"- --dist-init-addr=$(LWS_LEADER_ADDRESS):29500\n              - --node-rank=$(LWS_WORKER_INDEX)\n              - --nnodes=2\n              - --worker=$(INFERSWEEP_WORKER)\n",
			"fieldPath: metadata.labels['leaderworkerset.sigs.k8s.io/group-index']", "size: 2", "replicas: 2",
			"- --workers\n            - http://" + depBase(agg) + "-aggregated-0.bench.svc:8000,http://" + depBase(agg) + "-aggregated-1.bench.svc:8000\n"}},
		{"StatefulSet ranks come from the pod index", withRanks(agg), false, []string{
			"- --dist-init-addr=" + depBase(agg) + "-aggregated-1-0." + depBase(agg) + "-aggregated-1-ranks.bench.svc:29500\n            - --node-rank=$(INFERSWEEP_NODE_RANK)\n            - --nnodes=2\n            - --worker=1\n",
			"fieldPath: metadata.labels['apps.kubernetes.io/pod-index']", "podManagementPolicy: Parallel", "clusterIP: None",
			"statefulset.kubernetes.io/pod-name: " + depBase(agg) + "-aggregated-1-0"}},
		{"the control plane is a Deployment behind a headless Service", withControlPlane(agg), true, []string{
			"kind: Deployment\nmetadata:\n  name: " + depBase(agg) + "-control-plane\n",
			"clusterIP: None\n  publishNotReadyAddresses: true\n  selector:\n    infersweep.app: " + depBase(agg) + "-control-plane\n",
			"- --advertise-client-urls\n            - http://" + depBase(agg) + "-control-plane.bench.svc:2379\n",
			"value: http://" + depBase(agg) + "-control-plane.bench.svc:2379\n",
			"path: /health\n              port: 2379\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &Kubernetes{Namespace: "bench"}
			k.SetLWS(tt.lws)
			manifest, err := k.DeploymentManifest(context.Background(), kubeSpec(tt.point))
			require.NoError(t, err)
			for _, w := range tt.want {
				require.Contains(t, manifest, w)
			}
		})
	}
}

func TestKubernetesBackendNamesFitTheirLimits(t *testing.T) {
	tests := []struct{ in, label, name string }{
		{"sweep1/p1/1", "sweep1-p1-1-a4eab41623", "sweep1-p1-1-a4eab41623"},
		{"sweep1-p1-1", "sweep1-p1-1", "sweep1-p1-1"},
		{"n0", "n0", "n0"},
		{strings.Repeat("x", 80), strings.Repeat("x", 52) + "-d929cdeea7", strings.Repeat("x", 25) + "-d929cdeea7"},
		{"Sweep_One.P1", "Sweep_One.P1", "sweep-one-p1-74ccdbc6b8"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.label, labelValue(tt.in), tt.in)
		require.Equal(t, tt.name, dnsName(tt.in, kubeNameLimit), tt.in)
	}
}
