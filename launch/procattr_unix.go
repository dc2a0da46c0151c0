//go:build unix && !linux

package launch

import "syscall"

// engineProcAttr puts the engine in a process group of its own, so that
// stopping it reaches every process it forked. These kernels have no
// parent-death signal: an engine outlives a worker killed with SIGKILL.
func engineProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
