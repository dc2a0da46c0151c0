package launch

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
