package launch

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kubeCLI is a fake kubectl: it records every command, an applied
// manifest as the kinds/names it holds, and walks the pods through the
// states given (the last one repeats).
type kubeCLI struct {
	fakeCLI
	mu      sync.Mutex
	lws     bool
	pods    []string // kubectl get pods -o json answers
	applied string
}

func newKubeCLI(lws bool, pods ...string) *kubeCLI {
	c := &kubeCLI{lws: lws, pods: pods}
	c.answer = c.respond
	return c
}

func (c *kubeCLI) RunInput(ctx context.Context, stdin, name string, args ...string) (string, error) {
	c.mu.Lock()
	c.applied = stdin
	c.mu.Unlock()
	return c.Run(ctx, name, args...)
}

func (c *kubeCLI) respond(cmd string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case strings.HasPrefix(cmd, "kubectl api-resources"):
		if c.lws {
			return "leaderworkersets.leaderworkerset.x-k8s.io\n", nil
		}
		return "", nil
	case strings.HasPrefix(cmd, "kubectl get pods"):
		state := c.pods[0]
		if len(c.pods) > 1 {
			c.pods = c.pods[1:]
		}
		return state, nil
	case strings.HasPrefix(cmd, "kubectl get service"):
		return "127.0.0.1", nil
	case strings.HasPrefix(cmd, "kubectl logs"):
		return "[pod/eng/engine] loading\n[pod/eng/engine] serving\n", nil
	}
	return "", nil
}

// fakePod is one pod as kubectl reports it.
type fakePod struct {
	name, role, node string
	ready            bool
	restarts         int
	waiting, msg     string // a container's waiting reason and message
	terminated       string // its last termination's reason
	unschedulable    string
}

func podsJSON(pods ...fakePod) string {
	var items []map[string]any
	for _, p := range pods {
		conds := []map[string]any{{"type": "Ready", "status": map[bool]string{true: "True", false: "False"}[p.ready]}}
		if p.unschedulable != "" {
			conds = append(conds, map[string]any{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": p.unschedulable})
		}
		status := map[string]any{"name": "engine", "restartCount": p.restarts, "state": map[string]any{}, "lastState": map[string]any{}}
		if p.waiting != "" {
			status["state"] = map[string]any{"waiting": map[string]any{"reason": p.waiting, "message": p.msg}}
		}
		if p.terminated != "" {
			status["lastState"] = map[string]any{"terminated": map[string]any{"reason": p.terminated, "exitCode": 137}}
		}
		items = append(items, map[string]any{
			"metadata": map[string]any{"name": p.name, "labels": map[string]string{labelRole: p.role}},
			"spec":     map[string]any{"nodeName": p.node},
			"status":   map[string]any{"phase": "Running", "conditions": conds, "containerStatuses": []any{status}},
		})
	}
	out, _ := json.Marshal(map[string]any{"items": items})
	return string(out)
}

func TestKubernetesBackendIssuesTheExpectedCommands(t *testing.T) {
	disagg, agg := examplePoints(t)
	single := point("sim")
	single.ID = "p1"
	const get = "kubectl get pods -n bench -l infersweep.lease="
	tests := []struct {
		name       string
		spec       Spec
		lws        bool
		pods       []fakePod // once ready
		wantKinds  string    // what stop deletes
		wantPods   int
		wantLeader string
	}{
		{"a single engine", kubeSpec(single), false, []fakePod{{name: "eng", role: "engine", node: "gpu-7"}},
			"pods,services,configmaps", 1, "gpu-7"},
		{"a disaggregated deployment on LWS", kubeSpec(disagg), true, []fakePod{
			{name: "p0", role: "prefill", node: "gpu-1"}, {name: "p1", role: "prefill", node: "gpu-2"}, {name: "d0", role: "decode", node: "gpu-3"},
			{name: "fe", role: "frontend", node: "cpu-1"}},
			"leaderworkersets.leaderworkerset.x-k8s.io,deployments.apps,statefulsets.apps,pods,services,configmaps", 4, "cpu-1"},
		{"an aggregated deployment on StatefulSets", kubeSpec(agg), false, []fakePod{
			{name: "a0-0", role: "aggregated"}, {name: "a0-1", role: "aggregated"}, {name: "a1-0", role: "aggregated"}, {name: "a1-1", role: "aggregated"},
			{name: "fe", role: "frontend", node: "cpu-2"}},
			"deployments.apps,statefulsets.apps,pods,services,configmaps", 5, "cpu-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := healthyEngine(t)
			tt.spec.Port = port
			ready := append([]fakePod(nil), tt.pods...)
			for i := range ready {
				ready[i].ready = true
			}
			cli := newKubeCLI(tt.lws, podsJSON(tt.pods[:1]...), podsJSON(ready...))
			k := &Kubernetes{Exec: cli, Namespace: "bench", Poll: time.Millisecond}
			start := k.Start
			if tt.spec.Point.Multinode {
				start = k.StartDeployment
			}
			engine, err := start(context.Background(), tt.spec)
			require.NoError(t, err)
			lease := labelValue(tt.spec.Lease)
			require.Equal(t, "http://127.0.0.1:"+strconv.Itoa(port), engine.BaseURL)
			require.Equal(t, Placement{Host: tt.wantLeader, Job: lease}, engine.Placement)
			require.Len(t, parseManifest(t, cli.applied), strings.Count(cli.applied, "\nkind: "))
			tail, err := engine.Stop(context.Background())
			require.NoError(t, err)
			require.Equal(t, "[pod/eng/engine] loading\n[pod/eng/engine] serving\n", tail)
			_, err = engine.Stop(context.Background())
			require.NoError(t, err, "stopping twice deletes once")

			service := dnsName(tt.spec.Name, kubeNameLimit)
			var want []string
			if tt.spec.Point.Multinode {
				want = append(want, "kubectl api-resources --api-group=leaderworkerset.x-k8s.io -o name")
				service += "-frontend"
			}
			want = append(want, "kubectl apply -n bench -f -", get+lease+" -o json", get+lease+" -o json",
				"kubectl get service "+service+" -n bench -o jsonpath={.spec.clusterIP}",
				"kubectl logs -n bench -l infersweep.lease="+lease+" --tail=50 --prefix --all-containers --max-log-requests="+strconv.Itoa(tt.wantPods),
				"kubectl delete "+tt.wantKinds+" -n bench -l infersweep.lease="+lease+" --ignore-not-found")
			require.Equal(t, want, cli.commands)
		})
	}
}

func TestKubernetesBackendBlamesTheConfigOrTheNode(t *testing.T) {
	tests := []struct {
		name     string
		pod      fakePod
		log      string
		wantKind FailureKind
		wantMsg  string
	}{
		{"killed for memory", fakePod{name: "eng", restarts: 1, terminated: "OOMKilled"}, "", ConfigFailure,
			"pod eng was killed for memory (OOMKilled, exit code 137)"},
		{"an image that does not exist", fakePod{name: "eng", waiting: "ImagePullBackOff",
			msg: `Back-off pulling image "vllm/vllm-openai:v9.9": docker.io/vllm/vllm-openai:v9.9: not found`}, "", ConfigFailure, "pod eng cannot pull its image (ImagePullBackOff)"},
		{"a registry out of reach", fakePod{name: "eng", waiting: "ErrImagePull",
			msg: `dial tcp 104.16.0.1:443: i/o timeout`}, "", NodeFailure, "pod eng cannot pull its image (ErrImagePull): dial tcp"},
		{"a crash the log blames on the config", fakePod{name: "eng", restarts: 2, waiting: "CrashLoopBackOff"},
			"torch.OutOfMemoryError: CUDA out of memory\n", ConfigFailure, "pod eng restarted 2 times"},
		{"a crash the log blames on nothing", fakePod{name: "eng", restarts: 1, waiting: "CrashLoopBackOff"},
			"Segmentation fault (core dumped)\n", NodeFailure, "engine exited before it was ready: pod eng restarted 1 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := newKubeCLI(false, podsJSON(tt.pod))
			cli.answer = func(cmd string) (string, error) {
				if strings.HasPrefix(cmd, "kubectl logs") {
					return tt.log, nil
				}
				return cli.respond(cmd)
			}
			k := &Kubernetes{Exec: cli, Namespace: "bench", Poll: time.Millisecond}
			_, err := k.Start(context.Background(), kubeSpec(point("sim")))
			var startErr *StartError
			require.ErrorAs(t, err, &startErr)
			require.Equal(t, tt.wantKind, startErr.Kind, startErr.Msg)
			require.Contains(t, startErr.Msg, tt.wantMsg)
			require.Contains(t, cli.commands[len(cli.commands)-1], "kubectl delete pods,services,configmaps", "a failed start leaves nothing behind")
		})
	}
}

// TestKubernetesBackendUnschedulableBlamesTheNode: a start that waits past its
// deadline for GPUs says why its pod waited.
func TestKubernetesBackendUnschedulableBlamesTheNode(t *testing.T) {
	cli := newKubeCLI(false, podsJSON(fakePod{name: "eng", unschedulable: "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."}))
	k := &Kubernetes{Exec: cli, Namespace: "bench", Poll: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := k.Start(ctx, kubeSpec(point("sim")))
	var startErr *StartError
	require.ErrorAs(t, err, &startErr)
	require.Equal(t, NodeFailure, startErr.Kind)
	require.Equal(t, "not ready: context deadline exceeded (pod eng is unschedulable: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.)", startErr.Msg)
}

func TestKubernetesBackendRunningSeesRestarts(t *testing.T) {
	port := healthyEngine(t)
	spec := kubeSpec(point("sim"))
	spec.Port = port
	running := fakePod{name: "eng", role: "engine", node: "gpu-7", ready: true}
	restarted := running
	restarted.restarts = 1
	cli := newKubeCLI(false, podsJSON(running), podsJSON(running), podsJSON(restarted))
	k := &Kubernetes{Exec: cli, Namespace: "bench", Poll: time.Millisecond}
	engine, err := k.Start(context.Background(), spec)
	require.NoError(t, err)
	require.True(t, engine.Running(context.Background()))
	require.Eventually(t, func() bool { return !engine.Running(context.Background()) }, time.Second, time.Millisecond)
}

func TestKubernetesBackendReapDeletesExactlyTheNodesObjects(t *testing.T) {
	tests := []struct {
		name, found string
		want        int
		wantDelete  bool
	}{
		{"leftovers", "pod/a\nservice/a\nleaderworkerset.leaderworkerset.x-k8s.io/b\n", 3, true},
		{"nothing left", "", 0, false},
	}
	const kinds = "leaderworkersets.leaderworkerset.x-k8s.io,deployments.apps,statefulsets.apps,pods,services,configmaps"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := newKubeCLI(true)
			cli.answer = func(cmd string) (string, error) {
				if strings.HasPrefix(cmd, "kubectl get") {
					return tt.found, nil
				}
				return cli.respond(cmd)
			}
			k := &Kubernetes{Exec: cli, Namespace: "bench"}
			n, err := k.Reap(context.Background(), "node/a")
			require.NoError(t, err)
			require.Equal(t, tt.want, n)
			_, err = k.Reap(context.Background(), "node/a")
			require.NoError(t, err)
			get := "kubectl get " + kinds + " -n bench -l infersweep.node=node-a-" + labelValue("node/a")[7:] + " -o name"
			want := []string{"kubectl api-resources --api-group=leaderworkerset.x-k8s.io -o name", get}
			del := "kubectl delete " + kinds + " -n bench -l infersweep.node=" + labelValue("node/a") + " --ignore-not-found"
			if tt.wantDelete {
				want = append(want, del, get, del)
			} else {
				want = append(want, get)
			}
			require.Equal(t, want, cli.commands, "the cluster is asked for LWS once")
		})
	}
}

func TestKubernetesBackendNeedsAStdinRunner(t *testing.T) {
	k := &Kubernetes{Exec: &fakeCLI{answer: func(string) (string, error) { return "", errors.New("unused") }}}
	_, err := k.Start(context.Background(), kubeSpec(point("sim")))
	require.ErrorContains(t, err, "cannot pass a manifest on stdin")
}
