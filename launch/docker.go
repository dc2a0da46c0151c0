package launch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Docker runs engines as containers through the docker CLI.
type Docker struct {
	Exec Runner
	// Host is where engines are reached; default 127.0.0.1.
	Host string
	// ShmSize is default 16g, as InferenceMAX's runners use.
	ShmSize string
	// SimImage runs simulated engines; default DefaultSimImage, which
	// `infersweep image build` (BuildImage) makes from this binary.
	SimImage string
}

// removeTimeout bounds a container's removal, which runs even when the
// caller's context has ended.
const removeTimeout = time.Minute

// Start runs the engine container and waits for /health.
func (d *Docker) Start(ctx context.Context, spec Spec) (*Engine, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("docker backend: the engine needs a name")
	}
	if spec.Port == 0 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		spec.Port = port
	}
	host := cmp.Or(d.Host, "127.0.0.1")
	// The simulator listens where the load generator is told to find it.
	command, err := Render(spec, "infersweep", host)
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	image := command.Image
	sim := spec.Point.Framework == "sim"
	if sim {
		image = cmp.Or(d.SimImage, DefaultSimImage)
	}
	var mounts []string
	if len(command.Files) > 0 {
		dir, err := os.MkdirTemp("", spec.Name+"-files-")
		if err != nil {
			return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
		}
		defer os.RemoveAll(dir) // read by the engine before it serves
		placed := map[string]string{}
		mounts, placed = mountFiles(command.Files, dir)
		if err := writeFiles(placed); err != nil {
			return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
		}
	}
	started := time.Now()
	out, err := d.Exec.Run(ctx, "docker", d.runArgs(spec, sim, image, command, mounts)...)
	if err != nil {
		// A container created but not started (no GPU runtime, say) would
		// hold the name. Without -f a running one, another engine's, stays;
		// unless ctx cut the run short, when what runs is the one it started.
		rm := []string{"rm", spec.Name}
		if ctx.Err() != nil {
			rm = []string{"rm", "-f", spec.Name}
		}
		_, _ = d.Exec.Run(context.WithoutCancel(ctx), "docker", rm...)
		msg := err.Error()
		if sim && ctx.Err() == nil {
			msg += fmt.Sprintf("\n(the simulator's image is built with `infersweep image build --tag %s`)", image)
		}
		return nil, &StartError{Kind: NodeFailure, Msg: msg}
	}
	c := &container{exec: d.Exec, name: spec.Name, markers: command.ConfigFailures}
	engine := &Engine{
		BaseURL:   fmt.Sprintf("http://%s:%d", host, spec.Port),
		Model:     spec.Point.Model,
		Placement: Placement{Host: host, Job: containerID(out)},
		stop:      c.stop,
	}
	if err := waitHealthy(ctx, command.readyURL(engine.BaseURL), c.running); err != nil {
		return nil, c.startError(ctx, err)
	}
	engine.StartupSeconds = time.Since(started).Seconds()
	engine.ImageDigest = d.imageDigest(ctx, image, spec.Name)
	return engine, nil
}

// runArgs is the docker run command line: labels and environment sorted,
// so the same spec always gives the same command.
func (d *Docker) runArgs(spec Spec, sim bool, image string, command Command, files []string) []string {
	// Host networking, as InferenceX's runners do (runners/launch_h100-cr.sh,
	// launch_rtx6000pro-lat.sh: docker run --network=host): the engine
	// binds the port it is given on the node, with no NAT between it and
	// the load generator, and multi-node engines see the node's fabric.
	args := []string{"run", "-d", "--name", spec.Name, "--network=host"}
	if !sim {
		args = append(args, "--gpus", "all", "--ipc=host", "--shm-size", cmp.Or(d.ShmSize, "16g"))
	}
	labels := spec.Labels()
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		args = append(args, "--label", k+"="+labels[k])
	}
	for _, kv := range command.Env {
		args = append(args, "-e", kv)
	}
	for _, m := range append(slices.Clone(command.Mounts), files...) {
		args = append(args, "-v", m)
	}
	args = append(args, image)
	return append(args, command.Args...)
}

// imageDigest names what the engine ran: the registry digest of a pulled
// image, else the id of the image the container runs (one built here, by
// BuildImage, has no registry digest).
func (d *Docker) imageDigest(ctx context.Context, image, container string) string {
	if out, err := d.Exec.Run(ctx, "docker", "inspect", "-f", "{{index .RepoDigests 0}}", image); err == nil {
		return strings.TrimSpace(out)
	}
	if out, err := d.Exec.Run(ctx, "docker", "inspect", "-f", "{{.Image}}", container); err == nil {
		return strings.TrimSpace(out)
	}
	return ""
}

// Reap removes the containers a dead worker of node left behind, matched
// by their node label: a name prefix would also match node n0-x's for n0.
func (d *Docker) Reap(ctx context.Context, node string) (int, error) {
	if node == "" {
		return 0, errors.New("docker reap: the node needs a name")
	}
	out, err := d.Exec.Run(ctx, "docker", "ps", "-a", "-q", "--filter", "label="+LabelNode+"="+node)
	if err != nil {
		return 0, err
	}
	ids := strings.Fields(out)
	if len(ids) == 0 {
		return 0, nil
	}
	_, err = d.Exec.Run(ctx, "docker", append([]string{"rm", "-f"}, ids...)...)
	return len(ids), err
}

// containerID is the short id `docker run -d` printed last (a pull prints
// its progress first).
func containerID(runOutput string) string {
	lines := strings.Fields(runOutput)
	if len(lines) == 0 {
		return ""
	}
	id := lines[len(lines)-1]
	return id[:min(len(id), 12)]
}

// container is one engine's container: its log is read and it is removed
// once, however often Stop is called.
type container struct {
	exec    Runner
	name    string
	markers []string // the recipe's log lines that blame the configuration
	mu      sync.Mutex
	removed bool
	tail    string
}

func (c *container) running(ctx context.Context) bool {
	out, err := c.exec.Run(ctx, "docker", "inspect", "-f", "{{.State.Running}}", c.name)
	if err != nil {
		// A poll cut short by ctx says nothing of the container;
		// waitHealthy reports the cancellation itself.
		return ctx.Err() != nil
	}
	return strings.TrimSpace(out) == "true"
}

// stop keeps the log's tail and removes the container, also when ctx has
// ended: an activity cancelled mid-start must not leave an engine behind.
func (c *container) stop(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return c.tail, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	tail, _ := c.exec.Run(ctx, "docker", "logs", "--tail", strconv.Itoa(logTailLines), c.name)
	if _, err := c.exec.Run(ctx, "docker", "rm", "-f", c.name); err != nil {
		return tail, err
	}
	c.removed, c.tail = true, tail
	return tail, nil
}

// mountFiles are the -v mounts that put each of a launch's files, copied
// under dir on this host, at its path in the container, and what to
// write where.
func mountFiles(files map[string]string, dir string) (mounts []string, placed map[string]string) {
	placed = map[string]string{}
	copies := copiesUnder(files, dir)
	for _, path := range slices.Sorted(maps.Keys(files)) {
		placed[copies[path]] = files[path]
		mounts = append(mounts, copies[path]+":"+path+":ro")
	}
	return mounts, placed
}

// startError removes a container that did not become ready and says whom
// to blame: the config when the kernel killed it for memory or its log
// says so, else the node (a crash, or a kill from outside: exit 137, 143).
func (c *container) startError(ctx context.Context, waitErr error) *StartError {
	if !errors.Is(waitErr, errEngineExited) {
		tail, _ := c.stop(ctx)
		return &StartError{Kind: NodeFailure, Msg: waitErr.Error(), LogTail: tail}
	}
	state, stateErr := c.exec.Run(context.WithoutCancel(ctx), "docker", "inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", c.name)
	tail, _ := c.stop(ctx)
	if stateErr != nil {
		return &StartError{Kind: Classify(tail, c.markers...), Msg: fmt.Sprintf("%v (container state unknown: %v)", waitErr, stateErr), LogTail: tail}
	}
	oom, code, _ := strings.Cut(strings.TrimSpace(state), " ")
	if oom == "true" {
		return &StartError{Kind: ConfigFailure, Msg: fmt.Sprintf("%v: killed for memory by the kernel (exit code %s)", waitErr, code), LogTail: tail}
	}
	return &StartError{Kind: Classify(tail, c.markers...), Msg: fmt.Sprintf("%v (exit code %s%s)", waitErr, code, exitSignal(code)), LogTail: tail}
}

// exitSignal explains the exit codes of a kill.
func exitSignal(code string) string {
	switch code {
	case "137":
		return ": SIGKILL"
	case "143":
		return ": SIGTERM"
	}
	return ""
}
