package launch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Runner executes a command and returns its combined output. Docker and
// Slurm backends drive their CLIs through it, so tests can inject a fake
// and check the exact commands without a Docker engine or Slurm.
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

// Reaper removes the engines a dead worker of node left behind: what its
// backend tagged with the node (Labels), nothing of other nodes.
type Reaper interface {
	Reap(ctx context.Context, node string) (int, error)
}

// Label keys on every container (and, for the node, every Slurm job's
// comment) a backend starts: what an operator filters on and what reaping
// matches exactly.
const (
	LabelManaged = "infersweep.managed"
	LabelNode    = "infersweep.node"
	LabelLease   = "infersweep.lease"
	LabelPoint   = "infersweep.point"
	LabelSweep   = "infersweep.sweep"
)

// Labels tag an engine with what started it. The lease names the sweep
// (activities.LeaseID: sweep/point/attempt).
func (s Spec) Labels() map[string]string {
	sweepID, _, _ := strings.Cut(s.Lease, "/")
	return map[string]string{LabelManaged: "true", LabelNode: s.Node, LabelLease: s.Lease, LabelPoint: s.Point.ID, LabelSweep: sweepID}
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// EngineName derives a container or job name from a lease, so a pool can
// find and remove what a dead worker left behind.
func EngineName(leaseID string) string {
	return "infersweep-" + strings.Trim(unsafeName.ReplaceAllString(leaseID, "-"), "-")
}

var errEngineExited = errors.New("engine exited before it was ready")

// waitHealthy polls readyURL (the recipe's readiness path) until 200, the
// engine stops running, or ctx ends; an engine without one (readyURL "")
// is ready once it runs.
func waitHealthy(ctx context.Context, readyURL string, running func(context.Context) bool) error {
	if readyURL == "" {
		if !running(ctx) {
			return errEngineExited
		}
		return nil
	}
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if resp, err := client.Get(readyURL); err == nil {
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

// ShellJoin quotes args for a POSIX shell, for printing what a backend
// runs.
func ShellJoin(args []string) string { return shellJoin(args) }
