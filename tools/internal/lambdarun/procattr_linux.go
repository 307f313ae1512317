package lambdarun

import "syscall"

// procAttr gives each emulator its own process group (Stop kills the group:
// the emulator and the function it runs) and has the kernel kill it if the
// local pipeline dies without stopping it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
