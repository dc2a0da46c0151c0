// Package launch starts and stops inference engines on a node: the engine
// command for each framework (recipes) and the backends that run it: a
// child process group tied to the worker (local), a container through the
// docker CLI (BuildImage makes the simulated engine's image), or a Slurm
// job through sbatch and srun, with pyxis containers where the cluster has
// pyxis. Engines that outlive their worker carry its node (Spec.Labels) so
// the node's next worker removes them (Reaper).
package launch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infersweep/infersweep/recipes"
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

// Command is what a backend executes for one engine: the point's launch
// with what only this start knows filled in.
type Command struct {
	Image string
	Args  []string
	Env   []string // KEY=value, sorted
	// Files are written before the engine starts, at their paths as Args
	// name them; Mounts are host:container paths the engine needs.
	Files  map[string]string
	Mounts []string
	// ReadyPath answers 200 once the engine serves, on ReadyPort where
	// it is not the engine's own; ReadyOnStart (a control plane without a
	// ready path) says it serves once it runs.
	ReadyPath    string
	ReadyPort    int
	ReadyOnStart bool
	// ConfigFailures are log lines that blame the configuration.
	ConfigFailures []string
	StopGrace      time.Duration
}

// ErrNoRecipe means no recipe launches the point.
var ErrNoRecipe = errors.New("no engine recipe")

// Render is the point's launch for this start: its recipe as planning
// rendered it, with the settings' engine arguments, environment and
// image, or, for plans made before recipes, the shipped catalogue's with
// spec's extra arguments and environment last, so they win; then the
// port, the address to listen on and, for the simulated engine, the
// binary, time scale and seed filled in.
func Render(spec Spec, binary, host string) (Command, error) {
	if spec.Point.Multinode {
		return Command{}, fmt.Errorf("%w for a multi-node point as one engine: each role of its deployment starts apart (RenderRole)", ErrNoRecipe)
	}
	l, planned, err := pointLaunch(spec.Point)
	if err != nil {
		return Command{}, err
	}
	return fill(spec, l, planned, binary, host), nil
}

// pointLaunch is the point's planned launch or, for plans made before
// recipes, the shipped catalogue's; planned says which.
func pointLaunch(p sweep.Point) (*sweep.Launch, bool, error) {
	if p.Launch != nil {
		return p.Launch, true, nil
	}
	if !recipes.Served(p) {
		return nil, false, fmt.Errorf("%w for %s points of framework %s yet", ErrNoRecipe, pointKind(p), p.Framework)
	}
	l, err := recipes.Default().Launch(p)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrNoRecipe, err)
	}
	return l, false, nil
}

// fill is l for this start: the placeholders in its arguments,
// environment and files replaced (more are a role's, as old, new pairs)
// and, unless planning added them already, spec's extra arguments and
// environment last, so they win.
func fill(spec Spec, l *sweep.Launch, planned bool, binary, host string, more ...string) Command {
	fill := strings.NewReplacer(append([]string{recipes.PortVar, strconv.Itoa(spec.Port), recipes.HostVar, host, recipes.BinaryVar, binary,
		recipes.TimeScaleVar, strconv.FormatFloat(spec.TimeScale, 'g', -1, 64),
		// Each engine its own dice, from its unique name: faults drawn from
		// a --fault-plan in the settings differ between engines.
		recipes.SeedVar, strconv.FormatUint(nameSeed(spec.Name), 10)}, more...)...)
	cmd := Command{Image: l.Image, Files: map[string]string{}, Mounts: l.Mounts, ReadyPath: l.ReadyPath, ReadyPort: l.ReadyPort, ConfigFailures: l.ConfigFailures,
		StopGrace: time.Duration(l.StopGraceS * float64(time.Second))}
	for _, a := range l.Args {
		cmd.Args = append(cmd.Args, fill.Replace(a))
	}
	env := map[string]string{}
	for k, v := range l.Env {
		env[k] = fill.Replace(v)
	}
	if !planned {
		// A planned launch carries the settings' engine arguments already.
		cmd.Args = append(cmd.Args, spec.ExtraArgs...)
		maps.Copy(env, spec.Env)
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	for path, content := range l.Files {
		cmd.Files[path] = fill.Replace(content)
	}
	return cmd
}

func pointKind(p sweep.Point) string {
	if p.Multinode {
		return "multi-node"
	}
	return p.Scenario
}

func nameSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// readyURL is where the engine at baseURL says it serves; "" for one
// that serves once it runs.
func (c *Command) readyURL(baseURL string) string {
	if c.ReadyOnStart {
		return ""
	}
	// Base URLs end in their port; a Slurm script's hold a variable's
	// name that url.Parse would refuse.
	if i := strings.LastIndexByte(baseURL, ':'); c.ReadyPort != 0 && i > strings.Index(baseURL, "//") {
		baseURL = baseURL[:i+1] + strconv.Itoa(c.ReadyPort)
	}
	return baseURL + cmp.Or(c.ReadyPath, "/health")
}

// PlaceFiles points the arguments at copies of the command's files under
// dir, for backends that run the engine without a container to mount them
// at their own paths, and returns what to write where (writeFiles).
func (c *Command) PlaceFiles(dir string) map[string]string {
	placed := map[string]string{}
	for path, local := range copiesUnder(c.Files, dir) {
		placed[local] = c.Files[path]
		for j, a := range c.Args {
			c.Args[j] = strings.ReplaceAll(a, path, local)
		}
	}
	return placed
}

// copiesUnder names, for each file's path, its copy under dir: numbered,
// so two files of one name from different folders do not collide.
func copiesUnder(files map[string]string, dir string) map[string]string {
	local := map[string]string{}
	for i, path := range slices.Sorted(maps.Keys(files)) {
		local[path] = filepath.Join(dir, strconv.Itoa(i)+"-"+filepath.Base(path))
	}
	return local
}

// writeFiles writes placed files (path → content), making their folders.
func writeFiles(placed map[string]string) error {
	for path, content := range placed {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("write %s for the engine: %w", path, err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s for the engine: %w", path, err)
		}
	}
	return nil
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
	// running says whether the engine still runs; nil: the backend cannot
	// tell, and it is taken to run.
	running func(context.Context) bool
}

// Running says whether the engine has not exited.
func (e *Engine) Running(ctx context.Context) bool { return e.running == nil || e.running(ctx) }

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
// cannot run, whatever the engine; its recipe adds its own. Anything else
// is blamed on the node.
var configFailureMarkers = []string{"out of memory", "OutOfMemoryError", "invalid argument", "unrecognized arguments", "is not in the catalogue", "not supported"}

// Classify decides what an engine's death during startup means; markers
// are the recipe's log lines that blame the configuration.
func Classify(logTail string, markers ...string) FailureKind {
	lower := strings.ToLower(logTail)
	for _, m := range append(markers, configFailureMarkers...) {
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
