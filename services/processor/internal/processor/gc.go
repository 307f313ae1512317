package processor

import (
	"runtime/debug"
	"strconv"
)

// GCPercent is the processor's GOGC. Go's default (100) starts collecting
// at a 4 MiB heap and again at every doubling, so a container's first
// batch, which builds ~20 MB of items from an empty heap, pays several
// collections a warm container (its heap grown, its item maps reused) does
// not; at 400 the first batch costs about what a warm one does (see
// BenchmarkDecodeAndMarshal). The heap of a batch stays far below any
// function's memory, and MemoryLimitShare guards the rest.
const GCPercent = 400

// MemoryLimitShare is the share of the function's memory the Go heap may
// reach before the collector works harder whatever GCPercent says (a soft
// limit: the runtime and the SDK's buffers need the rest).
const MemoryLimitShare = 0.7

// LambdaMemoryEnv is the variable Lambda sets to the function's memory in MB.
const LambdaMemoryEnv = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"

// TuneGC sets GCPercent and, when memoryMB (LambdaMemoryEnv's value) is a
// positive number, a soft memory limit of MemoryLimitShare of it. It
// returns the limit set (0 for none).
func TuneGC(memoryMB string) int64 {
	debug.SetGCPercent(GCPercent)
	mb, err := strconv.ParseInt(memoryMB, 10, 64)
	if err != nil || mb <= 0 {
		return 0 // outside Lambda: no limit
	}
	limit := int64(float64(mb<<20) * MemoryLimitShare)
	debug.SetMemoryLimit(limit)
	return limit
}
