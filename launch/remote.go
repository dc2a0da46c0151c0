package launch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Runner executes a command and returns its combined output. Docker and
// Slurm backends drive their CLIs through it, so tests can inject a fake
// and check the exact commands (no Docker engine or Slurm exists here).
type Runner interface {
	Run(ctx context.Context, name string, args ...string) (string, error)
}

// ExecRunner runs commands for real.
type ExecRunner struct{}

// Run executes name with args.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Reaper removes engines a dead worker left behind, by name prefix.
type Reaper interface {
	Reap(ctx context.Context, prefix string) (int, error)
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// EngineName derives a container or job name from a lease, so a pool can
// find and remove what a dead worker left behind.
func EngineName(leaseID string) string {
	return "infersweep-" + strings.Trim(unsafeName.ReplaceAllString(leaseID, "-"), "-")
}

// Docker runs engines as containers through the docker CLI.
type Docker struct {
	Exec    Runner
	Host    string // where published ports are reached; default 127.0.0.1
	ShmSize string // default 16g, as InferenceMAX's runners use
}

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
	command, err := Recipe(spec, "infersweep")
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	shm := d.ShmSize
	if shm == "" {
		shm = "16g"
	}
	args := []string{"run", "-d", "--name", spec.Name, "--gpus", "all", "--ipc=host", "--shm-size", shm,
		"-p", fmt.Sprintf("%d:%d", spec.Port, spec.Port)}
	for _, kv := range command.Env {
		args = append(args, "-e", kv)
	}
	args = append(args, spec.Point.Image)
	args = append(args, command.Args...)
	started := time.Now()
	if _, err := d.Exec.Run(ctx, "docker", args...); err != nil {
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
	}
	logs := func(ctx context.Context) string {
		out, _ := d.Exec.Run(ctx, "docker", "logs", "--tail", strconv.Itoa(logTailLines), spec.Name)
		return out
	}
	stop := func(ctx context.Context) (string, error) {
		tail := logs(ctx)
		_, err := d.Exec.Run(ctx, "docker", "rm", "-f", spec.Name)
		return tail, err
	}
	host := d.Host
	if host == "" {
		host = "127.0.0.1"
	}
	engine := &Engine{BaseURL: fmt.Sprintf("http://%s:%d", host, spec.Port), Model: spec.Point.Model, stop: stop}
	running := func(ctx context.Context) bool {
		out, err := d.Exec.Run(ctx, "docker", "inspect", "-f", "{{.State.Running}}", spec.Name)
		return err == nil && strings.TrimSpace(out) == "true"
	}
	if err := waitHealthy(ctx, engine.BaseURL, running); err != nil {
		tail, _ := stop(context.WithoutCancel(ctx))
		return nil, &StartError{Kind: startKind(err, tail), Msg: err.Error(), LogTail: tail}
	}
	engine.StartupSeconds = time.Since(started).Seconds()
	if digest, err := d.Exec.Run(ctx, "docker", "inspect", "-f", "{{index .RepoDigests 0}}", spec.Point.Image); err == nil {
		engine.ImageDigest = strings.TrimSpace(digest)
	}
	return engine, nil
}

// Reap removes every container named with prefix: what workers that died
// left running.
func (d *Docker) Reap(ctx context.Context, prefix string) (int, error) {
	out, err := d.Exec.Run(ctx, "docker", "ps", "-a", "-q", "--filter", "name=^"+prefix)
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

// Slurm runs engines as Slurm jobs with pyxis containers, as InferenceMAX's
// Slurm runners do.
type Slurm struct {
	Exec            Runner
	Partition       string
	Account         string
	TimeLimit       string // default 04:00:00
	ContainerMounts string
	// Poll is how often the job's state is checked; default 2 s.
	Poll time.Duration
}

// Start submits the engine job, waits for it to run and answer /health.
func (s *Slurm) Start(ctx context.Context, spec Spec) (*Engine, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("slurm backend: the engine needs a name")
	}
	if spec.Port == 0 {
		spec.Port = 8000
	}
	command, err := Recipe(spec, "infersweep")
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	limit := s.TimeLimit
	if limit == "" {
		limit = "04:00:00"
	}
	srun := []string{"srun", "--container-image=" + spec.Point.Image}
	if s.ContainerMounts != "" {
		srun = append(srun, "--container-mounts="+s.ContainerMounts)
	}
	if len(command.Env) > 0 {
		srun = append(srun, "--export=ALL,"+strings.Join(command.Env, ","))
	}
	srun = append(srun, command.Args...)
	args := []string{"--parsable", "--job-name", spec.Name, "--nodes", "1", "--gres", fmt.Sprintf("gpu:%d", max(spec.Point.GPUs, 1)),
		"--exclusive", "--time", limit, "--output", spec.Name + ".log"}
	if s.Partition != "" {
		args = append(args, "--partition", s.Partition)
	}
	if s.Account != "" {
		args = append(args, "--account", s.Account)
	}
	args = append(args, "--wrap", shellJoin(srun))
	started := time.Now()
	out, err := s.Exec.Run(ctx, "sbatch", args...)
	if err != nil {
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
	}
	job := strings.TrimSpace(strings.Split(strings.TrimSpace(out), ";")[0])
	stop := func(ctx context.Context) (string, error) {
		tail, _ := s.Exec.Run(ctx, "tail", "-n", strconv.Itoa(logTailLines), spec.Name+".log")
		_, err := s.Exec.Run(ctx, "scancel", job)
		return tail, err
	}
	poll := s.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	// Wait for the job to be placed, then reach the engine on its node.
	var node string
	for node == "" {
		state, err := s.Exec.Run(ctx, "squeue", "-h", "-j", job, "-o", "%T %N")
		fields := strings.Fields(state)
		switch {
		case err != nil || len(fields) == 0:
			tail, _ := stop(context.WithoutCancel(ctx))
			return nil, &StartError{Kind: startKind(errEngineExited, tail), Msg: fmt.Sprintf("job %s ended before it ran", job), LogTail: tail}
		case fields[0] == "RUNNING" && len(fields) > 1:
			node = fields[1]
		}
		if node == "" {
			select {
			case <-ctx.Done():
				tail, _ := stop(context.WithoutCancel(ctx))
				return nil, &StartError{Kind: NodeFailure, Msg: fmt.Sprintf("job %s still %s: %v", job, fields[0], ctx.Err()), LogTail: tail}
			case <-time.After(poll):
			}
		}
	}
	engine := &Engine{BaseURL: fmt.Sprintf("http://%s:%d", node, spec.Port), Model: spec.Point.Model, stop: stop}
	running := func(ctx context.Context) bool {
		out, err := s.Exec.Run(ctx, "squeue", "-h", "-j", job, "-o", "%T")
		return err == nil && strings.TrimSpace(out) == "RUNNING"
	}
	if err := waitHealthy(ctx, engine.BaseURL, running); err != nil {
		tail, _ := stop(context.WithoutCancel(ctx))
		return nil, &StartError{Kind: startKind(err, tail), Msg: err.Error(), LogTail: tail}
	}
	engine.StartupSeconds = time.Since(started).Seconds()
	return engine, nil
}

// Reap cancels every job whose name starts with prefix.
func (s *Slurm) Reap(ctx context.Context, prefix string) (int, error) {
	out, err := s.Exec.Run(ctx, "squeue", "-h", "--me", "-o", "%i %j")
	if err != nil {
		return 0, err
	}
	var jobs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if id, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok && strings.HasPrefix(name, prefix) {
			jobs = append(jobs, id)
		}
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	_, err = s.Exec.Run(ctx, "scancel", jobs...)
	return len(jobs), err
}

var errEngineExited = errors.New("engine exited before it was ready")

// startKind blames the config when the engine died saying so, else the node.
func startKind(err error, tail string) FailureKind {
	if errors.Is(err, errEngineExited) {
		return Classify(tail)
	}
	return NodeFailure
}

// waitHealthy polls /health until 200, the engine stops running, or ctx ends.
func waitHealthy(ctx context.Context, baseURL string, running func(context.Context) bool) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if resp, err := client.Get(baseURL + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !running(ctx) {
			return errEngineExited
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// shellJoin quotes args for --wrap, which Slurm runs through sh.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"$`\\\\;&|<>()*?[]{}~#") {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
