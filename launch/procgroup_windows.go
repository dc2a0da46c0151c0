package launch

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// engineProcAttr starts the engine in a process group of its own, which
// taskkill /T then ends with every process it started.
func engineProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// stopGroup asks the engine's process tree to close, then ends it by force
// after the grace period or when ctx ends. Windows has no SIGTERM: a
// console engine is asked with taskkill without /F.
func stopGroup(ctx context.Context, pid int, exited chan error, grace time.Duration) error {
	tree := strconv.Itoa(pid)
	return stopEngine(ctx, exited, grace,
		func() { _ = exec.CommandContext(ctx, "taskkill", "/T", "/PID", tree).Run() },
		func() error {
			if out, err := exec.Command("taskkill", "/T", "/F", "/PID", tree).CombinedOutput(); err != nil {
				return fmt.Errorf("kill engine process tree %d: %v: %s", pid, err, out)
			}
			return nil
		})
}
