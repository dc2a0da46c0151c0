package launch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The Kubernetes objects the backend applies, typed as far as it fills
// them: marshalled by yaml, so quoting and nesting are the encoder's
// business and never a template's. Only the fields used are declared;
// k8s.io/api would pull a large dependency tree for a handful of fields.

type kObject struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   kMeta             `yaml:"metadata"`
	Spec       any               `yaml:"spec,omitempty"`
	Data       map[string]string `yaml:"data,omitempty"`
}

type kMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type kPodTemplate struct {
	Metadata kTemplateMeta `yaml:"metadata"`
	Spec     kPodSpec      `yaml:"spec"`
}

type kTemplateMeta struct {
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type kPodSpec struct {
	RestartPolicy                 string       `yaml:"restartPolicy,omitempty"`
	ServiceAccountName            string       `yaml:"serviceAccountName,omitempty"`
	ImagePullSecrets              []kName      `yaml:"imagePullSecrets,omitempty"`
	TerminationGracePeriodSeconds *int64       `yaml:"terminationGracePeriodSeconds,omitempty"`
	Containers                    []kContainer `yaml:"containers"`
	Volumes                       []kVolume    `yaml:"volumes,omitempty"`
}

type kName struct {
	Name string `yaml:"name"`
}

type kContainer struct {
	Name           string         `yaml:"name"`
	Image          string         `yaml:"image"`
	Command        []string       `yaml:"command"`
	Env            []kEnv         `yaml:"env,omitempty"`
	Ports          []kPort        `yaml:"ports,omitempty"`
	Resources      *kResources    `yaml:"resources,omitempty"`
	ReadinessProbe *kProbe        `yaml:"readinessProbe,omitempty"`
	VolumeMounts   []kVolumeMount `yaml:"volumeMounts,omitempty"`
}

type kEnv struct {
	Name      string        `yaml:"name"`
	Value     string        `yaml:"value,omitempty"`
	ValueFrom *kEnvFromPath `yaml:"valueFrom,omitempty"`
}

// kEnvFromPath is the downward API: a pod's own label as a variable.
type kEnvFromPath struct {
	FieldRef struct {
		FieldPath string `yaml:"fieldPath"`
	} `yaml:"fieldRef"`
}

type kPort struct {
	Name          string `yaml:"name,omitempty"`
	ContainerPort int    `yaml:"containerPort,omitempty"`
	Port          int    `yaml:"port,omitempty"`
	TargetPort    int    `yaml:"targetPort,omitempty"`
}

type kResources struct {
	Requests map[string]string `yaml:"requests"`
	Limits   map[string]string `yaml:"limits"`
}

type kProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
	PeriodSeconds    int `yaml:"periodSeconds"`
	FailureThreshold int `yaml:"failureThreshold"`
}

type kVolume struct {
	Name      string     `yaml:"name"`
	ConfigMap *kName     `yaml:"configMap,omitempty"`
	EmptyDir  *kEmptyDir `yaml:"emptyDir,omitempty"`
}

type kEmptyDir struct {
	Medium    string `yaml:"medium,omitempty"`
	SizeLimit string `yaml:"sizeLimit,omitempty"`
}

type kVolumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	SubPath   string `yaml:"subPath,omitempty"`
	ReadOnly  bool   `yaml:"readOnly,omitempty"`
}

type kServiceSpec struct {
	ClusterIP                string            `yaml:"clusterIP,omitempty"`
	PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses,omitempty"`
	Selector                 map[string]string `yaml:"selector"`
	Ports                    []kPort           `yaml:"ports,omitempty"`
}

type kSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type kDeploymentSpec struct {
	Replicas int          `yaml:"replicas"`
	Selector kSelector    `yaml:"selector"`
	Template kPodTemplate `yaml:"template"`
}

type kStatefulSetSpec struct {
	Replicas            int          `yaml:"replicas"`
	ServiceName         string       `yaml:"serviceName"`
	PodManagementPolicy string       `yaml:"podManagementPolicy"`
	Selector            kSelector    `yaml:"selector"`
	Template            kPodTemplate `yaml:"template"`
}

type kLWSSpec struct {
	Replicas             int    `yaml:"replicas"`
	StartupPolicy        string `yaml:"startupPolicy"`
	LeaderWorkerTemplate struct {
		Size           int          `yaml:"size"`
		RestartPolicy  string       `yaml:"restartPolicy"`
		WorkerTemplate kPodTemplate `yaml:"workerTemplate"`
	} `yaml:"leaderWorkerTemplate"`
}

// marshalManifest is objects as one multi-document YAML stream, as
// `kubectl apply -f -` reads it.
func marshalManifest(objects []kObject) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, o := range objects {
		if err := enc.Encode(o); err != nil {
			return "", err
		}
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

var (
	labelUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
	dnsUnsafe   = regexp.MustCompile(`[^a-z0-9-]+`)
)

// labelValue fits v to a Kubernetes label value (63 characters of
// [A-Za-z0-9_.-], alphanumeric at both ends). A value changed to fit
// gets a hash of the original: leases a/b and a-b must not share one.
func labelValue(v string) string {
	clean := strings.Trim(labelUnsafe.ReplaceAllString(v, "-"), "-_.")
	if clean == v && len(v) <= 63 {
		return v
	}
	return withHash(clean, v, 63, "-_.")
}

// dnsName fits v to an RFC 1123 label of at most limit characters, as
// object names (and the pod host names derived from them) must be.
func dnsName(v string, limit int) string {
	clean := strings.Trim(dnsUnsafe.ReplaceAllString(strings.ToLower(v), "-"), "-")
	if clean == v && len(v) <= limit && v != "" {
		return v
	}
	return withHash(clean, v, limit, "-")
}

// withHash is clean cut to fit limit with a short hash of original.
func withHash(clean, original string, limit int, trim string) string {
	sum := sha256.Sum256([]byte(original))
	hash := hex.EncodeToString(sum[:])[:10]
	keep := min(len(clean), limit-len(hash)-1)
	head := strings.TrimRight(clean[:keep], trim)
	if head == "" {
		return hash
	}
	return head + "-" + hash
}

// kubeLabels are spec's labels made valid for Kubernetes, and the
// annotations that keep the values that had to change.
func kubeLabels(spec Spec) (labels, annotations map[string]string) {
	labels, annotations = map[string]string{}, map[string]string{}
	for k, v := range spec.Labels() {
		labels[k] = labelValue(v)
		if labels[k] != v {
			annotations[k] = v
		}
	}
	return labels, annotations
}

// with is labels plus the pairs kv.
func with(labels map[string]string, kv ...string) map[string]string {
	out := maps.Clone(labels)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// envVars turns KEY=value pairs into container variables.
func envVars(env []string) []kEnv {
	var out []kEnv
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, kEnv{Name: k, Value: v})
	}
	return out
}

// fromLabel is a variable holding one of the pod's own labels.
func fromLabel(name, label string) kEnv {
	e := kEnv{Name: name, ValueFrom: &kEnvFromPath{}}
	e.ValueFrom.FieldRef.FieldPath = "metadata.labels['" + label + "']"
	return e
}

// filesConfigMap holds a command's files under keys a ConfigMap takes,
// and the mounts that put each at its path; nil when there are none.
func filesConfigMap(meta kMeta, files map[string]string) (*kObject, []kVolumeMount) {
	if len(files) == 0 {
		return nil, nil
	}
	cm := &kObject{APIVersion: "v1", Kind: "ConfigMap", Metadata: meta, Data: map[string]string{}}
	var mounts []kVolumeMount
	for i, path := range slices.Sorted(maps.Keys(files)) {
		key := strconv.Itoa(i) + "-" + labelValue(path[strings.LastIndexByte(path, '/')+1:])
		cm.Data[key] = files[path]
		mounts = append(mounts, kVolumeMount{Name: "files", MountPath: path, SubPath: key, ReadOnly: true})
	}
	return cm, mounts
}
