package simengine

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockFile holds an exclusive lock on f until unlock: engines in other
// processes share one fault record. The whole file is locked (every byte
// range there can be), as flock locks it elsewhere.
func lockFile(f *os.File) (unlock func(), err error) {
	h := windows.Handle(f.Fd())
	whole := new(windows.Overlapped)
	if err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK, 0, ^uint32(0), ^uint32(0), whole); err != nil {
		return nil, err
	}
	return func() { _ = windows.UnlockFileEx(h, 0, ^uint32(0), ^uint32(0), whole) }, nil
}
