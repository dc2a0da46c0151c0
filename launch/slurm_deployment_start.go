package launch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StartDeployment submits spec's multinode deployment as one allocation
// (DeploymentScript) and returns its frontend once it serves: the job's
// first node, where the frontend runs, at spec's port. Stopping it
// cancels the whole allocation.
func (s *Slurm) StartDeployment(ctx context.Context, spec Spec) (*Engine, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("slurm backend: the deployment needs a name")
	}
	if spec.Port == 0 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		spec.Port = port
	}
	script, err := s.DeploymentScript(ctx, spec)
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	if err := os.MkdirAll(s.logDir(), 0o755); err != nil {
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
	}
	path := filepath.Join(s.logDir(), spec.Name+".sbatch")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
	}
	logFile := filepath.Join(s.logDir(), spec.Name+".log")
	started := time.Now()
	out, err := s.Exec.Run(ctx, "sbatch", "--parsable", path)
	if err != nil {
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	j := newSlurmJob(s, id, logFile)
	if l := spec.Point.Launch; l != nil {
		for _, r := range l.Roles {
			j.markers = append(j.markers, r.Launch.ConfigFailures...)
		}
	}
	info, err := j.waitRunning(ctx)
	if err != nil {
		return nil, j.failed(ctx, info, err)
	}
	first, err := j.firstNode(ctx, info.Node)
	if err != nil {
		return nil, j.failed(ctx, info, err)
	}
	addr, err := j.nodeAddr(ctx, first)
	if err != nil {
		return nil, j.failed(ctx, info, err)
	}
	engine := &Engine{
		BaseURL: fmt.Sprintf("http://%s:%d", addr, spec.Port), Model: spec.Point.Model,
		Placement: Placement{Host: info.Node, Job: id, Partition: info.Partition},
		stop:      j.stop, running: j.running,
	}
	// A router answers its health check once its workers do.
	if err := waitHealthy(ctx, engine.BaseURL+"/health", j.running); err != nil {
		return nil, j.failed(ctx, info, err)
	}
	engine.StartupSeconds = time.Since(started).Seconds()
	return engine, nil
}

// firstNode is the first host of a job's node list (n[1-3] is n1).
func (j *slurmJob) firstNode(ctx context.Context, nodeList string) (string, error) {
	out, err := j.s.Exec.Run(ctx, "scontrol", "show", "hostnames", nodeList)
	if err != nil {
		return "", fmt.Errorf("expand node list %s: %w", nodeList, err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if first == "" {
		return "", fmt.Errorf("node list %s names no node", nodeList)
	}
	return first, nil
}
