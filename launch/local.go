package launch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Local runs engines as child processes of the worker, each in its own
// process group, killed with the worker (Pdeathsig) so a dead worker never
// leaves an engine holding GPUs.
type Local struct {
	// Self is the infersweep binary, for the simulated engine.
	Self string
	// StopGrace is how long an engine gets between SIGTERM and SIGKILL.
	StopGrace time.Duration
}

// logTailLines is how much of an engine's log errors carry.
const logTailLines = 50

// Start launches the engine and returns once it answers /health, or an
// *StartError saying whether the config or the node is to blame.
func (l *Local) Start(ctx context.Context, spec Spec) (*Engine, error) {
	if spec.Port == 0 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		spec.Port = port
	}
	command, err := Render(spec, l.Self, "127.0.0.1")
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	return l.run(ctx, spec, command)
}

// StartRole starts one rank of a deployment's role as a child process,
// as Start does an engine.
func (l *Local) StartRole(ctx context.Context, rs RoleSpec) (*Engine, error) {
	if rs.Port == 0 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		rs.Port = port
	}
	command, err := RenderRole(rs, l.Self, "127.0.0.1")
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	return l.run(ctx, rs.Spec, command)
}

// run executes a rendered command and waits until it is ready.
func (l *Local) run(ctx context.Context, spec Spec, command Command) (*Engine, error) {
	if len(command.Files) > 0 {
		dir, err := os.MkdirTemp("", spec.Name+"-files-")
		if err != nil {
			return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
		}
		defer os.RemoveAll(dir) // the engine has read its files once it serves
		if err := writeFiles(command.PlaceFiles(dir)); err != nil {
			return nil, &StartError{Kind: NodeFailure, Msg: err.Error()}
		}
	}
	cmd := exec.Command(command.Args[0], command.Args[1:]...)
	cmd.Env = append(os.Environ(), command.Env...)
	logs := &tailBuffer{max: logTailLines}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = engineProcAttr()
	started := time.Now()
	if err := cmd.Start(); err != nil {
		kind := NodeFailure
		if errors.Is(err, exec.ErrNotFound) {
			kind = ConfigFailure
		}
		return nil, &StartError{Kind: kind, Msg: fmt.Sprintf("exec %s: %v", command.Args[0], err)}
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var once sync.Once
	var stopErr error
	grace := cmp.Or(command.StopGrace, l.StopGrace, 5*time.Second)
	stop := func(ctx context.Context) (string, error) {
		once.Do(func() { stopErr = stopGroup(ctx, cmd.Process.Pid, exited, grace) })
		return logs.String(), stopErr
	}
	running := func(context.Context) bool {
		select {
		case err := <-exited:
			exited <- err // for stop
			return false
		default:
			return true
		}
	}
	engine := &Engine{BaseURL: fmt.Sprintf("http://127.0.0.1:%d", spec.Port), Model: spec.Point.Model, stop: stop, running: running}
	if err := waitHealthy(ctx, command.readyURL(engine.BaseURL), running); err != nil {
		if errors.Is(err, errEngineExited) {
			tail := logs.String()
			return nil, &StartError{Kind: Classify(tail, command.ConfigFailures...), Msg: err.Error(), LogTail: tail}
		}
		tail, _ := stop(context.WithoutCancel(ctx))
		return nil, &StartError{Kind: NodeFailure, Msg: fmt.Sprintf("not ready after %s: %v", time.Since(started).Round(time.Second), ctx.Err()), LogTail: tail}
	}
	engine.StartupSeconds = time.Since(started).Seconds()
	return engine, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePortRange is the first of n consecutive ports free now, below the
// usual ephemeral range (32768 and up), where the kernel does not hand
// the ports out to outgoing connections meanwhile.
func freePortRange(n int) (int, error) {
	const low, high = 20000, 32000
	for range 64 {
		base := low + rand.IntN(high-low-n)
		if portsFree(base, n) {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d consecutive free ports between %d and %d", n, low, high)
}

func portsFree(base, n int) bool {
	for port := base; port < base+n; port++ {
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// tailBuffer keeps the last max lines written to it.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial string
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	text := t.partial + string(p)
	parts := strings.Split(text, "\n")
	t.partial = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if over := len(t.lines) - t.max; over > 0 {
		t.lines = append(t.lines[:0], t.lines[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := strings.Join(t.lines, "\n")
	if t.partial != "" {
		out += "\n" + t.partial
	}
	return strings.TrimPrefix(out, "\n")
}
