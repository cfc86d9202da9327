package interop

import "syscall"

// childAttr makes the kernel kill a child process when the process that
// started it dies, so a test binary killed by a timeout leaves no server,
// SIPp or baresip behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
