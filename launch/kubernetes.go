package launch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kubernetes runs engines as pods through kubectl: a single engine as a
// Pod and its Service, a multinode deployment as a LeaderWorkerSet per
// role where the cluster has the LWS CRD (StatefulSets otherwise) and its
// frontend as a Deployment. Every object carries the lease and node
// labels, so stopping or reaping is one `kubectl delete -l`.
//
// The worker reaches engines at their Services' cluster IPs: it must run
// in the cluster (or on a node routing the service network), as the
// Helm-deployed workers do.
type Kubernetes struct {
	// Exec runs kubectl; it must also be a StdinRunner, as manifests are
	// applied from stdin (nothing is written to the worker's disk).
	Exec      Runner
	Namespace string // default "default"
	Kubectl   string // default "kubectl"
	// GPUResource is the extended resource engines request: default
	// nvidia.com/gpu; amd.com/gpu on AMD clusters.
	GPUResource     string
	ImagePullSecret string
	ServiceAccount  string
	// SimImage runs simulated engines, as the Docker backend's does.
	SimImage string
	// Poll is the longest wait between looks at the pods, default 2 s:
	// each look is an API server request.
	Poll time.Duration

	lws lwsProbe
}

// lwsProbe remembers whether the cluster serves LeaderWorkerSets: the
// answer is the cluster's, asked once per Kubernetes value.
type lwsProbe struct {
	mu    sync.Mutex
	known bool
	has   bool
}

// StdinRunner runs a command with stdin; ExecRunner is one. A separate
// interface keeps Runner's fakes in the other backends' tests as they are.
type StdinRunner interface {
	RunInput(ctx context.Context, stdin, name string, args ...string) (string, error)
}

// RunInput executes name with args, stdin on its standard input.
func (ExecRunner) RunInput(ctx context.Context, stdin, name string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, name, args...)
	c.Stdin = strings.NewReader(stdin)
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// kubeBinary is where the sim image keeps infersweep (imageBinary).
const kubeBinary = "/usr/local/bin/infersweep"

// kubeNameLimit leaves room under 63 for role and worker suffixes and
// for what controllers append: a StatefulSet's pods carry a
// controller-revision-hash label of its name plus 11 characters.
const kubeNameLimit = 36

// singleKinds are what Start creates, for its delete.
const singleKinds = "pods,services,configmaps"

func (k *Kubernetes) namespace() string { return cmp.Or(k.Namespace, "default") }
func (k *Kubernetes) kubectl() string   { return cmp.Or(k.Kubectl, "kubectl") }
func (k *Kubernetes) gpuResource() string {
	return cmp.Or(k.GPUResource, "nvidia.com/gpu")
}

// SetLWS says whether the cluster has LeaderWorkerSets instead of asking
// it: for rendering a cluster's manifests from elsewhere.
func (k *Kubernetes) SetLWS(has bool) {
	k.lws.mu.Lock()
	defer k.lws.mu.Unlock()
	k.lws.known, k.lws.has = true, has
}

// hasLWS asks the API server once whether the LWS CRD is installed.
func (k *Kubernetes) hasLWS(ctx context.Context) (bool, error) {
	k.lws.mu.Lock()
	defer k.lws.mu.Unlock()
	if k.lws.known {
		return k.lws.has, nil
	}
	out, err := k.Exec.Run(ctx, k.kubectl(), "api-resources", "--api-group=leaderworkerset.x-k8s.io", "-o", "name")
	if err != nil {
		return false, fmt.Errorf("ask the cluster for LeaderWorkerSets: %w", err)
	}
	k.lws.known, k.lws.has = true, strings.Contains(out, "leaderworkersets")
	return k.lws.has, nil
}

// Manifest is what Start applies for a single-node spec: the engine's
// Pod, its Service and its files' ConfigMap.
func (k *Kubernetes) Manifest(spec Spec) (string, error) {
	objects, _, err := k.singleObjects(spec)
	if err != nil {
		return "", err
	}
	return marshalManifest(objects)
}

// singleObjects are a single engine's objects, and its command. A bare
// Pod, not a Deployment: restartPolicy Never lets a crash end the point
// (a controller would restart the engine and hide it), as Docker's
// container is not restarted either.
func (k *Kubernetes) singleObjects(spec Spec) ([]kObject, Command, error) {
	if spec.Port == 0 {
		spec.Port = 8000 // each pod has its own address
	}
	cmd, err := Render(spec, kubeBinary, "0.0.0.0")
	if err != nil {
		return nil, Command{}, err
	}
	name := dnsName(spec.Name, kubeNameLimit)
	labels, annotations := kubeLabels(spec)
	labels = with(labels, labelApp, name, labelRole, "engine")
	meta := kMeta{Name: name, Namespace: k.namespace(), Labels: labels, Annotations: annotations}
	objects, pod := k.workload(spec, cmd, meta, max(spec.Point.GPUs, 1))
	pod.RestartPolicy = "Never"
	objects = append(objects,
		kObject{APIVersion: "v1", Kind: "Pod", Metadata: meta, Spec: pod},
		k.service(meta, map[string]string{labelApp: name}, spec.Port))
	return objects, cmd, nil
}

// Labels that tie the backend's objects together within one start.
const (
	labelApp    = "infersweep.app"
	labelRole   = "infersweep.role"
	labelWorker = "infersweep.worker"
)

// workload is the pod spec running cmd, with its ConfigMap (if it has
// files) first; meta names both. gpus are requested per pod, none for
// the simulated engine (or a frontend, gpus 0).
func (k *Kubernetes) workload(spec Spec, cmd Command, meta kMeta, gpus int, env ...kEnv) ([]kObject, kPodSpec) {
	sim := spec.Point.Framework == "sim"
	image := cmd.Image
	if sim {
		image = cmp.Or(k.SimImage, DefaultSimImage)
	}
	c := kContainer{Name: "engine", Image: image, Command: cmd.Args, Env: append(env, envVars(cmd.Env)...),
		Ports: []kPort{{Name: "http", ContainerPort: spec.Port}}}
	c.ReadinessProbe = &kProbe{PeriodSeconds: 5, FailureThreshold: 3}
	c.ReadinessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Port = cmp.Or(cmd.ReadyPath, "/health"), spec.Port
	pod := kPodSpec{ServiceAccountName: k.ServiceAccount}
	if k.ImagePullSecret != "" {
		pod.ImagePullSecrets = []kName{{Name: k.ImagePullSecret}}
	}
	if cmd.StopGrace > 0 {
		grace := int64(cmd.StopGrace.Seconds())
		pod.TerminationGracePeriodSeconds = &grace
	}
	if !sim && gpus > 0 {
		n := strconv.Itoa(gpus)
		c.Resources = &kResources{Requests: map[string]string{k.gpuResource(): n}, Limits: map[string]string{k.gpuResource(): n}}
		// As Docker's --shm-size 16g: NCCL and the engines' workers share
		// tensors through /dev/shm, whose container default is 64 MiB.
		pod.Volumes = append(pod.Volumes, kVolume{Name: "shm", EmptyDir: &kEmptyDir{Medium: "Memory", SizeLimit: "16Gi"}})
		c.VolumeMounts = append(c.VolumeMounts, kVolumeMount{Name: "shm", MountPath: "/dev/shm"})
	}
	var objects []kObject
	cmMeta := meta
	cmMeta.Name = meta.Name + "-files"
	if cm, mounts := filesConfigMap(cmMeta, cmd.Files); cm != nil {
		objects = append(objects, *cm)
		pod.Volumes = append(pod.Volumes, kVolume{Name: "files", ConfigMap: &kName{Name: cmMeta.Name}})
		c.VolumeMounts = append(c.VolumeMounts, mounts...)
	}
	pod.Containers = []kContainer{c}
	return objects, pod
}

// service exposes port of the pods selected, under meta's name.
func (k *Kubernetes) service(meta kMeta, selector map[string]string, port int) kObject {
	return kObject{APIVersion: "v1", Kind: "Service", Metadata: meta,
		Spec: kServiceSpec{Selector: selector, Ports: []kPort{{Name: "http", Port: port, TargetPort: port}}}}
}

// Start applies the engine's Pod and Service, waits for the pod to be
// ready and for the engine to answer at its Service's cluster IP.
func (k *Kubernetes) Start(ctx context.Context, spec Spec) (*Engine, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("kubernetes backend: the engine needs a name")
	}
	spec.Port = cmp.Or(spec.Port, 8000)
	objects, cmd, err := k.singleObjects(spec)
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	app := k.newApp(spec, singleKinds, 1, cmd.ConfigFailures)
	return app.start(ctx, objects, dnsName(spec.Name, kubeNameLimit), cmd.readyURL)
}

// Reap deletes what a dead worker of node left behind, matched by its
// node label: a name prefix would also match node n0-x's for n0.
func (k *Kubernetes) Reap(ctx context.Context, node string) (int, error) {
	if node == "" {
		return 0, errors.New("kubernetes reap: the node needs a name")
	}
	lws, err := k.hasLWS(ctx)
	if err != nil {
		return 0, err
	}
	kinds := deploymentKinds(lws)
	selector := LabelNode + "=" + labelValue(node)
	out, err := k.Exec.Run(ctx, k.kubectl(), "get", kinds, "-n", k.namespace(), "-l", selector, "-o", "name")
	if err != nil {
		return 0, err
	}
	names := strings.Fields(out)
	if len(names) == 0 {
		return 0, nil
	}
	_, err = k.Exec.Run(ctx, k.kubectl(), "delete", kinds, "-n", k.namespace(), "-l", selector, "--ignore-not-found")
	return len(names), err
}
