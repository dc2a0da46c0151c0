package launch

import "syscall"

// engineProcAttr puts the engine in a process group of its own, so that
// stopping it reaches every process it forked, and has the kernel kill it
// when the worker dies without stopping it.
func engineProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
