package table

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// windowBars are two 1-minute bars of the window w1430, one with a VWAP.
func windowBars() []marketdata.Bar {
	return []marketdata.Bar{
		{Symbol: "AAPL", Start: w1430, Length: 60_000, Open: 187.3, High: 187.6, Low: 187.0, Close: 187.4, Volume: "1000", Trades: 12},
		{Symbol: "AAPL", Start: w1430 + 180_000, Length: 60_000, Open: 187.0, High: 187.2, Low: 186.5, Close: 186.8, Volume: "300", VWAP: 186.9, Trades: 4},
	}
}

func barItem(t *testing.T, b marketdata.Bar, ordinal int64) item {
	t.Helper()
	it, err := ddbitem.EncodeBar(marketdata.RawBarItem{Hash: marketdata.BarKey(b.Symbol), Key: marketdata.BarSortKey(b, "o", ordinal), Bar: b, ExpiresAt: 1})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// The repair path folds a window's raw bars with its raw points, so a window
// built from bars and trades is rebuilt to the same summary as its partials
// give: repair never drops bar data. One bar lacks a VWAP: the window's is
// unknown on both paths.
func TestRawWindowSummaryKeepsBars(t *testing.T) {
	bars := windowBars()
	points := [][3]string{{"1709649001000.5", "187.1", "100"}, {"1709649299999.3", "187", "150"}}
	var barsPartial marketdata.Partial
	var barItems []item
	for i, b := range bars {
		key := marketdata.BarSortKey(b, "o", int64(i))
		ms, disc, _ := marketdata.ParseSortKey(key)
		barsPartial.AddBar(ms, disc, b)
		barItems = append(barItems, barItem(t, b, int64(i)))
	}
	bp := ddbitem.EncodePartial(barsPartial.Item("AAPL", "1709649000000.3", 1))
	db := &fakeDB{t: t, pages: [][]item{{partialItem(t, "1709649000000.7", points...), bp}}}
	fromPartials, _, ok, err := (&Table{DB: db, Name: tableName}).WindowSummary(context.Background(), "AAPL", w1430)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	rawDB := &fakeDB{t: t, pages: [][]item{{raw(points[0][0], points[0][1], points[0][2]), raw(points[1][0], points[1][1], points[1][2])}}, bars: barItems}
	fromRaw, read, ok, err := (&Table{DB: rawDB, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430)
	if err != nil || !ok || read != 4 {
		t.Fatal(ok, read, err)
	}
	if fromRaw != fromPartials || fromRaw.Trades != 18 || fromRaw.Volume != "1550" || fromRaw.Open != 187.3 || fromRaw.Close != 187 ||
		fromRaw.High != 187.6 || fromRaw.Low != 186.5 || !fromRaw.VWAPUnknown || fromRaw.VWAP != 0 {
		t.Fatalf("from raw %+v\nfrom partials %+v", fromRaw, fromPartials)
	}
	lo, hi := marketdata.MillisRange(w1430, marketdata.WindowEnd(w1430))
	if q := rawDB.barQueries; len(q) != 1 || q[0].ExpressionAttributeValues[":h"].(*types.AttributeValueMemberS).Value != "BAR#AAPL" ||
		q[0].ExpressionAttributeValues[":lo"].(*types.AttributeValueMemberN).Value != lo ||
		q[0].ExpressionAttributeValues[":hi"].(*types.AttributeValueMemberN).Value != hi || !*q[0].ConsistentRead {
		t.Fatalf("bar queries %+v", q)
	}
	// Only bars: the VWAP of the bar that has one.
	onlyBar := &fakeDB{t: t, pages: [][]item{{}}, bars: barItems[1:]}
	sum, _, ok, err := (&Table{DB: onlyBar, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430)
	if err != nil || !ok || sum.VWAPUnknown || sum.VWAP != 186.9 || sum.FirstMillis != w1430+180_000 || sum.LastMillis != w1430+239_999 {
		t.Fatalf("one bar: %+v %v %v", sum, ok, err)
	}
}

// The repair path reads a raw bar's exact prices back (its stored numbers)
// and folds them in with their texts.
func TestRawWindowSummaryExactBar(t *testing.T) {
	b := windowBars()[0]
	b.HighText, b.CloseText = "187.600000000000000000000000001", "187.399999999999999999999999999"
	db := &fakeDB{t: t, pages: [][]item{{}}, bars: []item{barItem(t, b, 1)}}
	sum, _, ok, err := (&Table{DB: db, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430)
	if err != nil || !ok || sum.High != b.High || sum.HighText != b.HighText || sum.Close != b.Close || sum.CloseText != b.CloseText ||
		sum.OpenText != "" || sum.LowText != "" {
		t.Fatalf("exact bar: %+v %v %v", sum, ok, err)
	}
}

func TestRawWindowSummaryBadBar(t *testing.T) {
	bad := barItem(t, windowBars()[0], 1)
	bad[marketdata.AttrLow] = nv("190") // above the high
	db := &fakeDB{t: t, pages: [][]item{{}}, bars: []item{bad}}
	if _, _, _, err := (&Table{DB: db, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430); err == nil ||
		!strings.Contains(err.Error(), "raw bar") || !strings.Contains(err.Error(), "high 187.6 < low 190") {
		t.Fatalf("err = %v", err)
	}
}
