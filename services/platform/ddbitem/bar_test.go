package ddbitem

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// A raw bar's item has a numeric range key, the bar's symbol only in its
// hash key, and reads back as written.
func TestEncodeBar(t *testing.T) {
	for _, b := range []marketdata.Bar{
		{Symbol: "AAPL", Start: 1_735_828_200_000, Length: 60_000, Open: 243.5, High: 244, Low: 243.1, Close: 243.9, Volume: "1200", Trades: 17},
		{Symbol: "BTCUSDT", Start: 1_735_828_201_000, Length: 1000, Open: 97000.1, High: 97001, Low: 96999.5, Close: 97000, Volume: "0.01234", PV: "1197.000234", Trades: 4},
		{Symbol: "MSFT", Start: 1_735_828_200_000, Length: 300_000, Open: 420.1, High: 421, Low: 419.99, Close: 420, Volume: "5", VWAP: 420.33, Trades: 2},
		// Exact prices (30 significant digits): stored as their numbers.
		{Symbol: "AAPL", Start: 1_735_828_260_000, Length: 60_000, Open: 243.5, OpenText: "243.500000000000000000000000001",
			High: 244, HighText: "244.000000000000000000000000001", Low: 243.1, Close: 243.9, CloseText: "243.899999999999999999999999999",
			Volume: "1200", VWAP: 243.5, VWAPText: "243.500000000000000000000000007", Trades: 17},
	} {
		want := marketdata.RawBarItem{Hash: marketdata.BarKey(b.Symbol), Key: marketdata.BarSortKey(b, "o", 2), Bar: b, Origin: "o", ExpiresAt: 9}
		item, err := EncodeBar(want)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := item[marketdata.AttrTimestamp].(*types.AttributeValueMemberN); !ok {
			t.Fatalf("range key %T, want a number", item[marketdata.AttrTimestamp])
		}
		if s, ok := item[marketdata.AttrSymbol].(*types.AttributeValueMemberS); !ok || s.Value != "BAR#"+b.Symbol {
			t.Fatalf("hash key %#v", item[marketdata.AttrSymbol])
		}
		for attr, want := range map[string]string{marketdata.AttrOpen: marketdata.PriceText(b.Open, b.OpenText),
			marketdata.AttrHigh: marketdata.PriceText(b.High, b.HighText), marketdata.AttrLow: marketdata.PriceText(b.Low, b.LowText),
			marketdata.AttrClose: marketdata.PriceText(b.Close, b.CloseText), marketdata.AttrBarVWAP: marketdata.PriceText(b.VWAP, b.VWAPText)} {
			if attr == marketdata.AttrBarVWAP && b.VWAP == 0 {
				continue // not given: no attribute
			}
			if n, ok := item[attr].(*types.AttributeValueMemberN); !ok || n.Value != want {
				t.Fatalf("%s: %#v, want the number %s", attr, item[attr], want)
			}
		}
		got, err := DecodeBar(item)
		if err != nil || got != want {
			t.Fatalf("decoded %+v, %v; want %+v", got, err, want)
		}
	}
}
