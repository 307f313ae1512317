package motoserver

import "syscall"

// procAttr puts moto in its own process group (Stop kills the group, so the
// server's own children go too) and has the kernel kill it if this process
// dies without calling Stop.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
