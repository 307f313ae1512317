package queue

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/cputime"
	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// fakeSQS records SendMessageBatch calls. respond, when set, decides each
// call's outcome (call numbers from 1); otherwise every entry succeeds.
type fakeSQS struct {
	mu       sync.Mutex
	calls    []*sqs.SendMessageBatchInput
	bodies   []string // accepted bodies
	respond  func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	delay    time.Duration
}

func (f *fakeSQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	f.calls = append(f.calls, in)
	call := len(f.calls)
	f.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{}
	var err error
	if f.respond != nil {
		out, err = f.respond(call, in)
	} else {
		for _, e := range in.Entries {
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
		}
	}
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := map[string]bool{}
	for _, s := range out.Successful {
		ok[aws.ToString(s.Id)] = true
	}
	for _, e := range in.Entries {
		if ok[aws.ToString(e.Id)] {
			f.bodies = append(f.bodies, aws.ToString(e.MessageBody))
		}
	}
	return out, nil
}

func point(i int) marketdata.Point {
	return marketdata.Point{Symbol: "AAPL", Timestamp: 1_717_243_200_000 + int64(i), Price: 100 + float64(i%1000)/100,
		Volume: marketdata.Units(uint64(i%500 + 1)), Bid: 99.5, Ask: 101.5, Exchange: "XNAS"}
}

func noSleep(context.Context, time.Duration) error { return nil }

// checkDelivered decodes every accepted body and checks that exactly the
// points 0..n-1 arrived, once each, with their AppendSortKey key.
func checkDelivered(t *testing.T, f *fakeSQS, origin string, n int, skip map[int]bool) {
	t.Helper()
	seen := make([]bool, n)
	for _, body := range f.bodies {
		m, err := marketdata.DecodeMessage([]byte(body))
		if err != nil {
			t.Fatalf("body does not decode: %v", err)
		}
		if m.Origin != origin {
			t.Fatalf("origin %q, want %q", m.Origin, origin)
		}
		for _, qp := range m.Points {
			i := int(qp.Timestamp - 1_717_243_200_000)
			if i < 0 || i >= n || seen[i] {
				t.Fatalf("point %d unexpected or delivered twice", i)
			}
			seen[i] = true
			if qp.Point != point(i) || qp.Key != string(marketdata.AppendSortKey(nil, point(i), origin, int64(i))) {
				t.Fatalf("point %d arrived as %+v", i, qp)
			}
		}
	}
	for i, s := range seen {
		if !s && !skip[i] {
			t.Fatalf("point %d never delivered", i)
		}
	}
}

func TestPacking(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBytes int
		points   int
	}{
		{"full messages", 0, 40_000},
		{"small messages share calls", 4 << 10, 3_000},
		{"one point", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSQS{}
			p := &Publisher{Client: f, QueueURL: "q", MaxMessageBytes: tc.maxBytes, Retry: backoff.Policy{Sleep: noSleep}}
			const origin = "s3://bucket/a/b.csv#v1"
			s, err := p.Open(context.Background(), origin)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.points {
				if err := s.Add(point(i), int64(i)); err != nil {
					t.Fatal(err)
				}
			}
			st, err := s.Close()
			if err != nil {
				t.Fatal(err)
			}
			limit := tc.maxBytes
			if limit == 0 {
				limit = limits.QueueMaxMessageBytes
			}
			var total, chunks int64
			for _, c := range f.calls {
				if len(c.Entries) == 0 || len(c.Entries) > limits.SQSBatchEntries {
					t.Fatalf("call with %d entries", len(c.Entries))
				}
				batch := 0
				for _, e := range c.Entries {
					n := len(aws.ToString(e.MessageBody))
					if n > limit {
						t.Fatalf("message of %d bytes exceeds %d", n, limit)
					}
					batch += n
				}
				if batch > limits.SQSBatchMaxBytes {
					t.Fatalf("call carries %d bytes, over the %d batch limit", batch, limits.SQSBatchMaxBytes)
				}
				total += int64(batch)
				// SQS bills a call per started 64 KiB of its payload.
				chunks += int64((batch + limits.SQSBillingChunkBytes - 1) / limits.SQSBillingChunkBytes)
			}
			if st.Bytes != total || st.Points != int64(tc.points) || st.Messages != int64(len(f.bodies)) || st.Calls != int64(len(f.calls)) {
				t.Fatalf("stats %+v; sent %d bytes in %d messages and %d calls", st, total, len(f.bodies), len(f.calls))
			}
			// Packing efficiency: messages within 5% of the minimum.
			if bound := 1.05 * math.Ceil(float64(total)/float64(limit)); float64(st.Messages) > bound {
				t.Fatalf("%d messages for %d bytes, more than %.0f", st.Messages, total, bound)
			}
			// Calls within 5% of the fewest: full messages share a call as
			// many as SQSBatchMaxBytes takes.
			perCall := min(limits.SQSBatchEntries, limits.SQSBatchMaxBytes/limit)
			if bound := 1.05 * math.Ceil(float64(st.Messages)/float64(perCall)); float64(len(f.calls)) > bound {
				t.Fatalf("%d calls for %d messages of up to %d bytes, more than %.0f", len(f.calls), st.Messages, limit, bound)
			}
			// Billed requests: at most one partial chunk per call beyond the
			// payload's own chunks.
			if bound := (total+limits.SQSBillingChunkBytes-1)/limits.SQSBillingChunkBytes + int64(len(f.calls)); chunks > bound {
				t.Fatalf("%d billed 64 KiB chunks for %d bytes in %d calls, more than %d", chunks, total, len(f.calls), bound)
			}
			if tc.maxBytes > 0 && len(f.calls) >= int(st.Messages) {
				t.Fatalf("small messages were not batched: %d calls for %d messages", len(f.calls), st.Messages)
			}
			checkDelivered(t, f, origin, tc.points, nil)
		})
	}
}

// failEntries fails the named entries of a call with the given fault.
func failEntries(in *sqs.SendMessageBatchInput, fail map[string]bool, senderFault bool, code string) *sqs.SendMessageBatchOutput {
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if fail[aws.ToString(e.Id)] {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, SenderFault: senderFault, Code: aws.String(code), Message: aws.String(code + " message")})
		} else {
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
		}
	}
	return out
}

func TestEntryFailures(t *testing.T) {
	const n = 3000 // small messages: several per call
	cases := []struct {
		name        string
		respond     func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
		wantErr     error
		wantRetried int64
		wantFailed  int // messages refused for good
		wantCalls   int // -1: don't check
	}{
		{
			name: "retryable entry then success",
			respond: func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				if call == 1 {
					return failEntries(in, map[string]bool{"0": true, "3": true}, false, "InternalError"), nil
				}
				return failEntries(in, nil, false, ""), nil
			},
			wantRetried: 2, wantCalls: -1,
		},
		{
			name: "non-retryable entry reported, never resent",
			respond: func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				if call == 1 {
					return failEntries(in, map[string]bool{"1": true}, true, "InvalidMessageContents"), nil
				}
				return failEntries(in, nil, false, ""), nil
			},
			wantFailed: 1, wantCalls: -1,
		},
		{
			name: "retryable failures exhaust the attempts",
			respond: func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				return failEntries(in, map[string]bool{"0": true}, false, "ServiceUnavailable"), nil
			},
			wantErr: ErrRetriesExhausted, wantCalls: -1,
		},
		{
			name: "entries missing from the response are resent",
			respond: func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				out := failEntries(in, nil, false, "")
				if call == 1 {
					out.Successful = out.Successful[1:]
				}
				return out, nil
			},
			wantRetried: 1, wantCalls: -1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSQS{respond: tc.respond}
			var waits []time.Duration
			p := &Publisher{Client: f, QueueURL: "q", MaxMessageBytes: 4 << 10, Concurrency: 1,
				Retry: backoff.Policy{Attempts: 4, Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}}
			s, _ := p.Open(context.Background(), "o")
			var addErr error
			for i := 0; i < n && addErr == nil; i++ {
				addErr = s.Add(point(i), int64(i))
			}
			st, err := s.Close()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				if len(waits) != p.Retry.Attempts-1 {
					t.Fatalf("backed off %v times, want %d", waits, p.Retry.Attempts-1)
				}
				return
			}
			if err != nil || addErr != nil {
				t.Fatalf("errors %v %v", err, addErr)
			}
			if st.Retried != tc.wantRetried || len(st.Failures) != tc.wantFailed {
				t.Fatalf("stats %+v, want %d retried and %d failures", st, tc.wantRetried, tc.wantFailed)
			}
			if tc.wantRetried > 0 && len(waits) == 0 {
				t.Fatal("retried without backing off")
			}
			// The second call resends exactly the failed entries.
			if tc.wantRetried > 0 && len(f.calls[1].Entries) != int(tc.wantRetried) {
				t.Fatalf("retry call holds %d entries, want %d", len(f.calls[1].Entries), tc.wantRetried)
			}
			skip := map[int]bool{}
			for _, fl := range st.Failures {
				if fl.Points <= 0 || fl.FirstIndex > fl.LastIndex || fl.Code != "InvalidMessageContents" {
					t.Fatalf("failure %+v", fl)
				}
				for i := fl.FirstIndex; i <= fl.LastIndex; i++ {
					skip[int(i)] = true
				}
				if int64(len(skip)) != st.FailedPoints {
					t.Fatalf("failed points %d, failures cover %d", st.FailedPoints, len(skip))
				}
			}
			if st.Points+st.FailedPoints != n {
				t.Fatalf("sent %d + failed %d points, want %d", st.Points, st.FailedPoints, n)
			}
			checkDelivered(t, f, "o", n, skip)
			for _, c := range f.calls[1:] {
				for _, e := range c.Entries {
					if tc.wantFailed > 0 && aws.ToString(e.MessageBody) == aws.ToString(f.calls[0].Entries[1].MessageBody) {
						t.Fatal("a non-retryable entry was sent again")
					}
				}
			}
		})
	}
}

func TestCallErrorStopsTheStream(t *testing.T) {
	boom := errors.New("throttled after the SDK's retries")
	f := &fakeSQS{respond: func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) { return nil, boom }}
	p := &Publisher{Client: f, QueueURL: "q", MaxMessageBytes: 4 << 10, Concurrency: 2, Retry: backoff.Policy{Sleep: noSleep}}
	s, _ := p.Open(context.Background(), "o")
	var addErr error
	added := 0
	for i := 0; i < 100_000 && addErr == nil; i++ {
		addErr = s.Add(point(i), int64(i))
		added++
	}
	_, err := s.Close()
	if !errors.Is(err, boom) || !errors.Is(addErr, boom) {
		t.Fatalf("Close %v, Add %v; want %v", err, addErr, boom)
	}
	if added == 100_000 {
		t.Fatal("Add went on after the stream failed")
	}
}

func TestConcurrencyBound(t *testing.T) {
	f := &fakeSQS{delay: 5 * time.Millisecond}
	p := &Publisher{Client: f, QueueURL: "q", MaxMessageBytes: 2 << 10, Concurrency: 3, Retry: backoff.Policy{Sleep: noSleep}}
	s, _ := p.Open(context.Background(), "o")
	for i := range 5000 {
		if err := s.Add(point(i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if m := f.maxSeen.Load(); m > 3 || m < 2 {
		t.Fatalf("%d calls in flight at most, want 2 or 3 (bound 3)", m)
	}
	checkDelivered(t, f, "o", 5000, nil)
}

func TestContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeSQS{}
	p := &Publisher{Client: f, QueueURL: "q", Retry: backoff.Policy{Sleep: noSleep}}
	s, _ := p.Open(ctx, "o")
	_ = s.Add(point(0), 0)
	cancel()
	if err := s.Add(point(1), 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Add after cancel: %v", err)
	}
	if _, err := s.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close after cancel: %v", err)
	}
}

func TestPointTooLarge(t *testing.T) {
	p := &Publisher{Client: &fakeSQS{}, QueueURL: "q", MaxMessageBytes: 1100, Retry: backoff.Policy{Sleep: noSleep}}
	s, err := p.Open(context.Background(), "o")
	if err != nil {
		t.Fatal(err)
	}
	big := point(0)
	big.Exchange = strings.Repeat("é", 300)
	if err := s.Add(big, 0); !errors.Is(err, marketdata.ErrPointTooLarge) {
		t.Fatalf("Add(big) = %v", err)
	}
	if err := s.Add(point(1), 1); err != nil {
		t.Fatal(err)
	}
	st, err := s.Close()
	if err != nil || st.Points != 1 {
		t.Fatalf("stats %+v, error %v", st, err)
	}
}

// TestRetryNotPastDeadline checks that a resend whose wait would end after
// the context's deadline is not waited for: the stream fails at once with
// backoff.ErrDeadline, after the one call.
func TestRetryNotPastDeadline(t *testing.T) {
	f := &fakeSQS{respond: func(_ int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		return failEntries(in, map[string]bool{"0": true}, false, "ServiceUnavailable"), nil
	}}
	slept := false
	p := &Publisher{Client: f, QueueURL: "q", Concurrency: 1, Retry: backoff.Policy{Base: time.Hour, Max: time.Hour,
		Rand:  func(n int64) int64 { return n - 1 },
		Sleep: func(context.Context, time.Duration) error { slept = true; return nil }}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, _ := p.Open(ctx, "o")
	if err := s.Add(point(0), 0); err != nil {
		t.Fatal(err)
	}
	st, err := s.Close()
	if !errors.Is(err, backoff.ErrDeadline) || slept || len(f.calls) != 1 || st.Points != 0 {
		t.Fatalf("error %v, slept %v, %d calls, %d points sent; want ErrDeadline at once after one call", err, slept, len(f.calls), st.Points)
	}
}

// A publisher whose Retry sets nothing but Sleep follows the services' one
// default policy (platform/backoff): an entry SQS keeps failing is sent
// backoff.DefaultAttempts times, with waits within the policy's caps.
func TestDefaultRetry(t *testing.T) {
	f := &fakeSQS{respond: func(_ int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		return failEntries(in, map[string]bool{"0": true}, false, "ServiceUnavailable"), nil
	}}
	var waits []time.Duration
	p := &Publisher{Client: f, QueueURL: "q", Retry: backoff.Policy{
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}}
	s, err := p.Open(context.Background(), "o")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(point(0), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Close(); !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("error %v, want ErrRetriesExhausted", err)
	}
	if len(f.calls) != backoff.DefaultAttempts || len(waits) != backoff.DefaultAttempts-1 {
		t.Fatalf("%d sends and %d waits, want %d and %d", len(f.calls), len(waits), backoff.DefaultAttempts, backoff.DefaultAttempts-1)
	}
	for i, d := range waits {
		if c := (backoff.Policy{}).Cap(i + 1); d < 0 || d >= c {
			t.Errorf("wait %d: %v outside [0, %v)", i+1, d, c)
		}
	}
}

// countingSQS accepts everything and only counts.
type countingSQS struct{ calls, entries, bytes atomic.Int64 }

func (c *countingSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.calls.Add(1)
	out := &sqs.SendMessageBatchOutput{Successful: make([]types.SendMessageBatchResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		c.entries.Add(1)
		c.bytes.Add(int64(len(aws.ToString(e.MessageBody))))
		out.Successful[i].Id = e.Id
	}
	return out, nil
}

// BenchmarkPack measures packing (keys, encoding, batching) of points into
// full messages with a counting fake queue.
func BenchmarkPack(b *testing.B) {
	c := &countingSQS{}
	p := &Publisher{Client: c, QueueURL: "q"}
	pts := make([]marketdata.Point, 1024)
	for i := range pts {
		pts[i] = point(i)
	}
	s, _ := p.Open(context.Background(), "s3://bucket/prefix/ticks-2024-06-01.csv#3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
	i := 0
	cpu0 := cputime.Now()
	for b.Loop() {
		if err := s.Add(pts[i&1023], int64(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if _, err := s.Close(); err != nil {
		b.Fatal(err)
	}
	cpu := cputime.Now() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "points/cpu-s")
	b.ReportMetric(float64(c.bytes.Load())/float64(max(c.entries.Load(), 1)), "bytes/msg")
}
