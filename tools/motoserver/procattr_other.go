//go:build !linux

package motoserver

import "syscall"

// procAttr puts moto in its own process group; Stop kills the group.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
