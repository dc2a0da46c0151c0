//go:build unix

package simengine

import (
	"os"
	"syscall"
)

// lockFile holds an exclusive advisory lock on f until unlock: engines in
// other processes share one fault record.
func lockFile(f *os.File) (unlock func(), err error) {
	fd := int(f.Fd())
	if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
		return nil, err
	}
	return func() { _ = syscall.Flock(fd, syscall.LOCK_UN) }, nil
}
