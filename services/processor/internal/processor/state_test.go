package processor

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestSortKeyOrder: parsed keys compare as the numbers DynamoDB holds.
func TestSortKeyOrder(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1772463600123.5", "1772463600123.5", 0},
		{"1772463600123.5", "1772463600124.1", -1},
		{"1772463600123.5", "1772463600123.45", 1}, // .5 > .45
		{"1772463600123.4", "1772463600123.45", -1},
		{"999.9", "1000.1", -1}, // longer integer part
		{"0.000000000000000001", "0.1", -1},
	}
	for _, tc := range tests {
		keys, err := parseKeys(nil, []marketdata.QueuedPoint{{Key: tc.a}, {Key: tc.b}})
		if err != nil {
			t.Fatal(err)
		}
		if got := keys[0].compare(keys[1]); got != tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := keys[1].compare(keys[0]); got != -tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	if _, err := parseKeys(nil, []marketdata.QueuedPoint{{Key: "1.5"}, {Key: "1.50"}}); !errors.Is(err, marketdata.ErrSortKey) {
		t.Errorf("parseKeys of a non-canonical key: %v", err)
	}
}

// TestLatestStateNeverMovesBackwards delivers a newer and an older batch of
// AAPL points in both orders, and both in one batch: the state must end up
// naming the newest point, having counted every point.
func TestLatestStateNeverMovesBackwards(t *testing.T) {
	newer, older := loadFixture(t, "out_of_order_new.json"), loadFixture(t, "out_of_order_old.json")
	both := events.SQSEvent{Records: append(slices.Clone(older.Records), newer.Records...)}
	newest := decoded(t, newer)["aapl-new"].Points[19]
	tests := []struct {
		name        string
		invocations []events.SQSEvent
		wantUpdates int // UpdateItem requests for the state item
	}{
		{"newer, then older", []events.SQSEvent{newer, older}, 1 + 2}, // the older one's condition fails: count only
		{"older, then newer", []events.SQSEvent{older, newer}, 1 + 1},
		{"both in one batch", []events.SQSEvent{both}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil)
			for _, ev := range tc.invocations {
				if resp, _ := env.h.Process(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
					t.Fatalf("failures %v", resp.BatchItemFailures)
				}
			}
			it := env.db.item(marketdata.StateKey("AAPL"), marketdata.StateSortKey)
			got := map[string]string{}
			for _, a := range []string{marketdata.AttrLastKey, marketdata.AttrLastMillis, marketdata.AttrLastPrice, marketdata.AttrPointCount} {
				got[a] = sval(it[a])
			}
			want := map[string]string{
				marketdata.AttrLastKey: newest.Key, marketdata.AttrLastMillis: strconv.FormatInt(newest.Timestamp, 10),
				marketdata.AttrLastPrice: strconv.FormatFloat(newest.Price, 'f', -1, 64), marketdata.AttrPointCount: "40",
			}
			for a := range want {
				if got[a] != want[a] {
					t.Errorf("%s = %s, want %s", a, got[a], want[a])
				}
			}
			n := 0
			for _, in := range env.db.updateInputs {
				if keyOfItem(in.Key).hash == marketdata.StateKey("AAPL") {
					n++
				}
			}
			if n != tc.wantUpdates {
				t.Errorf("%d UpdateItem requests for the state, want %d", n, tc.wantUpdates)
			}
		})
	}
}

// TestSymbolsIndexWrites: a symbol's index item is written when its state is
// created, not again that day however many batches follow, and once more on
// the next UTC day (which moves its TTL on).
func TestSymbolsIndexWrites(t *testing.T) {
	ev := pointsEvent(t, 3, 4, 5)
	syms := map[string]bool{}
	for _, m := range decoded(t, ev) {
		for _, p := range m.Points {
			syms[p.Symbol] = true
		}
	}
	now := testNow
	env := newEnv(t, func(c *Config) { c.Now = func() time.Time { return now } })
	tests := []struct {
		name string
		at   time.Time
		want int
	}{
		{"first batch: every symbol is new", testNow, len(syms)},
		{"an hour later", testNow.Add(time.Hour), 0},
		{"just before midnight", testNow.Truncate(24 * time.Hour).Add(24*time.Hour - time.Millisecond), 0},
		{"the next UTC day", testNow.Truncate(24 * time.Hour).Add(24 * time.Hour), len(syms)},
	}
	for _, tc := range tests {
		now = tc.at
		before := len(env.db.updateInputs)
		if resp, _ := env.h.Process(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: failures %v", tc.name, resp.BatchItemFailures)
		}
		got := 0
		for _, in := range env.db.updateInputs[before:] {
			if in.Key[marketdata.AttrSymbol].(*dbtypes.AttributeValueMemberS).Value == marketdata.SymbolsIndex {
				got++
			}
		}
		if got != tc.want {
			t.Errorf("%s: %d symbols-index writes, want %d", tc.name, got, tc.want)
		}
	}
}
