package processor

import (
	"runtime/debug"
	"strconv"
)

// GCPercent is the processor's GOGC. Go's default (100) starts collecting
// at a 4 MiB heap and again at every doubling, so a container's first
// batch, which builds ~17 MB of items from an empty heap, pays several
// collections a warm container (its heap grown, its item maps reused) does
// not. At 400 the first batch still spent about a tenth of its CPU in the
// collector (marking, and write barriers while the maps are built); at 800
// about 3% (GODEBUG=gctrace=1 on BenchmarkDecodeAndMarshal/cold). The heap
// of a batch (tens of MB at 800) stays far below any function's memory,
// and MemoryLimitShare guards the rest.
const GCPercent = 800

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
