package ddbitem

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// exact30 is a price of 30 significant digits; its float is 179.66.
const exact30 = "179.660000000000000000000000001"

// numberOf returns the text of number attribute name of item.
func numberOf(t *testing.T, item map[string]types.AttributeValue, name string) string {
	t.Helper()
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s is %#v, want a number", name, item[name])
	}
	return n.Value
}

// Prices with exact texts are stored as those numbers, digit for digit,
// and read back with their texts; others as their floats' shortest text.
func TestExactPricesStoredAndReadBack(t *testing.T) {
	a := marketdata.Aggregate{Symbol: "AAPL", WindowStart: 300_000, WindowEnd: 600_000,
		Open: 179.66, OpenText: exact30, High: 179.66, HighText: exact30, Low: 179.5, Close: 179.5,
		Volume: "2", VWAP: 179.58, Trades: 2, FirstTs: 300_000, LastTs: 300_001, UpdatedAt: 5}
	it := marketdata.NewAggregateItem(a)
	item, err := Encode(&it)
	if err != nil {
		t.Fatal(err)
	}
	if numberOf(t, item, marketdata.AttrOpen) != exact30 || numberOf(t, item, marketdata.AttrHigh) != exact30 || numberOf(t, item, marketdata.AttrLow) != "179.5" {
		t.Fatalf("aggregate item %v", item)
	}
	var back marketdata.AggregateItem
	if err := Decode(item, &back); err != nil {
		t.Fatal(err)
	}
	if got, err := back.Value(); err != nil || got != a {
		t.Fatalf("read back %+v, %v; want %+v", got, err, a)
	}

	var p marketdata.Partial
	p.AddExact(1_700_000_000_000, 5, 179.66, exact30, "1", conditions.All)
	p.AddExact(1_700_000_000_001, 5, 179.5, "", "1", conditions.All)
	want := p.Item("AAPL", "1699999800000.123", 1_800_000_000)
	pitem := EncodePartial(want)
	if numberOf(t, pitem, marketdata.AttrOpen) != exact30 || numberOf(t, pitem, marketdata.AttrClose) != "179.5" {
		t.Fatalf("partial item %v", pitem)
	}
	var got marketdata.PartialItem
	if err := Decode(pitem, &got); err != nil || got != want {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, want)
	}

	// A stored number of more digits than DynamoDB keeps is no price.
	item[marketdata.AttrOpen] = &types.AttributeValueMemberN{Value: "179.660000000000000000000000000000000000001"}
	if err := Decode(item, &back); !errors.Is(err, marketdata.ErrItem) {
		t.Fatalf("39 digits: %v", err)
	}
}
