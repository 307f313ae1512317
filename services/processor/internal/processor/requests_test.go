package processor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// countingAWS answers every call with success and counts them. An update
// of an item it has updated before answers UPDATED_OLD with an updatedAt of
// testNow, as a table would within the day.
type countingAWS struct {
	batchWrites, items, updates, putEvents, entries atomic.Int64
	updated                                         sync.Map // hash key of every item updated
}

func (c *countingAWS) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.batchWrites.Add(1)
	n := len(in.RequestItems[testTable])
	if n == 0 || n > limits.DynamoBatchWriteItems {
		return nil, fmt.Errorf("ValidationException: %d items", n)
	}
	c.items.Add(int64(n))
	return &dynamodb.BatchWriteItemOutput{}, nil
}

func (c *countingAWS) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.updates.Add(1)
	hash := in.Key[marketdata.AttrSymbol].(*dbtypes.AttributeValueMemberS).Value
	if _, seen := c.updated.LoadOrStore(hash, true); !seen || in.ReturnValues != dbtypes.ReturnValueUpdatedOld {
		return &dynamodb.UpdateItemOutput{}, nil
	}
	upd := &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(testNow.UnixMilli(), 10)}
	return &dynamodb.UpdateItemOutput{Attributes: map[string]dbtypes.AttributeValue{marketdata.AttrUpdatedAt: upd}}, nil
}

func (c *countingAWS) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	c.putEvents.Add(1)
	c.entries.Add(int64(len(in.Entries)))
	return &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}, nil
}

// TestRequestCountsPerMillionPoints pushes a million points, packed into
// full messages (limits.QueueMaxMessageBytes) by the shared encoder and delivered in SQS batches of 10,
// through the handler, and counts the AWS requests it makes.
func TestRequestCountsPerMillionPoints(t *testing.T) {
	const points, symbols, batchSize = 1_000_000, 100, 10
	bodies := encodeBodies(t, newTickGen(42, symbols, testNow.Add(-6*time.Hour)), points, "s3://market-data-test/big.csv#v1")
	aws := &countingAWS{}
	h, err := New(aws, aws, Config{Table: testTable, EventBus: testBus, Now: func() time.Time { return testNow },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	batches, maxUpdatesPerBatch, partials := 0, int64(0), 0
	seen := map[string]bool{}
	for lo := 0; lo < len(bodies); lo += batchSize {
		ev := sqsEvent(fmt.Sprintf("b%03d", batches), bodies[lo:min(lo+batchSize, len(bodies))]...)
		before := aws.updates.Load()
		resp, st := h.Process(context.Background(), ev)
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("batch %d: failures %v", batches, resp.BatchItemFailures)
		}
		// One state update per symbol and one index update per window
		// start the schedule still reads, whatever the number of points,
		// plus one symbols-index write per symbol first seen (today).
		starts, fresh := map[int64]bool{}, 0
		msgs := decoded(t, ev)
		for id, m := range msgs { // one partial per message and (symbol, window)
			partials += len(expectedWindows(map[string]marketdata.Message{id: m}))
		}
		for _, w := range expectedWindows(msgs) {
			if w.Start >= marketdata.IndexHorizon(testNow) {
				starts[w.Start] = true
			}
			if !seen[w.Symbol] {
				seen[w.Symbol] = true
				fresh++
			}
		}
		if n := aws.updates.Load() - before; n > int64(symbols+len(starts)+fresh) {
			t.Errorf("batch %d: %d UpdateItem requests for %d points, %d windows", batches, n, st.Points, st.Windows)
		} else {
			maxUpdatesPerBatch = max(maxUpdatesPerBatch, n)
		}
		batches++
	}

	ceil := (points + partials + limits.DynamoBatchWriteItems - 1) / limits.DynamoBatchWriteItems
	if got := aws.items.Load(); got != int64(points+partials) {
		t.Fatalf("%d items written, want %d points and %d partials", got, points, partials)
	}
	// Dense data: a message's points share few windows, so the partials
	// add a few percent to the writes (README, "Linear aggregation").
	if partials*10 > points {
		t.Errorf("%d partials for %d points: more than one write in ten", partials, points)
	}
	if got, limit := aws.batchWrites.Load(), int64(float64(ceil)*1.02); got > limit {
		t.Errorf("%d BatchWriteItem requests, want at most %d (1.02 x ceil(items/25))", got, limit)
	}
	if got := aws.putEvents.Load(); got > int64(batches) {
		t.Errorf("%d PutEvents requests for %d SQS batches, want at most one per batch", got, batches)
	}
	total := aws.batchWrites.Load() + aws.updates.Load() + aws.putEvents.Load()
	if total*10 > points {
		t.Errorf("%d requests for %d points: that is a request per few points", total, points)
	}
	t.Logf("partials written per million points: %d (%.4f extra writes per point)", partials*1_000_000/points, float64(partials)/points)
	t.Logf("per %d points in %d messages (%d SQS batches): BatchWriteItem %d (ceil(items/25) = %d), UpdateItem %d (at most %d per batch), PutEvents %d with %d entries",
		points, len(bodies), batches, aws.batchWrites.Load(), ceil, aws.updates.Load(), maxUpdatesPerBatch, aws.putEvents.Load(), aws.entries.Load())
}

// TestRetriesStopBeforeTheLambdaDeadline: with items that never get
// processed and a backoff longer than the time left, the handler gives up
// before the deadline and reports the messages, instead of being killed.
func TestRetriesStopBeforeTheLambdaDeadline(t *testing.T) {
	env := newEnv(t, func(c *Config) {
		c.Backoff = backoff.Policy{Base: 10 * time.Second, Max: 10 * time.Second, Attempts: 10,
			Rand: func(n int64) int64 { return n - 1 }}
		c.DeadlineReserve = 100 * time.Millisecond
	})
	env.db.unprocessed = func(k tableKey, _ int) bool { return k.hash == "BTC-USD" }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	resp, _ := env.h.Process(ctx, loadFixture(t, "batch.json"))
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("Process took %s with a 2 s deadline: it slept instead of giving up", elapsed)
	}
	if got := failedIDs(resp); len(got) != 1 || got[0] != "msg-c" {
		t.Fatalf("failures %v, want msg-c", got)
	}
	if reason := errorLogs(t, env.logs.String())["msg-c"]; !strings.Contains(reason, backoff.ErrDeadline.Error()) {
		t.Fatalf("reason %q does not say the deadline was near", reason)
	}
}

// TestSparseDataExtraWrites: one point per window (twenty years of daily
// closes) makes one partial per point: one extra write per point stored,
// each item about the size of the raw point (its sums are left out).
func TestSparseDataExtraWrites(t *testing.T) {
	history := dailyCloses("OLDA", "OLDB")
	var bodies []string
	enc, err := marketdata.NewMessageEncoder("s3://market-data-test/daily.csv#v1", limits.QueueMaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range history {
		ok, err := enc.Add(p, int64(i))
		if err == nil && !ok {
			bodies = append(bodies, string(enc.Bytes()))
			enc.Reset()
			ok, err = enc.Add(p, int64(i))
		}
		if err != nil || !ok {
			t.Fatalf("point %d: %v", i, err)
		}
	}
	bodies = append(bodies, string(enc.Bytes()))
	aws := &countingAWS{}
	h, err := New(aws, aws, Config{Table: testTable, EventBus: testBus, Now: func() time.Time { return testNow },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	partials := 0
	for lo := 0; lo < len(bodies); lo += 10 {
		resp, st := h.Process(context.Background(), sqsEvent(fmt.Sprintf("d%03d", lo), bodies[lo:min(lo+10, len(bodies))]...))
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures %v", resp.BatchItemFailures)
		}
		partials += st.Partials
	}
	extra := float64(aws.items.Load()-int64(len(history))) / float64(len(history))
	if partials != len(history) || extra != 1 {
		t.Fatalf("%d partials for %d sparse points, %.3f extra writes per point; want one each", partials, len(history), extra)
	}
	t.Logf("sparse data (one point per window): %.2f extra writes per point stored", extra)
}
