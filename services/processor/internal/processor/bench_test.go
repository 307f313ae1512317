package processor

import (
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/platform/dynamobatch"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// BenchmarkDecodeAndMarshal measures what the processor spends CPU on per
// point: decoding full (limits.QueueMaxMessageBytes) queue messages,
// re-validating their points and building their DynamoDB items. Target:
// >= 1,000,000 points/s on one core (run with -cpu 1).
//
//   - "warm": a warm Lambda container's batches, whose items are built in the
//     arena (item maps and members) of the batch before.
//   - "cold": a fresh container's first batch of limits.QueueBatchSize full
//     messages. The handler builds each write group's items just before
//     writing them and takes the arena back after (Handler.store), so only
//     the first message builds new maps; the others reuse them.
//   - "cold-message": a first batch of one message, every item map new
//     (reported, no goal: its figure is the cost of allocating ~1,800 maps).
//
// Besides points/s (wall clock), points/cpu-s divides by the process's CPU
// time (GC included), which stays meaningful on a machine busy with other
// work. All run with the processor's GOGC (GCPercent), as its containers do.
func BenchmarkDecodeAndMarshal(b *testing.B) {
	g := newTickGen(1, 50, testNow.Add(-time.Hour))
	body := encodeBodies(b, g, 20000, "s3://market-data-dev/uploads/2026/03/02/ticks.csv#3Lg8xVd2ZQ")[0]
	m, err := marketdata.DecodeMessageString(body)
	if err != nil {
		b.Fatal(err)
	}
	points := len(m.Points)
	// The GC as the processor's main sets it (TuneGC, without a memory
	// limit: the heap here stays small).
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	for _, bc := range []struct {
		name     string
		warm     bool
		messages int
	}{{"warm", true, 1}, {"cold", false, limits.QueueBatchSize}, {"cold-message", false, 1}} {
		b.Run(bc.name, func(b *testing.B) {
			arena := new(itemArena)
			items := make([]dynamobatch.Item, 0, points)
			b.SetBytes(int64(len(body) * bc.messages))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if !bc.warm {
					arena = new(itemArena)
				}
				for range bc.messages {
					m, err := marketdata.DecodeMessageString(body) // as the handler does with an SQS record
					if err != nil {
						b.Fatal(err)
					}
					if err := checkMessage(m, testNow); err != nil {
						b.Fatal(err)
					}
					items = newRawItemBuilder(testNow, arena).appendItems(items[:0], m)
					if len(items) != points {
						b.Fatalf("%d items for %d points", len(items), points)
					}
					arena.reset() // the next write group reuses the maps
				}
			}
			cpu := cpuTime() - cpu0
			n := float64(points * bc.messages * b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "points/s")
			b.ReportMetric(n/cpu.Seconds(), "points/cpu-s")
			b.ReportMetric(float64(points), "points/msg")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
