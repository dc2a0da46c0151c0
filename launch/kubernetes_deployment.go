package launch

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/sweep"
)

// A multinode deployment on Kubernetes: per role a LeaderWorkerSet (one
// group of NodesPerWorker pods per worker) where the cluster has the LWS
// CRD, else a StatefulSet of NodesPerWorker pods per worker with a
// headless Service naming its ranks; a Service per worker on its rank 0;
// the frontend as a Deployment and Service, routing to the workers'
// Service names; a control plane, where the recipe has one, as a
// Deployment and a headless Service whose name is ${CONTROL_ADDR}. Values only a pod knows (its rank, its leader, its
// worker index) are $(VAR) references the kubelet expands in the
// command, from variables LWS injects or the downward API fills.

// Labels and variables the controllers give their pods.
const (
	lwsName        = "leaderworkerset.sigs.k8s.io/name"
	lwsGroup       = "leaderworkerset.sigs.k8s.io/group-index"
	lwsWorkerIndex = "leaderworkerset.sigs.k8s.io/worker-index"
	stsPodName     = "statefulset.kubernetes.io/pod-name"
	// stsPodIndex needs Kubernetes 1.28 (PodIndexLabel, on by default).
	stsPodIndex = "apps.kubernetes.io/pod-index"
	rankVar     = "INFERSWEEP_NODE_RANK"
	workerVar   = "INFERSWEEP_WORKER"
)

// kubeDeployment is what StartDeployment applies, and what it waits for.
type kubeDeployment struct {
	objects  []kObject
	pods     int
	frontend string  // the frontend's Service
	router   Command // the frontend's command, for its readiness path
	markers  []string
	kinds    string
}

// DeploymentManifest is what StartDeployment applies for spec; whether
// the cluster has LeaderWorkerSets is asked as StartDeployment asks it
// (SetLWS answers for a cluster out of reach).
func (k *Kubernetes) DeploymentManifest(ctx context.Context, spec Spec) (string, error) {
	lws, err := k.hasLWS(ctx)
	if err != nil {
		return "", err
	}
	d, err := k.deploymentObjects(spec, lws)
	if err != nil {
		return "", err
	}
	return marshalManifest(d.objects)
}

// StartDeployment applies spec's multinode deployment and returns its
// frontend once every pod is ready and the frontend answers at its
// Service's cluster IP. Stopping it deletes the whole deployment.
func (k *Kubernetes) StartDeployment(ctx context.Context, spec Spec) (*Engine, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("kubernetes backend: the deployment needs a name")
	}
	spec.Port = cmp.Or(spec.Port, 8000)
	lws, err := k.hasLWS(ctx)
	if err != nil {
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
	}
	d, err := k.deploymentObjects(spec, lws)
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	app := k.newApp(spec, d.kinds, d.pods, d.markers)
	return app.start(ctx, d.objects, d.frontend, d.router.readyURL)
}

// deploymentObjects renders every role's workers, then the frontend
// routing to them. A launch planned before roles carries none to give
// its pods a runtime worker index, so it runs as StatefulSets.
func (k *Kubernetes) deploymentObjects(spec Spec, lws bool) (kubeDeployment, error) {
	p := spec.Point
	if !p.Multinode || len(p.Roles) == 0 {
		return kubeDeployment{}, fmt.Errorf("kubernetes deployment of point %s: not a shaped multinode point", p.ID)
	}
	spec.Port = cmp.Or(spec.Port, 8000)
	lws = lws && p.Launch != nil && len(p.Launch.Roles) > 0
	d := kubeDeployment{kinds: deploymentKinds(lws)}
	base := dnsName(spec.Name, kubeNameLimit)
	urls := map[string][]string{}
	if hasControlPlane(p) {
		name := base + "-" + sweep.RoleControlPlane
		addr := fmt.Sprintf("%s.%s.svc", name, k.namespace())
		objects, err := k.controlPlaneObjects(spec, name, addr)
		if err != nil {
			return kubeDeployment{}, fmt.Errorf("kubernetes deployment of point %s: %w", p.ID, err)
		}
		d.objects, d.pods = objects, 1
		// Every role's launch reaches it at its Service's name.
		spec.Point = substitute(p, "", recipes.ControlAddrVar, addr)
		p = spec.Point
	}
	for _, shape := range p.Roles {
		objects, markers, err := k.roleObjects(spec, base, shape, lws)
		if err != nil {
			return kubeDeployment{}, fmt.Errorf("kubernetes deployment of point %s: %w", p.ID, err)
		}
		d.objects, d.markers = append(d.objects, objects...), append(d.markers, markers...)
		d.pods += shape.Workers * max(shape.NodesPerWorker, 1)
		for w := range shape.Workers {
			urls[shape.Role] = append(urls[shape.Role], fmt.Sprintf("http://%s.%s.svc:%d", workerName(base, shape.Role, w), k.namespace(), spec.Port))
		}
	}
	rs := RoleSpec{Spec: spec, Role: sweep.RoleFrontend, Nodes: 1, PrefillURLs: urls[sweep.RolePrefill],
		DecodeURLs: urls[sweep.RoleDecode], WorkerURLs: urls[sweep.RoleAggregated]}
	router, err := RenderRole(rs, kubeBinary, "0.0.0.0")
	if err != nil {
		return kubeDeployment{}, fmt.Errorf("kubernetes deployment of point %s: %w", p.ID, err)
	}
	d.frontend, d.router, d.pods = base+"-"+sweep.RoleFrontend, router, d.pods+1
	d.objects = append(d.objects, k.frontendObjects(spec, d.frontend, router)...)
	return d, nil
}

// deploymentKinds are the kinds a deployment creates, controllers first:
// a pod deleted before its controller would be recreated.
func deploymentKinds(lws bool) string {
	kinds := "deployments.apps,statefulsets.apps," + singleKinds
	if lws {
		kinds = "leaderworkersets.leaderworkerset.x-k8s.io," + kinds
	}
	return kinds
}

func workerName(base, role string, worker int) string {
	return base + "-" + role + "-" + strconv.Itoa(worker)
}

// meta is the metadata of an object of the deployment's role.
func (k *Kubernetes) meta(spec Spec, name string, kv ...string) kMeta {
	labels, annotations := kubeLabels(spec)
	return kMeta{Name: name, Namespace: k.namespace(), Labels: with(labels, kv...), Annotations: annotations}
}

// roleObjects are one role's workers, with their config-failure markers.
func (k *Kubernetes) roleObjects(spec Spec, base string, shape sweep.RoleShape, lws bool) ([]kObject, []string, error) {
	if lws {
		return k.lwsRole(spec, base, shape)
	}
	var objects []kObject
	var markers []string
	for w := range shape.Workers {
		o, cmd, err := k.statefulSetWorker(spec, base, shape, w)
		if err != nil {
			return nil, nil, err
		}
		objects, markers = append(objects, o...), cmd.ConfigFailures
	}
	return objects, markers, nil
}

// gpusPerPod is a worker's share of GPUs on each node it spans.
func gpusPerPod(shape sweep.RoleShape) int {
	n := max(shape.NodesPerWorker, 1)
	return (shape.GPUsPerWorker + n - 1) / n
}

// lwsRole is a role as one LeaderWorkerSet: a group per worker, its
// leader the rank 0, and a Service per worker on its leader.
func (k *Kubernetes) lwsRole(spec Spec, base string, shape sweep.RoleShape) ([]kObject, []string, error) {
	name := base + "-" + shape.Role
	rs := RoleSpec{Spec: spec, Role: shape.Role, Nodes: max(shape.NodesPerWorker, 1), MasterAddr: "$(LWS_LEADER_ADDRESS)"}
	rs.Point = runtimeWorker(spec.Point, shape.Role, "$("+workerVar+")")
	cmd, err := renderRole(rs, kubeBinary, "0.0.0.0", "$(LWS_WORKER_INDEX)")
	if err != nil {
		return nil, nil, err
	}
	meta := k.meta(spec, name, labelApp, name, labelRole, shape.Role)
	objects, pod := k.workload(spec, cmd, meta, gpusPerPod(shape), fromLabel(workerVar, lwsGroup))
	var lws kLWSSpec
	lws.Replicas = shape.Workers
	// Workers start with their leader, not once it is ready: a
	// multinode engine's rank 0 is not ready before its other ranks join.
	lws.StartupPolicy = "LeaderCreated"
	lws.LeaderWorkerTemplate.Size = max(shape.NodesPerWorker, 1)
	// A rank that dies breaks its group's collectives: restart the group.
	lws.LeaderWorkerTemplate.RestartPolicy = "RecreateGroupOnPodRestart"
	lws.LeaderWorkerTemplate.WorkerTemplate = kPodTemplate{Metadata: kTemplateMeta{Labels: meta.Labels, Annotations: meta.Annotations}, Spec: pod}
	objects = append(objects, kObject{APIVersion: "leaderworkerset.x-k8s.io/v1", Kind: "LeaderWorkerSet", Metadata: meta, Spec: lws})
	for w := range shape.Workers {
		svc := workerName(base, shape.Role, w)
		objects = append(objects, k.service(k.meta(spec, svc, labelRole, shape.Role, labelWorker, strconv.Itoa(w)),
			map[string]string{lwsName: name, lwsGroup: strconv.Itoa(w), lwsWorkerIndex: "0"}, spec.Port))
	}
	return objects, cmd.ConfigFailures, nil
}

// statefulSetWorker is one worker as a StatefulSet of its ranks, the
// headless Service that names them (rank 0 is the master) and the
// Service on its rank 0.
func (k *Kubernetes) statefulSetWorker(spec Spec, base string, shape sweep.RoleShape, w int) ([]kObject, Command, error) {
	name := workerName(base, shape.Role, w)
	ranks := name + "-ranks"
	rs := RoleSpec{Spec: spec, Role: shape.Role, Worker: w, Nodes: max(shape.NodesPerWorker, 1),
		MasterAddr: fmt.Sprintf("%s-0.%s.%s.svc", name, ranks, k.namespace())}
	cmd, err := renderRole(rs, kubeBinary, "0.0.0.0", "$("+rankVar+")")
	if err != nil {
		return nil, Command{}, err
	}
	meta := k.meta(spec, name, labelApp, name, labelRole, shape.Role, labelWorker, strconv.Itoa(w))
	objects, pod := k.workload(spec, cmd, meta, gpusPerPod(shape), fromLabel(rankVar, stsPodIndex))
	selector := map[string]string{labelApp: name}
	// Ranks start together (Parallel), for the same reason LWS workers
	// start with their leader; their names resolve before they are ready.
	sts := kStatefulSetSpec{Replicas: max(shape.NodesPerWorker, 1), ServiceName: ranks, PodManagementPolicy: "Parallel",
		Selector: kSelector{MatchLabels: selector}, Template: kPodTemplate{Metadata: kTemplateMeta{Labels: meta.Labels, Annotations: meta.Annotations}, Spec: pod}}
	headless := k.service(k.meta(spec, ranks, labelRole, shape.Role, labelWorker, strconv.Itoa(w)), selector, spec.Port)
	hs := headless.Spec.(kServiceSpec)
	hs.ClusterIP, hs.PublishNotReadyAddresses = "None", true
	headless.Spec = hs
	objects = append(objects, headless, kObject{APIVersion: "apps/v1", Kind: "StatefulSet", Metadata: meta, Spec: sts},
		k.service(meta, map[string]string{stsPodName: name + "-0"}, spec.Port))
	return objects, cmd, nil
}

// frontendObjects are the router as a one-pod Deployment and its Service.
func (k *Kubernetes) frontendObjects(spec Spec, name string, router Command) []kObject {
	meta := k.meta(spec, name, labelApp, name, labelRole, sweep.RoleFrontend)
	objects, pod := k.workload(spec, router, meta, 0)
	selector := map[string]string{labelApp: name}
	dep := kDeploymentSpec{Replicas: 1, Selector: kSelector{MatchLabels: selector},
		Template: kPodTemplate{Metadata: kTemplateMeta{Labels: meta.Labels, Annotations: meta.Annotations}, Spec: pod}}
	return append(objects, kObject{APIVersion: "apps/v1", Kind: "Deployment", Metadata: meta, Spec: dep}, k.service(meta, selector, spec.Port))
}

// controlPlaneObjects are the control plane as a one-pod Deployment and
// a headless Service naming its pod (addr), so every port it listens on
// (etcd's, NATS's) is reached without listing them. It starts with the
// rest, not before: the workers keep retrying their control plane until
// it answers (Dynamo's do), and the deployment is ready only once every
// pod is, its own by a probe of its ready path or once it runs.
func (k *Kubernetes) controlPlaneObjects(spec Spec, name, addr string) ([]kObject, error) {
	cmd, err := RenderRole(RoleSpec{Spec: spec, Role: sweep.RoleControlPlane, Nodes: 1, ControlAddr: addr}, kubeBinary, "0.0.0.0")
	if err != nil {
		return nil, err
	}
	meta := k.meta(spec, name, labelApp, name, labelRole, sweep.RoleControlPlane)
	spec.Port = cmp.Or(cmd.ReadyPort, spec.Port)
	objects, pod := k.workload(spec, cmd, meta, 0)
	if cmd.ReadyOnStart {
		pod.Containers[0].ReadinessProbe = nil
	}
	selector := map[string]string{labelApp: name}
	dep := kDeploymentSpec{Replicas: 1, Selector: kSelector{MatchLabels: selector},
		Template: kPodTemplate{Metadata: kTemplateMeta{Labels: meta.Labels, Annotations: meta.Annotations}, Spec: pod}}
	svc := kObject{APIVersion: "v1", Kind: "Service", Metadata: meta,
		Spec: kServiceSpec{ClusterIP: "None", PublishNotReadyAddresses: true, Selector: selector}}
	return append(objects, kObject{APIVersion: "apps/v1", Kind: "Deployment", Metadata: meta, Spec: dep}, svc), nil
}

// runtimeWorker is p with role's ${WORKER} left to the pod as ref: one
// LeaderWorkerSet template serves every worker of the role.
func runtimeWorker(p sweep.Point, role, ref string) sweep.Point {
	return substitute(p, role, recipes.WorkerVar, ref)
}

// substitute is p with placeholder replaced by value in role's launch
// (every role's for role "").
func substitute(p sweep.Point, role, placeholder, value string) sweep.Point {
	l := *p.Launch
	l.Roles = slices.Clone(l.Roles)
	for i := range l.Roles {
		if role != "" && l.Roles[i].Role != role {
			continue
		}
		rl := &l.Roles[i].Launch
		rl.Args = slices.Clone(rl.Args)
		for j, a := range rl.Args {
			rl.Args[j] = strings.ReplaceAll(a, placeholder, value)
		}
		rl.Env, rl.Files = replaceValues(rl.Env, placeholder, value), replaceValues(rl.Files, placeholder, value)
	}
	p.Launch = &l
	return p
}

func replaceValues(m map[string]string, placeholder, value string) map[string]string {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = strings.ReplaceAll(v, placeholder, value)
	}
	return out
}
