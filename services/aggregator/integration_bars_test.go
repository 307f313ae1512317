//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/handler"
	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/services/platform/dynamobatch"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// putBars stores bars as the processor does: their raw bar items, and one
// partial of them (one message) per window.
func (e *env) putBars(origin string, bars []marketdata.Bar) {
	e.t.Helper()
	parts := map[marketdata.WindowRef]*marketdata.Partial{}
	hashes := map[marketdata.WindowRef]*marketdata.PartialHash{}
	var items []dynamobatch.Item
	var order []marketdata.WindowRef
	for i, b := range bars {
		key := marketdata.BarSortKey(b, origin, int64(i))
		it, err := ddbitem.EncodeBar(marketdata.RawBarItem{Hash: marketdata.BarKey(b.Symbol), Key: key, Bar: b, Origin: origin,
			ExpiresAt: marketdata.ExpiresAt(time.Now())})
		if err != nil {
			e.t.Fatal(err)
		}
		items = append(items, it)
		ref := marketdata.WindowRef{Symbol: b.Symbol, Start: marketdata.WindowStart(b.Start)}
		if parts[ref] == nil {
			parts[ref], order = &marketdata.Partial{}, append(order, ref)
			h := marketdata.NewPartialHash(origin, b.Symbol)
			hashes[ref] = &h
		}
		ms, disc, _ := marketdata.ParseSortKey(key)
		parts[ref].AddBar(ms, disc, b)
		hashes[ref].Add(key)
	}
	for _, ref := range order {
		items = append(items, ddbitem.EncodePartial(parts[ref].Item(ref.Symbol, hashes[ref].SortKey(ref.Start), marketdata.ExpiresAt(time.Now()))))
	}
	e.putRaw(items)
}

// barOracle is a window's aggregate computed independently of
// marketdata.Partial: the bars' open at their start and close at their last
// millisecond, with the trades, by time; exact rational sums, the bars'
// price×volume their PV or VWAP × volume, unknown when a bar has neither.
func barOracle(symbol string, start int64, bars []marketdata.Bar, trades []keyed) (marketdata.Aggregate, bool) {
	a := marketdata.Aggregate{Symbol: symbol, WindowStart: start, WindowEnd: start + 300_000}
	vol, pv := new(big.Rat), new(big.Rat)
	known := true
	firstTs, lastTs := int64(-1), int64(-1)
	take := func(openTs, closeTs int64, open, high, low, close float64) {
		if firstTs < 0 || openTs < firstTs {
			firstTs, a.Open = openTs, open
		}
		if closeTs > lastTs {
			lastTs, a.Close = closeTs, close
		}
		if a.High == 0 || high > a.High {
			a.High = high
		}
		if a.Low == 0 || low < a.Low {
			a.Low = low
		}
	}
	rat := func(s string) *big.Rat { r, _ := new(big.Rat).SetString(s); return r }
	for _, b := range bars {
		if b.Symbol != symbol || marketdata.WindowStart(b.Start) != start {
			continue
		}
		take(b.Start, b.Start+b.Length-1, b.Open, b.High, b.Low, b.Close)
		a.Trades += b.Trades
		v := rat(b.Volume.String())
		vol.Add(vol, v)
		switch {
		case b.PV != "":
			pv.Add(pv, rat(b.PV.String()))
		case b.VWAP != 0:
			pv.Add(pv, new(big.Rat).Mul(new(big.Rat).SetFloat64(b.VWAP), v))
		default:
			known = false
		}
	}
	for _, k := range trades { // distinct milliseconds from the bars' ends here
		if k.p.Symbol != symbol || marketdata.WindowStart(k.p.Timestamp) != start {
			continue
		}
		take(k.p.Timestamp, k.p.Timestamp, k.p.Price, k.p.Price, k.p.Price, k.p.Price)
		a.Trades++
		v := rat(k.p.Volume.String())
		vol.Add(vol, v)
		pv.Add(pv, new(big.Rat).Mul(new(big.Rat).SetFloat64(k.p.Price), v))
	}
	a.FirstTs, a.LastTs = firstTs, lastTs
	a.Volume = marketdata.Decimal(vol.FloatString(8))
	if d, err := marketdata.ParseSum(vol.FloatString(8)); err == nil {
		a.Volume = d
	}
	if known {
		a.VWAP, _ = new(big.Rat).Quo(pv, vol).Float64()
	} else {
		a.VWAPUnknown = true
	}
	return a, a.Trades > 0
}

// TestIntegrationBars: windows holding bars (Polygon's, without VWAP;
// Binance's, with their exact quote volume) and trades are aggregated from
// their partials to what an independent computation gives, the VWAP unknown
// where a bar gave none; the from-raw repair path, which folds the raw bars
// with the raw points, rewrites them identically.
func TestIntegrationBars(t *testing.T) {
	e := setup(t)
	clock := time.Now().UTC().Truncate(time.Second)
	e.h.Now = func() time.Time { return clock }
	w := marketdata.WindowStart(clock.UnixMilli()) - 3*300_000
	var bars []marketdata.Bar
	for i := range 5 { // AAPL: Polygon minute aggregates, no VWAP
		px := 190 + float64(i)/4
		bars = append(bars, marketdata.Bar{Symbol: "AAPL", Start: w + int64(i)*60_000, Length: 60_000, Open: px, High: px + 0.5,
			Low: px - 0.5, Close: px + 0.25, Volume: marketdata.Units(uint64(1000 + 10*i)), Trades: int64(20 + i)})
	}
	for i := range 10 { // BTCUSDT: Binance 1m klines over two windows, exact quote volume
		px := 97000.5 + float64(i)
		bars = append(bars, marketdata.Bar{Symbol: "BTCUSDT", Start: w + int64(i)*60_000, Length: 60_000, Open: px, High: px + 3,
			Low: px - 3, Close: px + 1, Volume: "0.12345678", PV: marketdata.Decimal(new(big.Rat).Mul(new(big.Rat).SetFloat64(px+0.125),
				big.NewRat(12345678, 100_000_000)).FloatString(12)), Trades: int64(100 + i)})
	}
	for i := range bars { // canonical decimals, as ingestion gives them
		if bars[i].PV != "" {
			d, err := marketdata.ParseSum(string(bars[i].PV))
			if err != nil {
				t.Fatal(err)
			}
			bars[i].PV = d
		}
	}
	e.putBars("s3://market-data-it/minute_aggs.csv#v1", bars[:5])
	e.putBars("s3://market-data-it/BTCUSDT-1m.csv#v1", bars[5:])
	var trades []keyed
	for i, p := range []marketdata.Point{
		{Symbol: "AAPL", Timestamp: w + 90_123, Price: 191.5, Volume: "300"},
		{Symbol: "AAPL", Timestamp: w + 299_999 - 7, Price: 189.25, Volume: "50"},
		{Symbol: "BTCUSDT", Timestamp: w + 305_001, Price: 97010.25, Volume: "0.001"},
	} {
		keys := e.putPoints("api:trades-"+strconv.Itoa(i), []marketdata.Point{p})
		trades = append(trades, keyed{keys[0], p})
	}
	refs := []marketdata.WindowRef{{Symbol: "AAPL", Start: w}, {Symbol: "BTCUSDT", Start: w}, {Symbol: "BTCUSDT", Start: w + 300_000}}
	if _, err := e.h.Invoke(e.ctx, windowsEvent(refs...)); err != nil {
		t.Fatal(err)
	}
	fromPartials := map[marketdata.WindowRef]marketdata.Aggregate{}
	for _, ref := range refs {
		got, ok := e.stored(ref.Symbol, ref.Start)
		want, _ := barOracle(ref.Symbol, ref.Start, bars, trades)
		want.UpdatedAt = clock.UnixMilli()
		if !ok {
			t.Fatalf("%v: no aggregate", ref)
		}
		fromPartials[ref] = got
		if got.VWAPUnknown != want.VWAPUnknown || (ref.Symbol == "AAPL") != got.VWAPUnknown {
			t.Errorf("%v: VWAP unknown %v, want %v", ref, got.VWAPUnknown, want.VWAPUnknown)
		}
		if !want.VWAPUnknown && got.VWAP != want.VWAP { // exact: the PVs are exact, rounded once
			t.Errorf("%v: VWAP %.17g, want %.17g", ref, got.VWAP, want.VWAP)
		}
		got.OpenText, got.HighText, got.LowText, got.CloseText = "", "", "", ""
		assertAggregate(t, got, want)
	}
	// The repair path rebuilds the same windows from the raw bars and points.
	detail, _ := json.Marshal(marketdata.WindowsChanged{Windows: refs, FromRaw: true})
	ev := json.RawMessage(fmt.Sprintf(`{"version":"0","id":"4","detail-type":%q,"source":%q,"account":"123456789012",
		"time":"2024-03-05T14:35:01Z","region":"us-east-1","resources":[],"detail":%s}`, marketdata.EventDetailType, marketdata.EventSource, detail))
	clock = clock.Add(time.Minute)
	out, err := e.h.Invoke(e.ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if res := out.(handler.Result); !res.FromRaw || res.Written != 3 || res.ItemsRead != int64(len(bars)+len(trades)) {
		t.Fatalf("from raw: %+v, want %d items read and 3 windows written", res, len(bars)+len(trades))
	}
	for _, ref := range refs {
		got, _ := e.stored(ref.Symbol, ref.Start)
		got.UpdatedAt = fromPartials[ref].UpdatedAt
		if got != fromPartials[ref] {
			t.Errorf("%v: from raw %+v\nfrom partials %+v", ref, got, fromPartials[ref])
		}
	}
}
