package launch

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
