//go:build integration

package processor

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/services/platform/awstest"
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
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
	cfg := awstest.Config(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, eb, sq := dynamodb.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	table, bus := awstest.CreateTable(t, cfg), awstest.Names().EventBus()
	setUp(ctx, t, eb, sq, bus)
	h, err := New(db, eb, Config{Table: table, EventBus: bus, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}

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
	resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "exact-1", Body: body,
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-test", EventSource: "aws:sqs", AWSRegion: "us-east-1",
		Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1772463597000"}}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle: %v %v", resp, err)
	}
	key := string(marketdata.AppendSortKey(nil, p, origin, 1))

	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true), Key: ddbitem.Key(p.Symbol, key)})
	if err != nil {
		t.Fatal(err)
	}
	raw := svals(out.Item)
	if raw[marketdata.AttrPrice] != exact || raw[marketdata.AttrBid] != p.BidText() || raw[marketdata.AttrAsk] != exact {
		t.Fatalf("raw item %v, want price and ask %s, bid %s", raw, exact, p.BidText())
	}
	var it marketdata.RawPointItem
	if err := ddbitem.Decode(out.Item, &it); err != nil || !reflect.DeepEqual(it.Point, p) {
		t.Fatalf("raw item read back %+v, %v; want %+v", it.Point, err, p)
	}

	lo, hi := marketdata.PartialRange(marketdata.WindowStart(p.Timestamp))
	q, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:   aws.String("#s = :s AND #t BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#s": marketdata.AttrSymbol, "#t": marketdata.AttrTimestamp},
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":s": &dbtypes.AttributeValueMemberS{Value: marketdata.PartialKey(p.Symbol)},
			":lo": &dbtypes.AttributeValueMemberN{Value: lo}, ":hi": &dbtypes.AttributeValueMemberN{Value: hi}},
	})
	if err != nil || len(q.Items) != 1 {
		t.Fatalf("partials: %v, %v", q, err)
	}
	part := svals(q.Items[0])
	for _, a := range []string{marketdata.AttrOpen, marketdata.AttrClose, marketdata.AttrHigh, marketdata.AttrLow} {
		if part[a] != exact {
			t.Fatalf("partial's %s is %s, want %s", a, part[a], exact)
		}
	}
	var pit marketdata.PartialItem
	if err := ddbitem.Decode(q.Items[0], &pit); err != nil || pit.OpenText != exact || pit.HighText != exact {
		t.Fatalf("partial read back %+v, %v", pit, err)
	}
	st, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true), Key: ddbitem.StateKey(p.Symbol)})
	if err != nil {
		t.Fatal(err)
	}
	if got := svals(st.Item)[marketdata.AttrLastPrice]; got != exact {
		t.Fatalf("latest state's price %s, want %s", got, exact)
	}
	var state marketdata.StateItem
	if err := ddbitem.Decode(st.Item, &state); err != nil || state.LastPriceText != exact {
		t.Fatalf("state read back %+v, %v", state, err)
	}
}
