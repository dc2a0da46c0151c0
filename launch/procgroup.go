package launch

import (
	"context"
	"time"
)

// stopEngine asks the engine to stop (ask), waits for it to exit for the
// grace period or until ctx ends, then ends it by force (kill). Each OS
// says how to ask and to force a process tree (stopGroup).
func stopEngine(ctx context.Context, exited chan error, grace time.Duration, ask func(), kill func() error) error {
	select {
	case err := <-exited:
		exited <- err
		return nil // already gone
	default:
	}
	ask()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-exited:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	if err := kill(); err != nil {
		select {
		case err := <-exited:
			exited <- err
			return nil // it ended while we forced it
		default:
		}
		return err
	}
	<-exited
	return nil
}
