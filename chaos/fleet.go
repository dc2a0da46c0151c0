package chaos

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// fleet is the node workers of a run, as processes it can kill.
type fleet struct {
	mu      sync.Mutex
	binary  string
	env     []string
	logDir  string
	procs   map[string]*proc // node → its running worker
	pools   map[string]string
	stopped bool
}

// proc is one worker process; done closes when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func newFleet(binary string, env []string, logDir string, runners map[string][]string) *fleet {
	f := &fleet{binary: binary, env: env, logDir: logDir, procs: map[string]*proc{}, pools: map[string]string{}}
	for pool, nodes := range runners {
		for _, n := range nodes {
			f.pools[n] = pool
		}
	}
	return f
}

// nodes are every node of the fleet, in a fixed order for seeded kills.
func (f *fleet) nodes() []string {
	nodes := make([]string, 0, len(f.pools))
	for n := range f.pools {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	return nodes
}

func (f *fleet) startAll() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.nodes() {
		if err := f.start(n); err != nil {
			return err
		}
	}
	return nil
}

// start runs a node's worker; the caller holds mu.
func (f *fleet) start(node string) error {
	logFile, err := os.OpenFile(filepath.Join(f.logDir, node+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(f.binary, "worker", "--pool", f.pools[node], "--node", node, "--log-level", "warn")
	cmd.Env, cmd.Stdout, cmd.Stderr = f.env, logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	f.procs[node] = p
	return nil
}

// restart SIGKILLs a node's worker (its engines die with it: Pdeathsig)
// and starts a new one; false once the fleet is stopping.
func (f *fleet) restart(node string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false, nil
	}
	if p := f.procs[node]; p != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	return true, f.start(node)
}

func (f *fleet) stopAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	for _, p := range f.procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	// Workers wait up to 30 s for teardowns; then they are killed.
	deadline := time.After(45 * time.Second)
	for _, p := range f.procs {
		select {
		case <-p.done:
		case <-deadline:
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
	}
}
