package processor

import (
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/platform/dynamobatch"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// BenchmarkDecodeAndMarshal measures what the processor spends CPU on per
// point: decoding a full (limits.QueueMaxMessageBytes) queue message, re-validating its points
// and building their DynamoDB items. Target: >= 1,000,000 points/s on one
// core (run with -cpu 1).
//
// "warm" reuses the item arena as a warm Lambda container does from one
// batch to the next; "cold" builds every item map anew, as the first batch
// of a container does. Besides points/s (wall clock), points/cpu-s divides
// by the process's CPU time (GC included), which stays meaningful on a
// machine busy with other work. Both run with the processor's GOGC
// (GCPercent), as its containers do.
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
		name string
		warm bool
	}{{"warm", true}, {"cold", false}} {
		b.Run(bc.name, func(b *testing.B) {
			arena := new(itemArena)
			items := make([]dynamobatch.Item, 0, points)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if !bc.warm {
					arena = new(itemArena)
				}
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
				arena.reset()
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
			b.ReportMetric(float64(points)*float64(b.N)/cpu.Seconds(), "points/cpu-s")
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
