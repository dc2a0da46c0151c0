package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// slurmJob is one submitted engine job: its state as scontrol tells it
// (squeue forgets a job the moment it ends; scontrol keeps it for
// MinJobAge, and needs no accounting, unlike sacct), its log and its end.
type slurmJob struct {
	s       *Slurm
	id      string
	logFile string
	pace    pacer
	// nextCheck spaces the job state checks made between health checks.
	nextCheck time.Time

	stopOnce sync.Once
	tail     string
	stopErr  error
	// markers are the recipe's log lines that blame the configuration.
	markers []string
}

func newSlurmJob(s *Slurm, id, logFile string) *slurmJob {
	poll := s.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	return &slurmJob{s: s, id: id, logFile: logFile, pace: pacer{wait: min(100*time.Millisecond, poll), max: poll}}
}

// pacer doubles a wait up to max.
type pacer struct{ wait, max time.Duration }

func (p *pacer) next() time.Duration {
	w := p.wait
	p.wait = min(2*p.wait, p.max)
	return w
}

// jobInfo is what scontrol says of a job.
type jobInfo struct {
	State, Reason, Node, Partition string
}

func (i jobInfo) String() string {
	s := i.State
	if s == "" {
		s = "in an unknown state"
	}
	if i.Reason != "" && i.Reason != "None" {
		s += " (" + i.Reason + ")"
	}
	if i.Node != "" {
		s += " on " + i.Node
	}
	return s
}

// endedStates are the job states of a job that will not run again.
var endedStates = map[string]bool{
	"BOOT_FAIL": true, "CANCELLED": true, "COMPLETED": true, "COMPLETING": true, "DEADLINE": true, "FAILED": true,
	"NODE_FAIL": true, "OUT_OF_MEMORY": true, "PREEMPTED": true, "SPECIAL_EXIT": true, "TIMEOUT": true,
}

// errJobGone: the controller no longer knows the job (past MinJobAge).
var errJobGone = errors.New("job no longer known to slurmctld")

func (j *slurmJob) info(ctx context.Context) (jobInfo, error) {
	out, err := j.s.Exec.Run(ctx, "scontrol", "show", "job", "-o", j.id)
	if err != nil {
		if strings.Contains(out+err.Error(), "Invalid job id") {
			return jobInfo{}, fmt.Errorf("job %s: %w", j.id, errJobGone)
		}
		return jobInfo{}, err
	}
	f := scontrolFields(out)
	info := jobInfo{State: f["JobState"], Reason: f["Reason"], Node: f["NodeList"], Partition: f["Partition"]}
	if info.Node == "(null)" {
		info.Node = ""
	}
	return info, nil
}

// waitRunning polls until the job runs on a node (errEngineExited if it
// ended first); the last state seen comes back either way.
func (j *slurmJob) waitRunning(ctx context.Context) (jobInfo, error) {
	var last jobInfo
	var lastErr error
	for {
		info, err := j.info(ctx)
		switch {
		case errors.Is(err, errJobGone):
			return last, errEngineExited
		case err != nil:
			if ctx.Err() == nil {
				lastErr = err // a busy controller: ask again
			}
		case info.State == "RUNNING" && info.Node != "":
			return info, nil
		case endedStates[info.State]:
			return info, errEngineExited
		default:
			last = info
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return last, fmt.Errorf("%w (last scontrol error: %v)", ctx.Err(), lastErr)
			}
			return last, ctx.Err()
		case <-time.After(j.pace.next()):
		}
	}
}

// running tells waitHealthy whether to keep waiting; it asks the
// controller at the pacer's rate, not at every health check.
func (j *slurmJob) running(ctx context.Context) bool {
	if time.Now().Before(j.nextCheck) {
		return true
	}
	info, err := j.info(ctx)
	j.nextCheck = time.Now().Add(j.pace.next())
	if err != nil {
		return !errors.Is(err, errJobGone)
	}
	return info.State == "RUNNING"
}

// node returns scontrol's word on a node: its fields and its free-text
// reason.
func (j *slurmJob) node(ctx context.Context, name string) (map[string]string, string, error) {
	out, err := j.s.Exec.Run(ctx, "scontrol", "show", "node", "-o", name)
	if err != nil {
		return nil, "", err
	}
	return scontrolFields(out), nodeReason(out), nil
}

// nodeAddr is where the engine on node is reached: node names (n1) need
// not resolve from the worker, NodeAddr does.
func (j *slurmJob) nodeAddr(ctx context.Context, name string) (string, error) {
	f, _, err := j.node(ctx, name)
	if err != nil {
		return "", fmt.Errorf("find node %s of job %s: %w", name, j.id, err)
	}
	if addr := f["NodeAddr"]; addr != "" {
		return addr, nil
	}
	return name, nil
}

// failed ends the job and says whom to blame for the engine that never
// became ready: cause is errEngineExited when the job ended by itself.
func (j *slurmJob) failed(ctx context.Context, last jobInfo, cause error) *StartError {
	ctx = context.WithoutCancel(ctx)
	if !errors.Is(cause, errEngineExited) {
		tail, _ := j.stop(ctx)
		return &StartError{Kind: NodeFailure, Msg: fmt.Sprintf("job %s %s: %v", j.id, last, cause), LogTail: tail}
	}
	info, err := j.info(ctx)
	if err != nil {
		info = last // gone already: what was last seen is all there is
	}
	tail, _ := j.stop(ctx)
	kind, why := j.blame(ctx, info, tail)
	return &StartError{Kind: kind, Msg: fmt.Sprintf("job %s ended %s before the engine was ready: %s", j.id, info, why), LogTail: tail}
}

// slurmBlames are the job states in which Slurm itself says the node, not
// the engine, ended the job.
var slurmBlames = map[string]string{
	"NODE_FAIL": "Slurm lost its node",
	"BOOT_FAIL": "its node failed to boot",
	"PREEMPTED": "a job of higher priority took its node",
}

// blame reads the job's end: Slurm's evidence against the node first,
// then the engine's own log (Classify).
func (j *slurmJob) blame(ctx context.Context, info jobInfo, tail string) (FailureKind, string) {
	node := j.nodeTrouble(ctx, info.Node)
	switch {
	case slurmBlames[info.State] != "" && node != "":
		return NodeFailure, slurmBlames[info.State] + "; " + node
	case slurmBlames[info.State] != "":
		return NodeFailure, slurmBlames[info.State]
	case node != "":
		return NodeFailure, node
	case info.State == "CANCELLED":
		return NodeFailure, "cancelled from outside"
	case Classify(tail, j.markers...) == ConfigFailure:
		return ConfigFailure, "its log names the configuration"
	}
	return NodeFailure, "its log names no configuration error"
}

// troubleFlags in a node's state mean the node, not the engine, broke.
var troubleFlags = []string{"DOWN", "DRAIN", "FAIL", "NOT_RESPONDING"}

// nodeTrouble describes what is wrong with the node, "" when nothing is
// (or it cannot be asked).
func (j *slurmJob) nodeTrouble(ctx context.Context, name string) string {
	if name == "" {
		return ""
	}
	f, reason, err := j.node(ctx, name)
	if err != nil {
		return ""
	}
	for _, flag := range troubleFlags {
		if strings.Contains(f["State"], flag) {
			if reason == "" {
				return fmt.Sprintf("node %s is %s", name, f["State"])
			}
			return fmt.Sprintf("node %s is %s (%s)", name, f["State"], reason)
		}
	}
	return ""
}

// stop reads the log's tail, cancels the job and removes the log; once,
// and on a context of its own, as teardown runs after the caller gave up.
//
// The tail is read from the file itself, not through tail on some node:
// LogDir is shared with the nodes, and a job that ended has closed its
// log, so even NFS (close-to-open) shows its last lines. The file goes
// once read: the sweep keeps the tail with the point, and one log per
// point would otherwise pile up on the shared filesystem.
func (j *slurmJob) stop(ctx context.Context) (string, error) {
	j.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		j.tail = tailFile(j.logFile, logTailLines)
		if _, err := j.s.Exec.Run(ctx, "scancel", j.id); err != nil {
			j.stopErr = fmt.Errorf("cancel job %s: %w", j.id, err)
		}
		if err := os.Remove(j.logFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.stopErr = errors.Join(j.stopErr, err)
		}
	})
	return j.tail, j.stopErr
}

// tailMaxBytes bounds how much of a log is read for its last lines: an
// engine that ran for hours may have logged gigabytes.
const tailMaxBytes = 64 << 10

// tailFile returns the last n lines of path, "" when it cannot be read
// (a job cancelled before it ran has no log).
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	from := max(st.Size()-tailMaxBytes, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, from, st.Size()-from))
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if from > 0 {
		lines = lines[1:] // cut mid-line
	}
	return string(bytes.Join(lines[max(len(lines)-n, 0):], []byte("\n")))
}

// scontrolFields reads the Key=Value words of scontrol's one-line (-o)
// output; the first of a key wins.
func scontrolFields(out string) map[string]string {
	f := map[string]string{}
	for _, word := range strings.Fields(out) {
		if k, v, ok := strings.Cut(word, "="); ok {
			if _, seen := f[k]; !seen {
				f[k] = v
			}
		}
	}
	return f
}

// nodeReason is a node's Reason=: free text, last on the line, followed
// by [user@time].
func nodeReason(out string) string {
	_, reason, ok := strings.Cut(out, " Reason=")
	if !ok {
		return ""
	}
	reason, _, _ = strings.Cut(reason, " [")
	return strings.TrimSpace(reason)
}
