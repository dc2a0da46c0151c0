package main

import (
	"context"
	"io"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/launch"
)

// TestBackendFlagsChooseTheLauncher: each --backend with its flags gives
// the launcher a worker runs engines with.
func TestBackendFlagsChooseTheLauncher(t *testing.T) {
	tests := []struct {
		args    []string
		want    activities.Launcher
		wantErr string
	}{
		{[]string{"--backend", "local"}, nil, ""},
		{[]string{"--backend", "kubernetes"}, &launch.Kubernetes{Exec: launch.ExecRunner{}, Namespace: "default", GPUResource: "nvidia.com/gpu",
			SimImage: launch.DefaultSimImage}, ""},
		{[]string{"--backend", "kubernetes", "--k8s-namespace", "bench", "--k8s-gpu-resource", "amd.com/gpu", "--k8s-service-account", "engines",
			"--sim-image", "registry.local/infersweep/sim:v1"}, &launch.Kubernetes{Exec: launch.ExecRunner{}, Namespace: "bench",
			GPUResource: "amd.com/gpu", ServiceAccount: "engines", SimImage: "registry.local/infersweep/sim:v1"}, ""},
		{[]string{"--backend", "k8s"}, nil, `--backend "k8s": want local, docker, slurm or kubernetes`},
	}
	for _, tt := range tests {
		t.Run(tt.args[1], func(t *testing.T) {
			var b backendFlags
			fl := pflag.NewFlagSet("worker", pflag.ContinueOnError)
			b.register(fl)
			require.NoError(t, fl.Parse(tt.args))
			got, err := b.launcher(context.Background(), io.Discard, false)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestBackendHelpNamesEveryBackend: --help lists what --backend takes.
func TestBackendHelpNamesEveryBackend(t *testing.T) {
	var b backendFlags
	fl := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	b.register(fl)
	usage := fl.FlagUsages()
	for _, want := range []string{"kubernetes (pods through kubectl", "--k8s-namespace string", "--k8s-gpu-resource string", "--k8s-service-account string"} {
		require.Contains(t, usage, want)
	}
}
