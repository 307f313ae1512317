package processor

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

var update = flag.Bool("update", false, "rewrite the testdata fixtures from their generators")

// The fixtures are SQS events as Lambda delivers them, with bodies written by
// the shared encoder (as ingestion writes them) or, for the poison messages,
// by hand. They are generated here so that keys and bodies stay consistent;
// TestFixturesUpToDate fails when a file differs from its generator
// (go test -run TestFixturesUpToDate -update rewrites them).
var fixtures = map[string]func(t *testing.T) []record{
	"batch.json":            batchFixture,
	"poison.json":           poisonFixture,
	"out_of_order_new.json": func(t *testing.T) []record { return outOfOrderFixture(t, "new", -time.Minute) },
	"out_of_order_old.json": func(t *testing.T) []record { return outOfOrderFixture(t, "old", -20*time.Minute) },
}

type record struct{ id, body string }

// batchFixture: three good messages, 90 points, several symbols and windows.
//
//	msg-a  30 AAPL points, 20 s apart from 10 min before testNow (3 windows),
//	       some with sale conditions
//	msg-b  30 points alternating MSFT (all average-price trades) and BRK.B,
//	       1 s apart from 3 min before
//	msg-c  30 BTC-USD points without quote or exchange, 100 ms apart
func batchFixture(t *testing.T) []record {
	t0 := testNow.Add(-10 * time.Minute).UnixMilli()
	a := encodeOne(t, "s3://market-data-test/2026/03/02/a.csv#v1", 30, func(i int) marketdata.Point {
		p := marketdata.Point{Symbol: "AAPL", Timestamp: t0 + int64(i)*20_000, Price: 187 + float64(i)/100, Volume: marketdata.Units(uint64(100 + i)), Exchange: "XNAS"}
		if i%2 == 0 {
			p.Bid, p.Ask = p.Price-0.01, p.Price+0.01
		}
		// Sale conditions: odd lots (volume only), out-of-sequence
		// trades (high/low and volume), the rest regular.
		switch {
		case i%5 == 1:
			p.Conditions = "37"
		case i%7 == 3:
			p.Conditions = "0,33"
		}
		return p
	})
	t1 := testNow.Add(-3 * time.Minute).UnixMilli()
	b := encodeOne(t, "api:req-b", 30, func(i int) marketdata.Point {
		sym := []string{"MSFT", "BRK.B"}[i%2]
		p := marketdata.Point{Symbol: sym, Timestamp: t1 + int64(i)*1000, Price: 410.5 + float64(i), Volume: "10", Bid: 410, Ask: 411.25, Exchange: "XNYS"}
		if sym == "MSFT" {
			p.Conditions = "2" // average-price trades only: windows without prices
		}
		return p
	})
	t2 := testNow.Add(-30 * time.Second).UnixMilli()
	c := encodeOne(t, "s3://market-data-test/2026/03/02/c.ndjson.gz#v2", 30, func(i int) marketdata.Point {
		return marketdata.Point{Symbol: "BTC-USD", Timestamp: t2 + int64(i)*100, Price: 64000.125 + float64(i), Volume: marketdata.Decimal("0." + strconv.Itoa(i) + "5")} // crypto sizes
	})
	return []record{{"msg-a", a}, {"msg-b", b}, {"msg-c", c}}
}

// poisonFixture: two good messages among poison ones; the id says what is
// wrong with each.
func poisonFixture(t *testing.T) []record {
	t0 := testNow.Add(-2 * time.Minute).UnixMilli()
	good := func(sym, origin string) string {
		return encodeOne(t, origin, 10, func(i int) marketdata.Point {
			return marketdata.Point{Symbol: sym, Timestamp: t0 + int64(i), Price: 99.5, Volume: "5"}
		})
	}
	tampered := func(change func(*marketdata.QueuedPoint)) string {
		m := marketdata.Message{Origin: "api:req-poison"}
		for i := range 5 {
			p := marketdata.Point{Symbol: "TSLA", Timestamp: t0 + int64(i), Price: 250, Volume: "1"}
			m.Points = append(m.Points, marketdata.QueuedPoint{Key: string(marketdata.AppendSortKey(nil, p, m.Origin, int64(i))), Point: p})
		}
		change(&m.Points[3])
		b, err := marketdata.EncodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return []record{
		{"good-1", good("AAPL", "api:req-good-1")},
		{"garbage", "this is not JSON"},
		{"empty-body", ""},
		{"truncated", good("NVDA", "api:req-truncated")[:200]},
		{"unknown-version", `{"v":9,"origin":"api:req-v9","points":[]}`},
		{"negative-price", tampered(func(p *marketdata.QueuedPoint) { p.Price = -1 })},
		{"bid-above-ask", tampered(func(p *marketdata.QueuedPoint) { p.Bid, p.Ask = 251, 250 })},
		{"lower-case-symbol", tampered(func(p *marketdata.QueuedPoint) { p.Symbol = "tsla" })},
		{"far-future", tampered(func(p *marketdata.QueuedPoint) { p.Timestamp = testNow.Add(48 * time.Hour).UnixMilli() })},
		{"key-of-another-millisecond", tampered(func(p *marketdata.QueuedPoint) { p.Timestamp++ })},
		{"key-not-a-number", tampered(func(p *marketdata.QueuedPoint) { p.Key = "abc" })},
		{"price-beyond-dynamodb", tampered(func(p *marketdata.QueuedPoint) { p.Price = 1e200 })},
		{"unknown-condition", tampered(func(p *marketdata.QueuedPoint) { p.Conditions = "6" })},
		{"missing-key", `{"v":1,"origin":"api:req-nokey","points":[{"symbol":"TSLA","timestamp":1772463500000,"price":1,"volume":1}]}`},
		{"good-2", good("MSFT", "api:req-good-2")},
	}
}

// outOfOrderFixture: one message of 20 AAPL points ending at testNow+offset.
func outOfOrderFixture(t *testing.T, name string, offset time.Duration) []record {
	end := testNow.Add(offset).UnixMilli()
	return []record{{"aapl-" + name, encodeOne(t, "api:req-"+name, 20, func(i int) marketdata.Point {
		return marketdata.Point{Symbol: "AAPL", Timestamp: end - int64(19-i)*1000, Price: 180 + float64(i), Volume: "1"}
	})}}
}

// encodeOne encodes n points into one message body with the shared encoder.
func encodeOne(t *testing.T, origin string, n int, point func(i int) marketdata.Point) string {
	t.Helper()
	enc, err := marketdata.NewMessageEncoder(origin, limits.QueueMaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if ok, err := enc.Add(point(i), int64(i)); !ok || err != nil {
			t.Fatalf("point %d does not fit: %v", i, err)
		}
	}
	return string(enc.Bytes())
}

// fixtureEvent renders records as an SQS event exactly as Lambda delivers it.
func fixtureEvent(recs []record) events.SQSEvent {
	var ev events.SQSEvent
	for i, r := range recs {
		sum := md5.Sum([]byte(r.body))
		sent := strconv.FormatInt(testNow.Add(-time.Duration(len(recs)-i)*time.Second).UnixMilli(), 10)
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:     r.id,
			ReceiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a" + strconv.Itoa(i),
			Body:          r.body,
			Md5OfBody:     hex.EncodeToString(sum[:]),
			Attributes: map[string]string{
				"ApproximateReceiveCount":          "1",
				"SentTimestamp":                    sent,
				"SenderId":                         "AROAIWPX5BD2BHG722MW4:MarketDataState-test-DataIngestion",
				"ApproximateFirstReceiveTimestamp": sent,
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource:       "aws:sqs",
			EventSourceARN:    "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-test",
			AWSRegion:         "us-east-1",
		})
	}
	return ev
}

func renderFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := json.MarshalIndent(fixtureEvent(fixtures[name](t)), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// loadFixture reads an SQS event from testdata.
func loadFixture(t *testing.T, name string) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func TestFixturesUpToDate(t *testing.T) {
	for name := range fixtures {
		want := renderFixture(t, name)
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from its generator; run go test -run TestFixturesUpToDate -update", path)
		}
	}
}
