package processor

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/services/platform/dynamobatch"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestAppendNumberMatchesStrconv checks the shortcut against strconv's
// shortest 'f' formatting, which is DynamoDB's canonical number form.
func TestAppendNumberMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	values := []float64{1, 0.5, 0.05, 0.1 + 0.2, 187.23, 100, 1e14, 999999999999999, 1e15, 1e15 + 2, 0.000001, 0.0000001,
		123456.789, 5e-324, math.MaxFloat64, 1e21, 1e-7, 0.3, 2.675, 1.005, 9007199254740993, 0.000123, 42.00001,
		0.01, 0.05, 0.1, 0.5, 10, 1e13 - 0.01, 9999999999999.99, 1e13, 99999999999.5, 474.01, 263.65999999999997}
	for range 300000 {
		dec := r.IntN(8)
		v := float64(r.Int64N(1_000_000_000_000)) / math.Pow10(dec) // prices with a few decimals
		values = append(values, v, math.Nextafter(v, math.Inf(1)), r.Float64()*math.Pow10(r.IntN(40)-20))
	}
	for _, v := range values {
		if v == 0 {
			continue
		}
		want := strconv.FormatFloat(v, 'f', -1, 64)
		if got := string(appendNumber([]byte("x"), v)); got != "x"+want {
			t.Fatalf("appendNumber(%v) = %q, strconv says %q", v, got[1:], want)
		}
	}
}

// TestRawItemsDecode: the hand-built raw point items decode, with the
// readers' type and attributevalue, to the point, its key and its origin.
func TestRawItemsDecode(t *testing.T) {
	ms := testNow.Add(-time.Minute).UnixMilli()
	tests := []struct {
		name   string
		origin string
		p      marketdata.Point
	}{
		{"every attribute", "s3://b/k.csv#v1", marketdata.Point{Symbol: "AAPL", Timestamp: ms, Price: 187.25, Volume: "100", Bid: 187.2, Ask: 187.3, Exchange: "XNAS", Conditions: "14,37"}},
		{"conditions only", "", marketdata.Point{Symbol: "AAPL", Timestamp: ms, Price: 187.25, Volume: "7", Conditions: "2"}},
		{"no quote, exchange or origin", "", marketdata.Point{Symbol: "BTC-USD", Timestamp: ms, Price: 64000.125, Volume: "0"}},
		{"extreme numbers", "api:r", marketdata.Point{Symbol: "X", Timestamp: ms, Price: 1e-12, Volume: "9223372036854775807", Bid: 1e-12, Ask: 1e15}},
		{"bid only", "api:r", marketdata.Point{Symbol: "BRK.B", Timestamp: ms, Price: 0.1 + 0.2, Volume: "1", Bid: 0.3}},
		{"fractional volume", "api:r", marketdata.Point{Symbol: "BTCUSDT", Timestamp: ms, Price: 94512.01, Volume: "0.00150001"}},
		{"largest volume", "api:r", marketdata.Point{Symbol: "BTCUSDT", Timestamp: ms, Price: 1, Volume: "9223372036854775807.999999999999999999"}},
		{"exact prices", "api:r", marketdata.Point{Symbol: "AAPL", Timestamp: ms, Price: 179.66, Volume: "1", Bid: 179.65, Ask: 179.66000000000002,
			PriceTexts: &marketdata.PriceTexts{Price: "179.660000000000000000000000001", Bid: "179.6500000000000000000000000000000001", Ask: "179.66000000000002"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := marketdata.Message{Origin: tc.origin, Points: []marketdata.QueuedPoint{
				{Key: string(marketdata.AppendSortKey(nil, tc.p, tc.origin, 3)), Point: tc.p}}}
			if err := checkMessage(m, testNow); err != nil {
				t.Fatal(err)
			}
			items := newRawItemBuilder(testNow, new(itemArena)).appendItems(nil, m)
			var got marketdata.RawPointItem
			if err := ddbitem.Decode(items[0], &got); err != nil {
				t.Fatal(err)
			}
			want := marketdata.RawPointItem{Key: m.Points[0].Key, Point: tc.p, Origin: tc.origin, ExpiresAt: marketdata.ExpiresAt(testNow)}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %+v\nwant    %+v", got, want)
			}
			// Every price is stored as its exact digits.
			if got, want := svals(items[0]), wantRawItem(tc.origin, m.Points[0]); got[marketdata.AttrPrice] != want[marketdata.AttrPrice] ||
				got[marketdata.AttrBid] != want[marketdata.AttrBid] || got[marketdata.AttrAsk] != want[marketdata.AttrAsk] {
				t.Errorf("stored %v, want the prices of %v", got, want)
			}
		})
	}
}

// TestArenaReuse: one arena used for message after message (several at a
// time, then reset, as a batch does), of sizes below, at and far above a
// chunk and of every shape, with a clock that moves on from batch to batch
// (the TTL changes), builds items equal to a fresh arena's, each with
// exactly its shape's attributes, and no two attributes of a batch sharing
// a member.
func TestArenaReuse(t *testing.T) {
	g := newTickGen(9, 7, testNow.Add(-time.Hour))
	reused := new(itemArena)
	for round, sizes := range [][]int{{1, slotChunk / 6, 3}, {slotChunk, 2}, {5, 5 * slotChunk, slotChunk/6 + 1}, {2, 1}} {
		var all []dynamobatch.Item
		now := testNow.Add(time.Duration(round) * time.Hour)
		for i, n := range sizes {
			m := marketdata.Message{Origin: "s3://b/k.csv"}
			if i%2 == 1 {
				m.Origin = "" // the other shapes
			}
			for j := range n {
				p := g.next()
				if j%3 == 0 {
					p.Exchange = ""
				}
				if j%4 == 1 {
					p.Conditions = "14,37"
				}
				m.Points = append(m.Points, marketdata.QueuedPoint{Key: string(marketdata.AppendSortKey(nil, p, m.Origin, int64(j))), Point: p})
			}
			got := newRawItemBuilder(now, reused).appendItems(nil, m)
			want := newRawItemBuilder(now, new(itemArena)).appendItems(nil, m)
			if len(got) != n || len(want) != n {
				t.Fatalf("round %d message %d: %d and %d items for %d points", round, i, len(got), len(want), n)
			}
			for j := range got {
				if !reflect.DeepEqual(got[j], want[j]) {
					t.Fatalf("round %d message %d item %d: reused arena built %v, fresh %v", round, i, j, got[j], want[j])
				}
				if sh := itemShape(m.Points[j].Point, m.Origin); len(got[j]) != attrs(sh) {
					t.Fatalf("round %d message %d item %d: %d attributes, its shape has %d", round, i, j, len(got[j]), attrs(sh))
				}
			}
			all = append(all, got...)
		}
		seen := map[types.AttributeValue]string{} // by pointer
		for _, it := range all {
			for k, v := range it {
				if other, ok := seen[v]; ok {
					t.Fatalf("round %d: attributes %s and %s share the member %p (%v)", round, other, k, v, v)
				}
				seen[v] = k
			}
		}
		reused.reset()
	}
}

// itemShape is the shape of a point's item, from the point itself.
func itemShape(p marketdata.Point, origin string) shape {
	var sh shape
	if p.Bid != 0 {
		sh |= hasBid
	}
	if p.Ask != 0 {
		sh |= hasAsk
	}
	if p.Exchange != "" {
		sh |= hasExchange
	}
	if origin != "" {
		sh |= hasOrigin
	}
	if p.Conditions != "" {
		sh |= hasConditions
	}
	return sh
}
