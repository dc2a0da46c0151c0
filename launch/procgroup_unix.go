//go:build unix

package launch

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// stopGroup sends SIGTERM to the engine's process group, then SIGKILL
// after the grace period or when ctx ends.
func stopGroup(ctx context.Context, pid int, exited chan error, grace time.Duration) error {
	select {
	case err := <-exited:
		exited <- err
		return nil // already gone
	default:
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-exited:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill engine process group %d: %w", pid, err)
	}
	<-exited
	return nil
}
