package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/launch"
)

// backendFlags choose how node workers start engines: the worker's and
// the demo's --backend and what each backend needs.
type backendFlags struct {
	backend           string
	simImage          string
	partition         string
	account           string
	mounts            string
	slurmLogDir       string
	slurmEngineBinary string
	k8sNamespace      string
	k8sGPUResource    string
	k8sServiceAccount string
}

func (b *backendFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&b.backend, "backend", "local", "how engines are started: local (child processes), docker (containers through the docker CLI), slurm (sbatch jobs; pyxis containers where the cluster has pyxis) or kubernetes (pods through kubectl; LeaderWorkerSets for multinode deployments where the cluster has them; the worker must run in the cluster)")
	fl.StringVar(&b.simImage, "sim-image", launch.DefaultSimImage, "docker, kubernetes: image of the simulated engine ('infersweep image build' makes it; push it where the cluster pulls from)")
	fl.StringVar(&b.partition, "slurm-partition", "", "slurm: partition for engine jobs (default: the cluster's)")
	fl.StringVar(&b.account, "slurm-account", "", "slurm: account for engine jobs")
	fl.StringVar(&b.mounts, "container-mounts", "", "slurm with pyxis: --container-mounts for engine jobs, e.g. /models:/models")
	fl.StringVar(&b.slurmLogDir, "slurm-log-dir", "", "slurm: where engine jobs write their output; must be shared with the compute nodes (default: the temp dir)")
	fl.StringVar(&b.slurmEngineBinary, "slurm-engine-binary", "", "slurm: the infersweep binary the compute nodes run for the simulated engine (default: this one)")
	fl.StringVar(&b.k8sNamespace, "k8s-namespace", "default", "kubernetes: namespace of the engines' pods")
	fl.StringVar(&b.k8sGPUResource, "k8s-gpu-resource", "nvidia.com/gpu", "kubernetes: the GPU resource engines request (amd.com/gpu on AMD clusters)")
	fl.StringVar(&b.k8sServiceAccount, "k8s-service-account", "", "kubernetes: service account of the engines' pods (default: the namespace's)")
}

// launcher is the chosen backend; nil is the local one. The docker
// backend needs the simulated engine's image: with ensureImage it is
// built from this binary when the engine does not have it yet.
func (b *backendFlags) launcher(ctx context.Context, progress io.Writer, ensureImage bool) (activities.Launcher, error) {
	switch b.backend {
	case "local":
		return nil, nil
	case "docker":
		d := &launch.Docker{Exec: launch.ExecRunner{}, SimImage: b.simImage}
		if ensureImage {
			if err := ensureSimImage(ctx, progress, b.simImage); err != nil {
				return nil, err
			}
		}
		return d, nil
	case "slurm":
		return &launch.Slurm{Exec: launch.ExecRunner{}, Partition: b.partition, Account: b.account, ContainerMounts: b.mounts,
			LogDir: b.slurmLogDir, Self: b.slurmEngineBinary}, nil
	case "kubernetes":
		// The sim image is the cluster's to pull: it is never built here.
		return &launch.Kubernetes{Exec: launch.ExecRunner{}, Namespace: b.k8sNamespace, GPUResource: b.k8sGPUResource,
			ServiceAccount: b.k8sServiceAccount, SimImage: b.simImage}, nil
	}
	return nil, usageError{fmt.Errorf("--backend %q: want local, docker, slurm or kubernetes", b.backend)}
}
