package deploy

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// compose is the part of the compose format the checks read; decoding
// with KnownFields refuses any key the file has that this does not know,
// so a typo (healtcheck:) fails here rather than silently in production.
type compose struct {
	Name     string                    `yaml:"name"`
	Extends  map[string]any            `yaml:"x-infersweep"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       map[string]string `yaml:"build"`
	EnvFile     string            `yaml:"env_file"`
	Environment map[string]string `yaml:"environment"`
	Command     []string          `yaml:"command"`
	Entrypoint  []string          `yaml:"entrypoint"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
	} `yaml:"healthcheck"`
	Ports           []string `yaml:"ports"`
	Volumes         []string `yaml:"volumes"`
	Restart         string   `yaml:"restart"`
	Profiles        []string `yaml:"profiles"`
	StopGracePeriod string   `yaml:"stop_grace_period"`
}

// oneShot services run to completion; the rest run and are health-checked.
var oneShot = []string{"temporal-setup", "lake-setup", "cli"}

func TestComposeFile(t *testing.T) {
	c := readCompose(t, "compose/docker-compose.yaml")

	env := readEnvExample(t)
	substituted := regexp.MustCompile(`\$\{([A-Z0-9_]+)(:-[^}]*)?\}`)
	for name, s := range c.Services {
		t.Run(name, func(t *testing.T) {
			require.NotEmpty(t, s.Image, "every service names its image")
			image := substituted.ReplaceAllStringFunc(s.Image, func(m string) string {
				sub := substituted.FindStringSubmatch(m)
				if sub[2] != "" {
					return strings.TrimPrefix(sub[2], ":-")
				}
				return env[sub[1]]
			})
			require.Regexp(t, `^[a-z0-9./-]+:[A-Za-z0-9._-]+$`, image, "pinned to a tag")
			require.NotContains(t, image, ":latest")
			for _, m := range substituted.FindAllStringSubmatch(strings.Join(append(append([]string{s.Image}, mapValues(s.Environment)...), s.Entrypoint...), " "), -1) {
				if m[2] == "" {
					require.Contains(t, env, m[1], "%s is substituted but .env.example does not set it", m[1])
				}
			}
			if !slices.Contains(oneShot, name) {
				require.NotNil(t, s.Healthcheck, "a long-running service has a health check")
				require.NotEmpty(t, s.Healthcheck.Test)
			}
			for dep, cond := range s.DependsOn {
				require.Contains(t, c.Services, dep)
				want := "service_healthy"
				if slices.Contains(oneShot, dep) {
					want = "service_completed_successfully"
				}
				require.Equal(t, want, cond.Condition, "%s waits for %s", name, dep)
			}
			for _, p := range s.Ports {
				require.True(t, strings.HasPrefix(p, "127.0.0.1:"), "port %s is published on loopback only", p)
			}
		})
	}
	// The infersweep services share one definition: image, env and order.
	for _, name := range []string{"control", "sim-h100-0", "serve"} {
		s := c.Services[name]
		require.Equal(t, "${INFERSWEEP_IMAGE:-infersweep:local}", s.Image)
		require.Equal(t, ".env", s.EnvFile)
		require.Equal(t, "temporal:7233", s.Environment["INFERSWEEP_TEMPORAL_ADDRESS"])
		require.Equal(t, "true", s.Environment["INFERSWEEP_S3_PATH_STYLE"])
		require.Equal(t, "/usr/local/bin/infersweep", s.Healthcheck.Test[1], "distroless has no shell: the binary probes itself")
		require.Contains(t, s.DependsOn, "temporal-setup")
		require.Contains(t, s.DependsOn, "lake-setup")
	}
	require.Contains(t, c.Services["control"].Command, "--metrics-addr")
	require.Equal(t, []string{"serve", "--addr", "0.0.0.0:8080", "--log-format", "json"}, c.Services["serve"].Command)
	require.NotEmpty(t, env["INFERSWEEP_API_TOKEN"], "serve off loopback needs a token")
	// infersweep's search attributes, as devstack registers them.
	setup := strings.Join(c.Services["temporal-setup"].Command, " ")
	for _, sa := range []string{"SweepId", "SweepDate", "Hardware", "Framework", "Model", "Precision"} {
		require.Contains(t, setup, sa)
	}
}

// TestComposeLocalFile keeps the offline file's infersweep services the
// production file's: the same commands and health checks, only the image
// and the stack they reach differ.
func TestComposeLocalFile(t *testing.T) {
	prod, local := readCompose(t, "compose/docker-compose.yaml"), readCompose(t, "compose/compose.local.yaml")
	require.ElementsMatch(t, []string{"stack", "control", "sim-h100-0", "serve"}, slices.Collect(maps.Keys(local.Services)))
	for _, name := range []string{"control", "sim-h100-0", "serve"} {
		p, l := prod.Services[name], local.Services[name]
		require.Equal(t, p.Command, l.Command, name)
		require.Equal(t, p.Healthcheck.Test, l.Healthcheck.Test, name)
		require.Equal(t, p.Ports != nil, l.Ports != nil, name)
		require.Equal(t, "stack:7233", l.Environment["INFERSWEEP_TEMPORAL_ADDRESS"])
		require.Equal(t, "http://stack:9000", l.Environment["INFERSWEEP_S3_ENDPOINT"])
		require.Equal(t, "service_healthy", l.DependsOn["stack"].Condition, "%s waits for the stack", name)
	}
	require.Equal(t, "dev", local.Services["stack"].Command[0])
	require.Contains(t, local.Services["stack"].Command, "--no-workers")
	for _, s := range local.Services {
		require.Equal(t, "${INFERSWEEP_IMAGE:-infersweep:local}", s.Image, "nothing is pulled")
		for _, p := range s.Ports {
			require.True(t, strings.HasPrefix(p, "127.0.0.1:"), "port %s is published on loopback only: the store checks no signatures", p)
		}
	}
}

func readCompose(t *testing.T, path string) compose {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c compose
	require.NoError(t, dec.Decode(&c), path)
	return c
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func readEnvExample(t *testing.T) map[string]string {
	data, err := os.ReadFile("compose/.env.example")
	require.NoError(t, err)
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = v
		}
	}
	return env
}

// k8sObject is what every manifest must have; workloads are checked
// further below.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		ServiceName string `yaml:"serviceName"`
	} `yaml:"spec"`
	Resources []string `yaml:"resources"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	Containers                    []struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Args    []string `yaml:"args"`
		EnvFrom []struct {
			ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
			SecretRef    *struct{ Name string } `yaml:"secretRef"`
		} `yaml:"envFrom"`
		Resources struct {
			Requests map[string]any `yaml:"requests"`
			Limits   map[string]any `yaml:"limits"`
		} `yaml:"resources"`
		ReadinessProbe map[string]any `yaml:"readinessProbe"`
		LivenessProbe  map[string]any `yaml:"livenessProbe"`
	} `yaml:"containers"`
}

var knownKinds = map[string]string{
	"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1", "Namespace": "v1",
	"ServiceMonitor": "monitoring.coreos.com/v1", "Kustomization": "kustomize.config.k8s.io/v1beta1",
}

// TestKubernetesManifests parses every manifest (kubeconform needs schemas
// from the network, which CI does not have) and checks what a cluster
// would refuse or what would go wrong quietly: kinds and API versions,
// selectors that match their pods, kustomize resources that exist, and
// workers that read the shared config, expose probes and stop gracefully.
func TestKubernetesManifests(t *testing.T) {
	var files []string
	require.NoError(t, filepath.WalkDir("k8s", func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return err
	}))
	require.GreaterOrEqual(t, len(files), 8)
	workloads := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for doc := 0; ; doc++ {
			var obj k8sObject
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "%s document %d", file, doc)
			want, ok := knownKinds[obj.Kind]
			require.True(t, ok, "%s: kind %q", file, obj.Kind)
			require.Equal(t, want, obj.APIVersion, "%s: %s", file, obj.Kind)
			if obj.Kind == "Kustomization" {
				for _, r := range obj.Resources {
					_, err := os.Stat(filepath.Join(filepath.Dir(file), r))
					require.NoError(t, err, "%s lists %s", file, r)
				}
				continue
			}
			require.Regexp(t, `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, obj.Metadata.Name, file)
			if obj.Kind != "Deployment" && obj.Kind != "StatefulSet" {
				continue
			}
			workloads++
			for k, v := range obj.Spec.Selector.MatchLabels {
				require.Equal(t, v, obj.Spec.Template.Metadata.Labels[k], "%s: the selector matches its pods", obj.Metadata.Name)
			}
			if obj.Kind == "StatefulSet" {
				require.Equal(t, obj.Metadata.Name, obj.Spec.ServiceName, "pods are named <statefulset>-<n>: the node names runners.yaml lists")
			}
			pod := obj.Spec.Template.Spec
			for _, c := range pod.Containers {
				require.NotEmpty(t, c.Image)
				require.NotEmpty(t, c.ReadinessProbe, "%s/%s has a readiness probe", obj.Metadata.Name, c.Name)
				require.NotEmpty(t, c.LivenessProbe)
				require.NotEmpty(t, c.Resources.Requests)
				var refs []string
				for _, e := range c.EnvFrom {
					if e.ConfigMapRef != nil {
						refs = append(refs, e.ConfigMapRef.Name)
					}
					if e.SecretRef != nil {
						refs = append(refs, e.SecretRef.Name)
					}
				}
				require.ElementsMatch(t, []string{"infersweep-env", "infersweep-secrets"}, refs)
				if c.Args[0] == "worker" {
					require.GreaterOrEqual(t, pod.TerminationGracePeriodSeconds, 60, "longer than the worker's teardown wait")
					require.Contains(t, c.Args, "--metrics-addr")
				}
				if slices.Contains(c.Args, "--pool") {
					require.Contains(t, c.Args, "$(POD_NAME)", "a pool node is named after its pod")
				}
			}
		}
	}
	require.Equal(t, 4, workloads, "control, serve and two pools")
}

// TestDockerfile checks what a build here cannot: the binary path the
// compose health checks and Kubernetes exec, the non-root user, a static
// build, and the Go image go.mod names.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	df := string(data)
	require.Contains(t, df, "CGO_ENABLED=0 go build")
	require.Contains(t, df, "./cmd/infersweep")
	require.Contains(t, df, "-X github.com/infersweep/infersweep/workers.stampedVersion=${VERSION}")
	require.Contains(t, df, "COPY --from=build /out/infersweep /usr/local/bin/infersweep")
	require.Regexp(t, `(?m)^USER 65532:65532$`, df)
	require.Regexp(t, `(?m)^ENTRYPOINT \["/usr/local/bin/infersweep"\]$`, df)
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	require.Equal(t, "gcr.io/distroless/static-debian12:nonroot", stages[len(stages)-1][1], "the default target is the small one")

	mod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	// The exact Go of go.mod, patch included, so the image builds with
	// the Go that CI checked.
	goVersion := regexp.MustCompile(`(?m)^go (\S+)`).FindStringSubmatch(string(mod))[1]
	require.Equal(t, "golang:"+goVersion+"-bookworm", stages[0][1])
	require.Regexp(t, `(?m)^ENV GOTOOLCHAIN=go`+regexp.QuoteMeta(goVersion)+`$`, df)
	stamp, err := os.ReadFile("../workers/version.go")
	require.NoError(t, err)
	require.Contains(t, string(stamp), "var stampedVersion string", "the -X flag names a variable that exists")
}

// TestSlurmUnit checks the unit starts the slurm backend with the
// variables its env example sets.
func TestSlurmUnit(t *testing.T) {
	unit, err := os.ReadFile("slurm/infersweep-pool@.service")
	require.NoError(t, err)
	env, err := os.ReadFile("slurm/env.example")
	require.NoError(t, err)
	require.Contains(t, string(unit), "--backend slurm")
	require.Contains(t, string(unit), "--node %i")
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)\}`).FindAllStringSubmatch(string(unit), -1) {
		require.Regexp(t, "(?m)^"+m[1]+"=", string(env), "%s is used by the unit", m[1])
	}
}
