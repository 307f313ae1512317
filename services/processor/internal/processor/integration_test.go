//go:build integration

package processor

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/services/platform/awstest"
	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestIntegrationMoto runs the handler against moto with the real SDK
// clients, built as main builds them (awsconfig.Load, endpoint from
// AWS_ENDPOINT_URL): BatchWriteItem into a table with the real key schema,
// the conditional state UpdateItem, the string-set index, and PutEvents to a
// custom bus whose rule forwards to an SQS queue the test reads.
func TestIntegrationMoto(t *testing.T) {
	env := newMotoEnv(t, 2*time.Minute)
	ctx, h, sq, queueURL := env.ctx, env.h, env.sq, env.queueURL
	run := func(fixture string, wantFailed ...string) events.SQSEvent {
		ev := loadFixture(t, fixture)
		resp, err := h.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := failedIDs(resp); !slices.Equal(got, wantFailed) {
			t.Fatalf("%s: BatchItemFailures %v, want %v", fixture, got, wantFailed)
		}
		return ev
	}
	batch := run("batch.json")
	poison := run("poison.json", ids(loadFixture(t, "poison.json"), "good-1", "good-2")...)
	run("out_of_order_new.json")
	run("out_of_order_old.json")

	stored := decoded(t, batch)
	maps.Copy(stored, decoded(t, poison))

	all := maps.Clone(stored)
	maps.Copy(all, decoded(t, loadFixture(t, "out_of_order_new.json")))
	maps.Copy(all, decoded(t, loadFixture(t, "out_of_order_old.json")))
	windows := expectedWindows(all)

	get := func(t *testing.T, hash, rng string) map[string]dbtypes.AttributeValue {
		t.Helper()
		return env.get(t, ddbitem.Key(hash, rng))
	}

	t.Run("raw points round-trip", func(t *testing.T) {
		for id, m := range stored {
			for _, p := range m.Points {
				got, want := svals(get(t, p.Symbol, p.Key)), wantRawItem(m.Origin, p)
				if !maps.Equal(got, want) {
					t.Fatalf("%s: read back %v\nwrote     %v", id, got, want)
				}
			}
		}
	})

	t.Run("a millisecond range is a key BETWEEN", func(t *testing.T) {
		aapl := stored["msg-a"].Points
		from, to := aapl[5].Timestamp, aapl[15].Timestamp // [from, to): points 5..14
		lo, hi := marketdata.MillisRange(from, to)
		var got []string
		for _, it := range env.query(t, "AAPL", lo, hi) {
			got = append(got, sval(it[marketdata.AttrTimestamp]))
		}
		var want []string
		for _, p := range aapl[5:15] {
			want = append(want, p.Key)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("query returned keys %v\nwant %v", got, want)
		}
	})

	t.Run("partials: one per message and window, merging to the window's points", func(t *testing.T) {
		for _, w := range windows {
			// Every partial of the window, through its key range.
			lo, hi := marketdata.PartialRange(w.Start)
			items := env.query(t, marketdata.PartialKey(w.Symbol), lo, hi)
			var merged, folded marketdata.Partial
			for _, item := range items {
				var it marketdata.PartialItem
				if err := ddbitem.Decode(item, &it); err != nil {
					t.Fatalf("%v: %v", w, err)
				}
				p, err := it.Partial()
				if err != nil {
					t.Fatalf("%v: %v", w, err)
				}
				merged.Merge(p)
			}
			msgs := 0
			for _, m := range all {
				in := false
				for _, p := range m.Points {
					if p.Symbol == w.Symbol && marketdata.WindowStart(p.Timestamp) == w.Start {
						ms, disc, _ := marketdata.ParseSortKey(p.Key)
						eff, err := conditions.Of(p.Conditions)
						if err != nil {
							t.Fatal(err)
						}
						folded.AddExact(ms, disc, p.Price, p.PriceText(), p.Volume, eff)
						in = true
					}
				}
				if in {
					msgs++
				}
			}
			if len(items) != msgs || merged.String() != folded.String() {
				t.Fatalf("%v: %d partials (want %d, one per message) merging to %v, want %v", w, len(items), msgs, &merged, &folded)
			}
		}
	})

	t.Run("latest state never moves backwards", func(t *testing.T) {
		// The AAPL points came in four invocations, out of order: the
		// batch's are the newest, the out-of-order ones older.
		var newest marketdata.QueuedPoint
		count := 0
		for _, m := range all {
			for _, p := range m.Points {
				if p.Symbol == "AAPL" {
					count++
					if newest.Key == "" || num(&dbtypes.AttributeValueMemberN{Value: p.Key}).Cmp(num(&dbtypes.AttributeValueMemberN{Value: newest.Key})) > 0 {
						newest = p
					}
				}
			}
		}
		got := svals(get(t, marketdata.StateKey("AAPL"), marketdata.StateSortKey))
		want := map[string]string{
			marketdata.AttrSymbol: marketdata.StateKey("AAPL"), marketdata.AttrTimestamp: "0",
			marketdata.AttrLastKey: newest.Key, marketdata.AttrLastMillis: strconv.FormatInt(newest.Timestamp, 10),
			marketdata.AttrLastPrice: marketdata.PriceText(newest.Price, newest.PriceText()), marketdata.AttrPointCount: strconv.Itoa(count),
			marketdata.AttrUpdatedAt: strconv.FormatInt(testNow.UnixMilli(), 10),
			marketdata.AttrExpiresAt: strconv.FormatInt(marketdata.ExpiresAt(testNow), 10),
		}
		if !maps.Equal(got, want) {
			t.Fatalf("state %v\nwant  %v", got, want)
		}
	})

	t.Run("active symbols per window", func(t *testing.T) {
		// Windows from the index horizon on are listed; older ones (the
		// out-of-order fixture's, 20 minutes back) are not.
		want := map[int64][]string{}
		older := 0
		for _, w := range windows {
			if w.Start < marketdata.IndexHorizon(testNow) {
				if item := get(t, marketdata.ActiveWindows, strconv.FormatInt(w.Start, 10)); len(item) > 0 {
					t.Fatalf("window %d, before the horizon, is indexed: %v", w.Start, item)
				}
				older++
				continue
			}
			want[w.Start] = append(want[w.Start], w.Symbol)
		}
		if older == 0 || len(want) == 0 {
			t.Fatalf("%d windows before the horizon, %d after: the fixtures must have both", older, len(want))
		}
		for start, syms := range want {
			item := get(t, marketdata.ActiveWindows, strconv.FormatInt(start, 10))
			set, _ := item[marketdata.AttrActiveSymbols].(*dbtypes.AttributeValueMemberSS)
			if set == nil {
				t.Fatalf("window %d: no active symbols", start)
			}
			got := slices.Sorted(slices.Values(set.Value))
			slices.Sort(syms)
			if !slices.Equal(got, syms) {
				t.Fatalf("window %d: active symbols %v, want %v", start, got, syms)
			}
		}
	})

	t.Run("events reach the bus", func(t *testing.T) {
		var got []marketdata.WindowRef
		deadline := time.Now().Add(20 * time.Second)
		for len(got) < len(windows) && time.Now().Before(deadline) {
			out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages {
				var e struct {
					Source     string                    `json:"source"`
					DetailType string                    `json:"detail-type"`
					Detail     marketdata.WindowsChanged `json:"detail"`
				}
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
					t.Fatalf("event %s: %v", aws.ToString(m.Body), err)
				}
				if e.Source != marketdata.EventSource || e.DetailType != marketdata.EventDetailType {
					t.Fatalf("event source %q, detail type %q", e.Source, e.DetailType)
				}
				got = append(got, e.Detail.Windows...)
			}
		}
		// Each invocation announces its own windows, so a window two
		// invocations changed comes twice; the set must be exact.
		set := slices.SortedFunc(maps.Keys(toSet(got)), compareRefs)
		if !slices.Equal(set, windows) {
			t.Fatalf("windows announced %v\nwant %v", set, windows)
		}
	})
}

func toSet(refs []marketdata.WindowRef) map[marketdata.WindowRef]bool {
	m := map[marketdata.WindowRef]bool{}
	for _, r := range refs {
		m[r] = true
	}
	return m
}

// motoEnv is where every moto test of the handler starts: the real SDK
// clients, built as main builds them (awsconfig.Load, endpoint from
// AWS_ENDPOINT_URL), a fresh table with the real key schema, a bus whose rule
// forwards the processor's events to a fresh queue (all deleted when the
// test ends), and a handler over them whose clock stands at testNow.
type motoEnv struct {
	ctx      context.Context // ends when the test's time is up, or with the test
	db       *dynamodb.Client
	sq       *sqs.Client
	table    string
	queueURL string // the queue the bus's rule forwards the events to
	h        *Handler
}

func newMotoEnv(t *testing.T, timeout time.Duration) *motoEnv {
	t.Helper()
	// No X-Ray daemon or segment here: the instrumented clients must carry
	// on; keep them quiet about it (read by tracing.Init, in Config).
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
	cfg := awstest.Config(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	m := &motoEnv{ctx: ctx, db: dynamodb.NewFromConfig(cfg), sq: sqs.NewFromConfig(cfg), table: awstest.CreateTable(t, cfg)}
	eb, bus := eventbridge.NewFromConfig(cfg), awstest.Names().EventBus()
	m.queueURL = setUp(ctx, t, eb, m.sq, bus)
	h, err := New(m.db, eb, Config{Table: m.table, EventBus: bus, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	m.h = h
	return m
}

// get reads one item, consistently, by its key.
func (m *motoEnv) get(t *testing.T, key map[string]dbtypes.AttributeValue) map[string]dbtypes.AttributeValue {
	t.Helper()
	out, err := m.db.GetItem(m.ctx, &dynamodb.GetItemInput{TableName: &m.table, ConsistentRead: aws.Bool(true), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// query reads, consistently, the items of hash key hash whose range key is
// BETWEEN lo and hi, in key order (one page: the tests' ranges are small).
func (m *motoEnv) query(t *testing.T, hash, lo, hi string) []map[string]dbtypes.AttributeValue {
	t.Helper()
	out, err := m.db.Query(m.ctx, &dynamodb.QueryInput{TableName: &m.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:   aws.String("#s = :s AND #t BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#s": marketdata.AttrSymbol, "#t": marketdata.AttrTimestamp},
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":s": &dbtypes.AttributeValueMemberS{Value: hash},
			":lo": &dbtypes.AttributeValueMemberN{Value: lo}, ":hi": &dbtypes.AttributeValueMemberN{Value: hi}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Items
}

// setUp creates the bus and a rule forwarding the processor's events to a
// fresh queue; it returns the queue's URL and deletes everything when the
// test ends.
func setUp(ctx context.Context, t *testing.T, eb *eventbridge.Client, sq *sqs.Client, bus string) string {
	t.Helper()
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events-" + bus)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl}) })
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &bus}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eb.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: &bus}) })
	pattern := fmt.Sprintf(`{"source":[%q],"detail-type":[%q]}`, marketdata.EventSource, marketdata.EventDetailType)
	rule := "to-queue-" + bus
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule, EventBusName: &bus, EventPattern: &pattern}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		eb.RemoveTargets(context.Background(), &eventbridge.RemoveTargetsInput{Rule: &rule, EventBusName: &bus, Ids: []string{"queue"}})
		eb.DeleteRule(context.Background(), &eventbridge.DeleteRuleInput{Name: &rule, EventBusName: &bus})
	})
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, EventBusName: &bus,
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}}}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl)
}
