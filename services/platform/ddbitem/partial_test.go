package ddbitem

import (
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// The hand-built item has exactly PartialItem's attributes, the range key
// is a number, and Decode reads it back as it was.
func TestEncodePartial(t *testing.T) {
	// The points' conditions: none, some excluded from a price field, all
	// excluded from every price field (no open, close, high or low).
	// Each with whole and with fractional (crypto) sizes.
	for k, conds := range [][]string{{""}, {"", "", ""}, {"37", "", "33"}, {"37"}, {"2", "37"}, {"33", "33"}, {""}, {"", "", ""}, {"37", "", "33"}} {
		n := len(conds)
		var p marketdata.Partial
		for i, c := range conds {
			e, err := conditions.Of(c)
			if err != nil {
				t.Fatal(err)
			}
			vol := marketdata.Units(uint64(100 * (i + 1)))
			if k >= 6 {
				vol = marketdata.Decimal("0.00" + strconv.Itoa(i+1) + "5")
			}
			p.AddEffect(1_700_000_000_000+int64(i), 5, 190.12+float64(i)/100, vol, e)
		}
		if k == 1 || k == 7 { // with bars, one without a VWAP (bars and noVwap)
			p.AddBar(1_699_999_980_000, 9, marketdata.Bar{Symbol: "AAPL", Start: 1_699_999_980_000, Length: 60_000,
				Open: 190, High: 191, Low: 189, Close: 190.5, Volume: "1000", Trades: 12})
			p.AddBar(1_699_999_920_000, 9, marketdata.Bar{Symbol: "AAPL", Start: 1_699_999_920_000, Length: 60_000,
				Open: 190, High: 191, Low: 189, Close: 190.5, Volume: "1000", VWAP: 190.25, Trades: 12})
		}
		want := p.Item("AAPL", "1699999800000.123", 1_800_000_000)
		item := EncodePartial(want)
		byReflection, err := attributevalue.MarshalMap(want)
		if err != nil {
			t.Fatal(err)
		}
		if got, exp := slices.Sorted(maps.Keys(item)), slices.Sorted(maps.Keys(byReflection)); !slices.Equal(got, exp) {
			t.Fatalf("%d points: attributes %v, want %v", n, got, exp)
		}
		if _, ok := item[marketdata.AttrTimestamp].(*types.AttributeValueMemberN); !ok {
			t.Fatalf("range key %T, want a number", item[marketdata.AttrTimestamp])
		}
		var got marketdata.PartialItem
		if err := Decode(item, &got); err != nil || got != want {
			t.Fatalf("%d points: decoded %+v, %v; want %+v", n, got, err, want)
		}
	}
}
