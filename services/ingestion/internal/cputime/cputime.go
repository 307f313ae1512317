//go:build unix

// Package cputime measures the CPU time of the process, so that benchmarks
// can report throughput per CPU-second next to wall-clock throughput: on a
// shared machine the wall clock mostly measures the neighbours.
package cputime

import (
	"syscall"
	"time"
)

// Now returns the user and system CPU time the process has used so far
// (all threads, the garbage collector's included).
func Now() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
