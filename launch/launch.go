// Package launch starts and stops inference engines on a node: the engine
// command for each framework (recipes) and the backends that run it: a
// child process group tied to the worker (local), a container through the
// docker CLI (BuildImage makes the simulated engine's image), or a Slurm
// job through sbatch and srun, with pyxis containers where the cluster has
// pyxis. Engines that outlive their worker carry its node (Spec.Labels) so
// the node's next worker removes them (Reaper).
package launch

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/infersweep/infersweep/sweep"
)

// Spec is one engine to start for one point.
type Spec struct {
	Point sweep.Point
	// Name identifies the engine (container or job name); derived from
	// the lease (EngineName).
	Name string
	// Node is the node worker that starts the engine and Lease the lease
	// it runs under: backends whose engines outlive a worker tag them with
	// both (Labels), so the node's next worker finds its leftovers exactly.
	Node  string
	Lease string
	Port  int
	// TimeScale speeds up the simulated engine; real engines ignore it.
	TimeScale float64
	// ExtraArgs and Env come from the settings file, per framework or entry.
	ExtraArgs []string
	Env       map[string]string
}

// Command is a recipe's result: what to execute.
type Command struct {
	Args []string
	Env  []string
}

// ErrUnsupportedFramework means no recipe knows how to start the framework.
var ErrUnsupportedFramework = errors.New("no engine recipe for framework")

// Recipe builds the engine command for a point, as InferenceMAX's runner
// scripts do. self is this binary, for the simulated engine.
func Recipe(spec Spec, self string) (Command, error) {
	p := spec.Point
	var args []string
	switch p.Framework {
	case "sim":
		args = []string{self, "engine", "sim", "--model", simModel(p.Model), "--hardware", simHardware(p.Runner),
			"--precision", p.Precision, "--tp", strconv.Itoa(p.TP), "--port", strconv.Itoa(spec.Port),
			"--max-num-seqs", strconv.Itoa(max(p.Conc, 1)), "--max-model-len", strconv.Itoa(p.MaxModelLen),
			"--served-model-name", p.Model, "--time-scale", strconv.FormatFloat(spec.TimeScale, 'g', -1, 64), "--log-level", "info",
			// Each engine its own dice, from its unique name: faults drawn
			// from a --fault-plan in the settings differ between engines.
			"--seed", strconv.FormatUint(nameSeed(spec.Name), 10)}
	case "vllm":
		args = []string{"vllm", "serve", p.Model, "--port", strconv.Itoa(spec.Port), "--tensor-parallel-size", strconv.Itoa(p.TP),
			"--max-num-seqs", strconv.Itoa(p.Conc), "--max-model-len", strconv.Itoa(p.MaxModelLen), "--gpu-memory-utilization", "0.9",
			"--no-enable-prefix-caching", "--max-num-batched-tokens", "8192"}
		if p.Precision == "fp8" {
			args = append(args, "--kv-cache-dtype", "fp8")
		}
	case "sglang":
		args = []string{"python3", "-m", "sglang.launch_server", "--model-path", p.Model, "--port", strconv.Itoa(spec.Port),
			"--tp", strconv.Itoa(p.TP), "--disable-radix-cache", "--mem-fraction-static", "0.82"}
		if p.EP > 1 {
			args = append(args, "--ep-size", strconv.Itoa(p.EP))
		}
		if p.DPAttn {
			args = append(args, "--enable-dp-attention", "--dp", strconv.Itoa(p.TP))
		}
	case "trt":
		args = []string{"trtllm-serve", p.Model, "--port", strconv.Itoa(spec.Port), "--tp_size", strconv.Itoa(p.TP),
			"--ep_size", strconv.Itoa(p.EP), "--max_seq_len", strconv.Itoa(p.MaxModelLen), "--max_batch_size", strconv.Itoa(p.Conc)}
	default:
		return Command{}, fmt.Errorf("%w %q", ErrUnsupportedFramework, p.Framework)
	}
	cmd := Command{Args: append(args, spec.ExtraArgs...)}
	for k, v := range spec.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd, nil
}

func nameSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// simHardware maps a runner label like sim-h100 to the sim's catalogue.
func simHardware(runner string) string {
	return strings.TrimPrefix(runner, "sim-")
}

// simModel maps a Hugging Face id to the sim's catalogue name.
func simModel(model string) string {
	name := strings.ToLower(model[strings.LastIndex(model, "/")+1:])
	for _, suffix := range []string{"-instruct", "-0528"} {
		name = strings.TrimSuffix(name, suffix)
	}
	return name
}

// Engine is a started engine.
type Engine struct {
	BaseURL string
	Model   string
	// StartupSeconds is from launch to ready, wall clock.
	StartupSeconds float64
	// ImageDigest is the container image's digest, when the backend knows it.
	ImageDigest string
	Placement   Placement
	stop        func(context.Context) (string, error)
}

// Placement is where a backend ran an engine, recorded with its points:
// the host serving it, the backend's handle for it (container id, Slurm
// job id) and the Slurm partition.
type Placement struct {
	Host      string
	Job       string
	Partition string
}

// Stop ends the engine and returns the tail of its log.
func (e *Engine) Stop(ctx context.Context) (string, error) { return e.stop(ctx) }

// FailureKind tells a sweep whether retrying elsewhere can help.
type FailureKind string

const (
	// ConfigFailure: the engine refused this configuration (out of memory
	// at this TP, a bad flag). Another node would refuse it too.
	ConfigFailure FailureKind = "config"
	// NodeFailure: the engine or node broke. Another node may succeed.
	NodeFailure FailureKind = "node"
)

// StartError is an engine that did not become ready.
type StartError struct {
	Kind    FailureKind
	Msg     string
	LogTail string
}

func (e *StartError) Error() string {
	return fmt.Sprintf("engine start failed (%s): %s\n--- last lines of the engine log ---\n%s", e.Kind, e.Msg, e.LogTail)
}

// configFailureMarkers in an engine's log mean the configuration itself
// cannot run; anything else is blamed on the node.
var configFailureMarkers = []string{"out of memory", "OutOfMemoryError", "invalid argument", "unrecognized arguments", "is not in the catalogue", "not supported"}

// Classify decides what an engine's death during startup means.
func Classify(logTail string) FailureKind {
	lower := strings.ToLower(logTail)
	for _, m := range configFailureMarkers {
		if strings.Contains(lower, strings.ToLower(m)) {
			return ConfigFailure
		}
	}
	return NodeFailure
}

// readyPoll is how often readiness is checked.
const readyPoll = 100 * time.Millisecond

// Attached "starts" an engine that is already running at BaseURL, for
// benchmarking the orchestration itself or a server managed elsewhere.
type Attached struct {
	BaseURL string
}

// Start returns the running engine; Stop leaves it running.
func (a Attached) Start(_ context.Context, spec Spec) (*Engine, error) {
	return &Engine{BaseURL: a.BaseURL, Model: spec.Point.Model, stop: func(context.Context) (string, error) { return "", nil }}, nil
}
