package marketdata

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// TestItemNamesMatchExpressions: the names the services' key conditions and
// update expressions use are the dynamodbav tags the readers decode with, so
// the writer of an item and its readers cannot drift apart.
func TestItemNamesMatchExpressions(t *testing.T) {
	tests := []struct {
		item  string
		attrs []string
		names []string // Attr* constants expressions use for this item
	}{
		{"raw point", attributesOf[RawPointItem](true), []string{AttrSymbol, AttrTimestamp, AttrPrice, AttrVolume, AttrBid, AttrAsk,
			AttrExchange, AttrMillis, AttrOrigin, AttrExpiresAt, AttrConditions}},
		{"aggregate", attributesOf[AggregateItem](true), []string{AttrSymbol, AttrTimestamp, AttrTrades, AttrVolume, AttrUpdatedAt}},
		{"latest state", attributesOf[StateItem](true), []string{AttrLastKey, AttrLastPrice, AttrLastMillis, AttrPointCount, AttrUpdatedAt, AttrExpiresAt}},
		{"active window", attributesOf[ActiveWindowItem](true), []string{AttrTimestamp, AttrActiveSymbols, AttrExpiresAt}},
		{"symbols index", attributesOf[SymbolIndexItem](true), []string{AttrIndexedSymbol, AttrExpiresAt}},
		{"ingestion report", attributesOf[IngestionReport](true), []string{AttrExpiresAt, AttrOrigin}},
	}
	for _, tc := range tests {
		t.Run(tc.item, func(t *testing.T) {
			for _, n := range tc.names {
				if !slices.Contains(tc.attrs, n) {
					t.Errorf("expressions name %q, which the item type (%v) does not have", n, tc.attrs)
				}
			}
			if c := slices.Compact(slices.Sorted(slices.Values(tc.attrs))); len(c) != len(tc.attrs) {
				t.Errorf("attribute names repeat: %v", tc.attrs)
			}
		})
	}
}

func attributesOf[T any](optional bool) []string { return attributes(reflect.TypeFor[T](), optional) }

func TestRequiredAttributes(t *testing.T) {
	agg := attributesOf[AggregateItem](false)
	if !slices.Contains(agg, AttrSymbol) || !slices.Contains(agg, "vwap") || slices.Contains(agg, "Symbol") {
		t.Errorf("aggregate: %v", agg)
	}
	if a := attributesOf[ActiveWindowItem](false); slices.Contains(a, AttrActiveSymbols) {
		t.Errorf("active window: %v: the symbol set is optional", a)
	}
	if err := CheckAttributes[ActiveWindowItem](map[string]int{AttrTimestamp: 1, AttrExpiresAt: 2}); err != nil {
		t.Errorf("complete item: %v", err)
	}
	if err := CheckAttributes[ActiveWindowItem](map[string]int{AttrTimestamp: 1}); !errors.Is(err, ErrItem) {
		t.Errorf("item without expiresAt: %v", err)
	}
}

func TestAggregateItemValue(t *testing.T) {
	a := Aggregate{Symbol: "BRK.B", WindowStart: 1709649000000, Trades: 3}
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"written by NewAggregateItem", NewAggregateItem(a).Key, true},
		{"raw point hash key", "BRK.B", false},
		{"state key", StateKey("BRK.B"), false},
		{"prefix without a symbol", AggregatePrefix, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := NewAggregateItem(a)
			it.Key = tc.key
			got, err := it.Value()
			if (err == nil) != tc.ok || tc.ok && got != a {
				t.Errorf("Value() = %+v, %v", got, err)
			}
		})
	}
}
