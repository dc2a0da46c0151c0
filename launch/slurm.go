package launch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Slurm runs engines as Slurm jobs, one node each: in a pyxis container
// (srun --container-image) as InferenceMAX's Slurm runners do when the
// cluster has pyxis, else as a bare command installed on the nodes. The
// simulated engine always runs bare, from Self.
type Slurm struct {
	Exec Runner
	// Self is the infersweep binary as the compute nodes see it, for the
	// sim; default this process's executable, which is right when the
	// nodes share the worker's filesystem or install.
	Self string
	// LogDir holds the jobs' output files. Stop reads an engine's log
	// tail from it, so on a real cluster it must be on a filesystem the
	// nodes share with the worker. Default os.TempDir().
	LogDir          string
	Partition       string
	Account         string
	TimeLimit       string // default 04:00:00
	ContainerMounts string
	// Poll is the longest wait between checks of a job's state, default
	// 2 s. Checks start at 100 ms and double up to Poll: a job that starts
	// at once is seen at once, one that queues for an hour costs the
	// controller a call every Poll.
	Poll time.Duration

	pyxis pyxisProbe
}

// pyxisProbe remembers whether srun has pyxis's --container-image: the
// answer is the cluster's, asked once per Slurm value.
type pyxisProbe struct {
	mu    sync.Mutex
	known bool
	has   bool
}

// commentKey tags each job with the node worker that submitted it, so the
// node's next worker reaps exactly its own leftovers (LabelNode).
const commentKey = LabelNode + "="

// Start submits the engine job, waits for it to run and answer /health.
func (s *Slurm) Start(ctx context.Context, spec Spec) (*Engine, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("slurm backend: the engine needs a name")
	}
	wrap, files, err := s.wrap(ctx, &spec)
	if err != nil {
		return nil, err
	}
	// The engine has read its files once it serves (or failed to).
	defer os.RemoveAll(s.filesDir(spec))
	if err := writeFiles(files.placed); err != nil {
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
	}
	command := files.command
	logFile := filepath.Join(s.logDir(), spec.Name+".log")
	started := time.Now()
	out, err := s.Exec.Run(ctx, "sbatch", s.sbatchArgs(spec, logFile, wrap)...)
	if err != nil {
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	j := newSlurmJob(s, id, logFile)
	j.markers = command.ConfigFailures
	info, err := j.waitRunning(ctx)
	if err != nil {
		return nil, j.failed(ctx, info, err)
	}
	addr, err := j.nodeAddr(ctx, info.Node)
	if err != nil {
		return nil, j.failed(ctx, info, err)
	}
	engine := &Engine{
		BaseURL:   fmt.Sprintf("http://%s:%d", addr, spec.Port),
		Model:     spec.Point.Model,
		Placement: Placement{Host: info.Node, Job: id, Partition: info.Partition},
		stop:      j.stop,
	}
	if err := waitHealthy(ctx, command.readyURL(engine.BaseURL), j.running); err != nil {
		return nil, j.failed(ctx, info, err)
	}
	engine.StartupSeconds = time.Since(started).Seconds()
	return engine, nil
}

// jobLaunch is what a job runs: the command, and its files to write
// where the nodes read them.
type jobLaunch struct {
	command Command
	placed  map[string]string
}

// wrap builds the job's srun line and what it runs; it settles spec's
// port. It writes nothing.
func (s *Slurm) wrap(ctx context.Context, spec *Spec) (string, jobLaunch, error) {
	if spec.Port == 0 {
		// Emulated nodes share one host, so a fixed port collides when two
		// jobs run at once; on a real cluster each engine has its node to
		// itself (--exclusive), where a port free here is as good as any.
		port, err := freePort()
		if err != nil {
			return "", jobLaunch{}, err
		}
		spec.Port = port
	}
	self, err := s.self()
	if err != nil {
		return "", jobLaunch{}, err
	}
	// The engine serves the worker from another machine, so it listens
	// beyond loopback (InferenceX's recipes say 0.0.0.0 themselves).
	command, err := Render(*spec, self, "0.0.0.0")
	if err != nil {
		return "", jobLaunch{}, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	// Files go beside the job's log, on the filesystem the nodes share.
	placed := command.PlaceFiles(s.filesDir(*spec))
	srun := []string{"srun"}
	if spec.Point.Framework != "sim" {
		pyxis, err := s.hasPyxis(ctx)
		if err != nil {
			return "", jobLaunch{}, &StartError{Kind: NodeFailure, Msg: err.Error()}
		}
		if pyxis {
			srun = append(srun, "--container-image="+command.Image)
			mounts := slices.Clone(command.Mounts)
			if s.ContainerMounts != "" {
				mounts = append([]string{s.ContainerMounts}, mounts...)
			}
			if len(command.Files) > 0 {
				mounts = append(mounts, s.filesDir(*spec)+":"+s.filesDir(*spec))
			}
			if len(mounts) > 0 {
				srun = append(srun, "--container-mounts="+strings.Join(mounts, ","))
			}
		}
	}
	if len(command.Env) > 0 {
		srun = append(srun, "--export=ALL,"+strings.Join(command.Env, ","))
	}
	return shellJoin(append(srun, command.Args...)), jobLaunch{command: command, placed: placed}, nil
}

func (s *Slurm) sbatchArgs(spec Spec, logFile, wrap string) []string {
	limit := s.TimeLimit
	if limit == "" {
		limit = "04:00:00"
	}
	args := []string{"--parsable", "--job-name", spec.Name, "--nodes", "1"}
	// The sim needs no GPU, and clusters without GRES (the local one)
	// refuse a job asking for one.
	if spec.Point.Framework != "sim" {
		args = append(args, "--gres", fmt.Sprintf("gpu:%d", max(spec.Point.GPUs, 1)))
	}
	// A benchmarked engine owns its node. Slurm requeues a job whose node
	// failed by default; the sweep retries the point elsewhere instead.
	args = append(args, "--exclusive", "--no-requeue", "--time", limit, "--output", logFile, "--comment", commentKey+spec.Node)
	if s.Partition != "" {
		args = append(args, "--partition", s.Partition)
	}
	if s.Account != "" {
		args = append(args, "--account", s.Account)
	}
	return append(args, "--wrap", wrap)
}

func (s *Slurm) filesDir(spec Spec) string {
	return filepath.Join(s.logDir(), spec.Name+".files")
}

func (s *Slurm) self() (string, error) {
	if s.Self != "" {
		return s.Self, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("slurm backend: find this binary for the nodes (set Self): %w", err)
	}
	return self, nil
}

func (s *Slurm) logDir() string {
	if s.LogDir != "" {
		return s.LogDir
	}
	return os.TempDir()
}

// hasPyxis asks srun once whether pyxis's container options are there; a
// failed probe is not remembered, so the next start asks again.
func (s *Slurm) hasPyxis(ctx context.Context) (bool, error) {
	s.pyxis.mu.Lock()
	defer s.pyxis.mu.Unlock()
	if s.pyxis.known {
		return s.pyxis.has, nil
	}
	help, err := s.Exec.Run(ctx, "srun", "--help")
	if err != nil {
		return false, fmt.Errorf("slurm backend: look for pyxis: %w", err)
	}
	s.pyxis.known, s.pyxis.has = true, strings.Contains(help, "--container-image")
	return s.pyxis.has, nil
}

// Reap cancels the jobs a dead worker of node left: those whose comment
// names exactly that node. It looks at every job it can see, not only its
// user's, as a node's worker may have run under another account before.
func (s *Slurm) Reap(ctx context.Context, node string) (int, error) {
	out, err := s.Exec.Run(ctx, "squeue", "-h", "-o", "%i %k")
	if err != nil {
		return 0, err
	}
	var jobs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if id, comment, ok := strings.Cut(strings.TrimSpace(line), " "); ok && strings.TrimSpace(comment) == commentKey+node {
			jobs = append(jobs, id)
		}
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	_, err = s.Exec.Run(ctx, "scancel", jobs...)
	return len(jobs), err
}
