//go:build integration

package processor

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestIntegrationExactPrices: a price of 30 significant digits (and a bid
// and ask of more than a float64 keeps) goes through the queue message the
// ingestion encoder writes, and DynamoDB (moto) gives back exactly those
// digits: in the raw item, the partial's open/close/high/low and the
// latest state, and ddbitem reads them back with their texts.
func TestIntegrationExactPrices(t *testing.T) {
	env := newMotoEnv(t, time.Minute)

	const exact = "179.660000000000000000000000001" // 30 significant digits; its float is 179.66
	p := marketdata.Point{Symbol: "EXACT", Timestamp: testNow.Add(-time.Minute).UnixMilli(), Price: 179.66, Volume: "2", Bid: 179.65, Ask: 179.66,
		PriceTexts: &marketdata.PriceTexts{Price: exact, Bid: "179.650000000000000000000000001", Ask: exact}}
	const origin = "api:exact"
	enc, err := marketdata.NewMessageEncoder(origin, limits.QueueMaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := enc.Add(p, 1); !ok || err != nil {
		t.Fatalf("Add: %v %v", ok, err)
	}
	body := string(enc.Bytes())
	resp, err := env.h.Handle(env.ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "exact-1", Body: body,
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-test", EventSource: "aws:sqs", AWSRegion: "us-east-1",
		Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1772463597000"}}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle: %v %v", resp, err)
	}
	key := string(marketdata.AppendSortKey(nil, p, origin, 1))

	item := env.get(t, ddbitem.Key(p.Symbol, key))
	raw := svals(item)
	if raw[marketdata.AttrPrice] != exact || raw[marketdata.AttrBid] != p.BidText() || raw[marketdata.AttrAsk] != exact {
		t.Fatalf("raw item %v, want price and ask %s, bid %s", raw, exact, p.BidText())
	}
	var it marketdata.RawPointItem
	if err := ddbitem.Decode(item, &it); err != nil || !reflect.DeepEqual(it.Point, p) {
		t.Fatalf("raw item read back %+v, %v; want %+v", it.Point, err, p)
	}

	lo, hi := marketdata.PartialRange(marketdata.WindowStart(p.Timestamp))
	parts := env.query(t, marketdata.PartialKey(p.Symbol), lo, hi)
	if len(parts) != 1 {
		t.Fatalf("partials: %v", parts)
	}
	part := svals(parts[0])
	for _, a := range []string{marketdata.AttrOpen, marketdata.AttrClose, marketdata.AttrHigh, marketdata.AttrLow} {
		if part[a] != exact {
			t.Fatalf("partial's %s is %s, want %s", a, part[a], exact)
		}
	}
	var pit marketdata.PartialItem
	if err := ddbitem.Decode(parts[0], &pit); err != nil || pit.OpenText != exact || pit.HighText != exact {
		t.Fatalf("partial read back %+v, %v", pit, err)
	}
	st := env.get(t, ddbitem.StateKey(p.Symbol))
	if got := svals(st)[marketdata.AttrLastPrice]; got != exact {
		t.Fatalf("latest state's price %s, want %s", got, exact)
	}
	var state marketdata.StateItem
	if err := ddbitem.Decode(st, &state); err != nil || state.LastPriceText != exact {
		t.Fatalf("state read back %+v, %v", state, err)
	}
}
