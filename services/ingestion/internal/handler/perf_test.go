package handler

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/cputime"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/gen"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/limits"
)

// streamedObject returns the object a generated stream is served as.
func streamedObject(f gen.Format, compress bool) report.Object {
	o := putObject // a .csv key
	if f == gen.NDJSON {
		o.Key = "incoming/2024-06-01/ticks.ndjson"
	}
	if compress {
		o.Key += ".gz"
	}
	return o
}

// streamedEnv serves streamedObject as a generated stream of n points, never
// held in memory, and counts queue traffic without keeping it.
func streamedEnv(f gen.Format, n int, compress bool) *env {
	e := newEnv()
	e.sqs.discard = true
	o := streamedObject(f, compress)
	e.s3.objects[o.Key] = &fakeObject{versionID: o.VersionID, eTag: o.ETag, body: func() io.Reader {
		src := io.Reader(gen.New(f, n))
		if !compress {
			return src
		}
		pr, pw := io.Pipe()
		go func() {
			zw := gzip.NewWriter(pw)
			_, err := io.Copy(zw, src)
			if err == nil {
				err = zw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr
	}}
	return e
}

// countingReports counts report calls on top of fakeReports.
type countingReports struct {
	fakeReports
	calls int
}

func (c *countingReports) Claim(ctx context.Context, o report.Object, owner string, now, lease time.Time) (report.Claim, error) {
	c.calls++
	return c.fakeReports.Claim(ctx, o, owner, now, lease)
}

func (c *countingReports) Finish(ctx context.Context, o report.Object, owner string, attempts int64, started, now time.Time, r report.Result) error {
	c.calls++
	return c.fakeReports.Finish(ctx, o, owner, attempts, started, now, r)
}

// TestRequestCountsPerMillion sends 1,000,000 points through the handler with
// counting fakes: no call is made per point, and the queue messages are
// within 5% of the fewest the payload needs.
func TestRequestCountsPerMillion(t *testing.T) {
	const points = 1_000_000
	e := streamedEnv(gen.CSV, points, false)
	reports := &countingReports{}
	e.h.Reports = reports
	start := time.Now()
	if err := e.h.IngestObject(context.Background(), putObject); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	res := reports.get(putObject).result
	if res.Collector.Accepted != points || res.Messages != int64(e.sqs.entries) {
		t.Fatalf("accepted %d, messages %d, entries sent %d", res.Collector.Accepted, res.Messages, e.sqs.entries)
	}
	msgs, calls, payload := int64(e.sqs.entries), int64(e.sqs.calls), e.sqs.bytes
	minMsgs := math.Ceil(float64(payload) / float64(limits.QueueMaxMessageBytes))
	if float64(msgs) > 1.05*minMsgs {
		t.Fatalf("%d messages for %d payload bytes; the bound is %.0f", msgs, payload, 1.05*minMsgs)
	}
	// Full messages share a SendMessageBatch call as many as fit in one.
	perCall := min(limits.SQSBatchEntries, limits.SQSBatchMaxBytes/limits.QueueMaxMessageBytes)
	if bound := 1.05 * math.Ceil(float64(msgs)/float64(perCall)); float64(calls) > bound {
		t.Fatalf("%d SendMessageBatch calls for %d messages; the bound is %.0f", calls, msgs, bound)
	}
	// SQS bills a call per started 64 KiB: the payload's chunks plus at most
	// one partial chunk per call.
	billed := (payload+limits.SQSBillingChunkBytes-1)/limits.SQSBillingChunkBytes + calls
	total := int64(len(e.s3.gets)) + calls + int64(reports.calls)
	if total > points/1000 {
		t.Fatalf("%d AWS requests for %d points", total, points)
	}
	if len(e.s3.gets) != 1 || reports.calls != 2 {
		t.Fatalf("GetObject %d, report calls %d; want 1 and 2", len(e.s3.gets), reports.calls)
	}
	t.Logf("per 1,000,000 points: GetObject %d, SendMessageBatch %d (billed as at most %d 64 KiB requests), SQS messages %d (minimum %.0f, payload %d bytes, %.0f bytes/message), report writes %d; %v",
		len(e.s3.gets), calls, billed, msgs, minMsgs, payload, float64(payload)/float64(msgs), reports.calls, elapsed.Round(time.Millisecond))
}

// peakHeap runs f while sampling the heap, and returns the largest heap
// (objects, live or not yet collected) seen.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > peak {
			peak = v
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				read()
			}
		}
	}()
	f()
	read()
	close(stop)
	wg.Wait()
	return peak
}

func ingestStreamed(tb testing.TB, f gen.Format, n int, compress bool) {
	e := streamedEnv(f, n, compress)
	o := streamedObject(f, compress)
	if err := e.h.IngestObject(context.Background(), o); err != nil {
		tb.Fatal(err)
	}
	if got := e.reports.get(o).result.Collector.Accepted; got != int64(n) {
		tb.Fatalf("accepted %d of %d", got, n)
	}
}

// TestHeapFlat streams a 100k-line and a 1M-line object through the handler:
// the peak heap must not grow with the object.
func TestHeapFlat(t *testing.T) {
	for _, tc := range []struct {
		name     string
		format   gen.Format
		compress bool
	}{
		{"csv", gen.CSV, false},
		{"ndjson.gz", gen.NDJSON, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			small := peakHeap(func() { ingestStreamed(t, tc.format, 100_000, tc.compress) })
			large := peakHeap(func() { ingestStreamed(t, tc.format, 1_000_000, tc.compress) })
			t.Logf("peak heap: 100k lines %.1f MiB, 1M lines %.1f MiB", mib(small), mib(large))
			if float64(large) > 1.5*float64(small)+4<<20 {
				t.Fatalf("peak heap grew from %.1f MiB (100k lines) to %.1f MiB (1M lines)", mib(small), mib(large))
			}
		})
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// BenchmarkIngestObject streams generated objects through the whole handler
// (parse, validate, key, pack, send to a counting fake) and reports the
// throughput and the peak heap.
func BenchmarkIngestObject(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("csv-%dk-lines", n/1000), func(b *testing.B) {
			var peak uint64
			cpu0 := cputime.Now()
			for b.Loop() {
				peak = max(peak, peakHeap(func() { ingestStreamed(b, gen.CSV, n, false) }))
			}
			cpu := cputime.Now() - cpu0
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
			b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "points/cpu-s")
			b.ReportMetric(float64(peak), "peak-heap-bytes")
		})
	}
}
