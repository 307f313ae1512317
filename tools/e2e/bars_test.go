//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// minuteAggs is a Polygon minute aggregates file (us_stocks_sip/
// minute_aggs_v1's columns) of symbol: one bar a minute from start, the
// minutes in skip left out (a quiet minute has no row), then bad rows.
func minuteAggs(symbol string, start time.Time, n int, skip map[int]bool, bad ...string) ([]byte, []marketdata.Bar) {
	var b bytes.Buffer
	b.WriteString("ticker,volume,open,close,high,low,window_start,transactions\n")
	var bars []marketdata.Bar
	for i := range n {
		if skip[i] {
			continue
		}
		cents := int64(19000 + 7*i)
		px := func(c int64) float64 { return float64(c) / 100 }
		bar := marketdata.Bar{Symbol: symbol, Start: start.Add(time.Duration(i) * time.Minute).UnixMilli(), Length: 60_000,
			Open: px(cents), High: px(cents + 40), Low: px(cents - 25), Close: px(cents + 10),
			Volume: marketdata.Units(uint64(1000 + 37*i)), Trades: int64(12 + i%9)}
		bars = append(bars, bar)
		fmt.Fprintf(&b, "%s,%s,%v,%v,%v,%v,%d,%d\n", symbol, bar.Volume, bar.Open, bar.Close, bar.High, bar.Low, bar.Start*1_000_000, bar.Trades)
	}
	for _, l := range bad {
		b.WriteString(l + "\n")
	}
	return b.Bytes(), bars
}

// barWindows computes the windows of bars and trades independently of the
// services: a bar's open at its start and its close at its last
// millisecond, ordered with the trades by time; exact rational volume; the
// VWAP unknown, as Polygon's bars give none.
func barWindows(bars []marketdata.Bar, trades []marketdata.Point) map[int64]marketdata.Aggregate {
	out := map[int64]marketdata.Aggregate{}
	vols := map[int64]*big.Rat{}
	add := func(sym string, start, openTs, closeTs int64, open, high, low, close float64, vol marketdata.Decimal, n int64) {
		a, ok := out[start]
		if !ok {
			a = marketdata.Aggregate{Symbol: sym, WindowStart: start, WindowEnd: start + 300_000, Open: open, High: high, Low: low,
				Close: close, FirstTs: openTs, LastTs: closeTs, VWAPUnknown: true}
			vols[start] = new(big.Rat)
		}
		if openTs < a.FirstTs {
			a.FirstTs, a.Open = openTs, open
		}
		if closeTs > a.LastTs {
			a.LastTs, a.Close = closeTs, close
		}
		a.High, a.Low = max(a.High, high), min(a.Low, low)
		a.Trades += n
		v, _ := new(big.Rat).SetString(vol.String())
		vols[start].Add(vols[start], v)
		a.Volume = marketdata.Decimal(ratText(vols[start]))
		out[start] = a
	}
	for _, b := range bars {
		add(b.Symbol, marketdata.WindowStart(b.Start), b.Start, b.End(), b.Open, b.High, b.Low, b.Close, b.Volume, b.Trades)
	}
	for _, p := range trades {
		add(p.Symbol, marketdata.WindowStart(p.Timestamp), p.Timestamp, p.Timestamp, p.Price, p.Price, p.Price, p.Price, p.Volume, 1)
	}
	return out
}

// TestBarsEndToEnd: a Polygon minute aggregates file goes through the local
// pipeline beside a file of trades of the same symbol: the report names the
// profile and refuses the bad bars per line; every bar is stored as sent;
// each window merges the bars with the trades to an independent
// computation, its VWAP unknown (the bars gave none) rather than invented.
func TestBarsEndToEnd(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	const symbol = "E2EBARP"
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(-6 * time.Hour) // yesterday 18:00 UTC
	body, bars := minuteAggs(symbol, start, 13, map[int]bool{6: true},
		fmt.Sprintf("%s,100,190,190,189,191,%d,3", symbol, start.Add(20*time.Minute).UnixNano()),     // high < low
		fmt.Sprintf("%s,100,190,190,191,189,%d,3", symbol, start.Add(20*time.Minute).UnixNano()+5e8), // misaligned
	)
	trades := []marketdata.Point{
		{Symbol: symbol, Timestamp: start.Add(30*time.Second).UnixMilli() + 7, Price: 189.5, Volume: "40"},
		{Symbol: symbol, Timestamp: start.Add(4*time.Minute+59*time.Second).UnixMilli() + 999, Price: 191.75, Volume: "5"},
		{Symbol: symbol, Timestamp: start.Add(11 * time.Minute).UnixMilli(), Price: 190.5, Volume: "10"},
	}
	barsKey := "e2e/bars/us_stocks_sip/minute_aggs_v1/" + symbol + ".csv"
	tradesKey := "e2e/bars/" + symbol + "-trades.csv"
	for key, data := range map[string][]byte{barsKey: body, tradesKey: csvObject(trades)} {
		if _, err := upload(ctx, p, key, data); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := waitReport(ctx, p, barsKey, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != marketdata.ReportCompleted || rep.Profile != marketdata.ProfilePolygonMinuteAggs ||
		rep.Accepted != int64(len(bars)) || rep.Rejected != 2 || rep.TimestampUnits["ns"] != int64(len(bars)) {
		t.Fatalf("report %s profile %q accepted %d rejected %d units %v (%s)", rep.Status, rep.Profile, rep.Accepted, rep.Rejected,
			rep.TimestampUnits, rep.Error)
	}
	for i, rj := range rep.Rejections {
		want := []string{"polygon-minute-aggs high:", "polygon-minute-aggs window_start:"}[i]
		if rj.Index != int64(len(bars)+2+i) || !strings.HasPrefix(rj.Reason, want) {
			t.Fatalf("rejection %+v, want line %d naming %q", rj, len(bars)+2+i, want)
		}
	}
	if rep, err := waitReport(ctx, p, tradesKey, 2*time.Minute); err != nil || rep.Accepted != int64(len(trades)) {
		t.Fatalf("trades report %+v %v", rep, err)
	}
	want := barWindows(bars, trades)
	err = eventually(ctx, 2*time.Minute, func() error {
		got, err := table(p).Aggregates(ctx, symbol)
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			return fmt.Errorf("%d windows, want %d", len(got), len(want))
		}
		for _, a := range got {
			w := want[a.WindowStart]
			a.UpdatedAt, a.PV, a.Prices = 0, "", ""
			a.OpenText, a.HighText, a.LowText, a.CloseText = "", "", "", ""
			if a != w {
				return fmt.Errorf("window %d\n got %+v\nwant %+v", a.WindowStart, a, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := table(p).Bars(ctx, symbol, 0, time.Now().UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(bars) {
		t.Fatalf("%d bars stored, %d sent", len(stored), len(bars))
	}
	for i := range bars {
		if stored[i] != bars[i] {
			t.Fatalf("bar %d stored %+v, sent %+v", i, stored[i], bars[i])
		}
	}
}
