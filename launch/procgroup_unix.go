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
	return stopEngine(ctx, exited, grace,
		func() { _ = syscall.Kill(-pid, syscall.SIGTERM) },
		func() error {
			if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("kill engine process group %d: %w", pid, err)
			}
			return nil
		})
}
