//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
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
// millisecond, ordered with the trades by time; exact rational volume and
// Σ price×volume (a bar's PV as given, or its VWAP's float times its
// volume), VWAP their quotient rounded once; unknown when a bar has neither.
func barWindows(bars []marketdata.Bar, trades []marketdata.Point) map[int64]marketdata.Aggregate {
	out := map[int64]marketdata.Aggregate{}
	vols, pvs := map[int64]*big.Rat{}, map[int64]*big.Rat{}
	rat := func(s string) *big.Rat { r, _ := new(big.Rat).SetString(s); return r }
	add := func(sym string, start, openTs, closeTs int64, open, high, low, close float64, vol marketdata.Decimal, pv *big.Rat, n int64) {
		a, ok := out[start]
		if !ok {
			a = marketdata.Aggregate{Symbol: sym, WindowStart: start, WindowEnd: start + 300_000, Open: open, High: high, Low: low,
				Close: close, FirstTs: openTs, LastTs: closeTs}
			vols[start], pvs[start] = new(big.Rat), new(big.Rat)
		}
		if openTs < a.FirstTs {
			a.FirstTs, a.Open = openTs, open
		}
		if closeTs > a.LastTs {
			a.LastTs, a.Close = closeTs, close
		}
		a.High, a.Low = max(a.High, high), min(a.Low, low)
		a.Trades += n
		vols[start].Add(vols[start], rat(vol.String()))
		a.Volume = marketdata.Decimal(ratText(vols[start]))
		if pv == nil {
			a.VWAPUnknown = true
		} else {
			pvs[start].Add(pvs[start], pv)
		}
		a.VWAP = 0
		if !a.VWAPUnknown {
			a.VWAP, _ = new(big.Rat).Quo(pvs[start], vols[start]).Float64()
		}
		out[start] = a
	}
	for _, b := range bars {
		var pv *big.Rat
		switch {
		case b.PV != "":
			pv = rat(b.PV.String())
		case b.VWAP != 0:
			pv = new(big.Rat).Mul(new(big.Rat).SetFloat64(b.VWAP), rat(b.Volume.String()))
		}
		add(b.Symbol, marketdata.WindowStart(b.Start), b.Start, b.End(), b.Open, b.High, b.Low, b.Close, b.Volume, pv, b.Trades)
	}
	for _, p := range trades {
		pv := new(big.Rat).Mul(new(big.Rat).SetFloat64(p.Price), rat(p.Volume.String()))
		add(p.Symbol, marketdata.WindowStart(p.Timestamp), p.Timestamp, p.Timestamp, p.Price, p.Price, p.Price, p.Price, p.Volume, pv, 1)
	}
	return out
}

// klines is a Binance spot klines file (data.binance.vision's 12 columns, no
// header) of n 1-minute bars from start, in ms, each with an exact quote
// volume of more fraction digits than its volume.
func klines(start time.Time, n int) ([]byte, []marketdata.Bar) {
	var b bytes.Buffer
	var bars []marketdata.Bar
	for i := range n {
		o := 67500.5 + float64(i)
		vol := fmt.Sprintf("0.%08d", 12345678+i*1111)
		v, _ := new(big.Rat).SetString(vol)
		pv := new(big.Rat).Mul(v, new(big.Rat).SetFrac64(int64(o*100)+37, 100)) // a VWAP of o + 0.37
		pvText, _ := marketdata.ParseSum(pv.FloatString(10))
		bar := marketdata.Bar{Start: start.Add(time.Duration(i) * time.Minute).UnixMilli(), Length: 60_000, Open: o, High: o + 2,
			Low: o - 1.5, Close: o + 0.75, Volume: marketdata.Decimal(strings.TrimRight(vol, "0")), PV: pvText, Trades: int64(30 + i)}
		bars = append(bars, bar)
		fmt.Fprintf(&b, "%d,%.8f,%.8f,%.8f,%.8f,%s,%d,%s,%d,0.00100000,67.50000000,0\n", bar.Start, bar.Open, bar.High, bar.Low, bar.Close,
			vol, bar.End(), pv.FloatString(10), bar.Trades)
	}
	return b.Bytes(), bars
}

// alpacaBars is Alpaca's bars stream NDJSON ("b" messages) of symbol: n
// 1-minute bars from start, each with its VWAP.
func alpacaBars(symbol string, start time.Time, n int) ([]byte, []marketdata.Bar) {
	var b bytes.Buffer
	var bars []marketdata.Bar
	for i := range n {
		o := 415.1 + float64(i)/10
		bar := marketdata.Bar{Symbol: symbol, Start: start.Add(time.Duration(i) * time.Minute).UnixMilli(), Length: 60_000, Open: o,
			High: o + 0.3, Low: o - 0.2, Close: o + 0.1, Volume: marketdata.Units(uint64(50000 + 123*i)), VWAP: o + 0.05, Trades: int64(800 + i)}
		bars = append(bars, bar)
		fmt.Fprintf(&b, `{"T":"b","S":%q,"o":%v,"h":%v,"l":%v,"c":%v,"v":%s,"t":%q,"n":%d,"vw":%v}`+"\n", symbol, bar.Open, bar.High,
			bar.Low, bar.Close, bar.Volume, time.UnixMilli(bar.Start).UTC().Format(time.RFC3339), bar.Trades, bar.VWAP)
	}
	return b.Bytes(), bars
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
	checkBarWindows(ctx, t, p, symbol, barWindows(bars, trades))
	checkStoredBars(ctx, t, p, symbol, bars)

	// Binance klines (exact quote volume: the windows' VWAP exact) and
	// Alpaca bars (VWAP × volume), detected from their rows and members.
	day := start.Format("2006-01-02")
	klinesBody, kBars := klines(start, 10)
	for i := range kBars {
		kBars[i].Symbol = "E2EBARK"
	}
	// Then a minute without trades, in a window of its own: Binance's empty
	// kline (volume 0, trades 0, the previous close), accepted and stored
	// as sent, but making no window (barWindows is given the others).
	last := kBars[len(kBars)-1]
	quiet := marketdata.Bar{Symbol: last.Symbol, Start: last.Start + last.Length, Length: last.Length, Open: last.Close,
		High: last.Close, Low: last.Close, Close: last.Close, Volume: "0", PV: "0"}
	klinesBody = fmt.Appendf(klinesBody, "%d,%.8f,%.8f,%.8f,%.8f,0.00000000,%d,0.00000000,0,0.00000000,0.00000000,0\n",
		quiet.Start, quiet.Open, quiet.High, quiet.Low, quiet.Close, quiet.End())
	alpacaBody, aBars := alpacaBars("E2EBARA", start, 7)
	for _, c := range []struct {
		key, profile, symbol string
		body                 []byte
		bars                 []marketdata.Bar
		empty                []marketdata.Bar // sent after bars: stored, in no window
	}{
		{"e2e/bars/E2EBARK-1m-" + day + ".csv", marketdata.ProfileBinanceKlines, "E2EBARK", klinesBody, kBars, []marketdata.Bar{quiet}},
		{"e2e/bars/alpaca-bars.ndjson", marketdata.ProfileAlpacaBars, "E2EBARA", alpacaBody, aBars, nil},
	} {
		if _, err := upload(ctx, p, c.key, c.body); err != nil {
			t.Fatal(err)
		}
		rep, err := waitReport(ctx, p, c.key, 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != marketdata.ReportCompleted || rep.Profile != c.profile || rep.Accepted != int64(len(c.bars)+len(c.empty)) || rep.Rejected != 0 {
			t.Fatalf("%s: report %s profile %q accepted %d rejected %d (%s %v)", c.key, rep.Status, rep.Profile, rep.Accepted,
				rep.Rejected, rep.Error, rep.Rejections)
		}
		want := barWindows(c.bars, nil)
		for _, w := range want {
			if w.VWAPUnknown || w.VWAP == 0 {
				t.Fatalf("%s: the computation gives no VWAP: %+v", c.key, w)
			}
		}
		checkBarWindows(ctx, t, p, c.symbol, want)
		checkStoredBars(ctx, t, p, c.symbol, append(slices.Clip(c.bars), c.empty...))
	}
	checkExactBar(ctx, t, p, start)
}

// checkExactBar: a bar whose high and close have more digits than a float64
// keeps (30 significant digits) is stored with them and comes back from
// GET /aggregates byte for byte as its window's high and close, and from
// GET /symbols/{symbol}/latest as the latest price.
func checkExactBar(ctx context.Context, t *testing.T, p *pipeline.Pipeline, start time.Time) {
	t.Helper()
	const (
		symbol = "E2EBARX"
		high   = "191.350000000000000000000000001" // its float is 191.35
		cls    = "191.300000000000000000000000007" // its float is 191.3
	)
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	bar := marketdata.Bar{Symbol: symbol, Start: start.UnixMilli(), Length: 60_000, Open: 191.25, High: 191.35, HighText: high,
		Low: 191.2, Close: 191.3, CloseText: cls, Volume: "100", Trades: 4}
	key := "e2e/bars/us_stocks_sip/minute_aggs_v1/" + symbol + ".csv"
	body := fmt.Sprintf("ticker,volume,open,close,high,low,window_start,transactions\n%s,100,191.25,%s,%s,191.2,%d,4\n",
		symbol, cls, high, bar.Start*1_000_000)
	if _, err := upload(ctx, p, key, []byte(body)); err != nil {
		t.Fatal(err)
	}
	if rep, err := waitReport(ctx, p, key, 2*time.Minute); err != nil || rep.Accepted != 1 || rep.Rejected != 0 {
		t.Fatalf("%s: report %+v %v", key, rep, err)
	}
	q := url.Values{marketdata.APIQueryFrom: {fmt.Sprint(bar.Start)}, marketdata.APIQueryTo: {fmt.Sprint(marketdata.WindowEnd(bar.Start))}}
	var raw string
	if err := eventually(ctx, 2*time.Minute, func() error {
		var got []marketdata.Aggregate
		r := api(ctx, t, http.MethodGet, stage+"/"+marketdata.APIAggregatesPart+"/"+symbol+"?"+q.Encode(), nil, &got)
		if r.Status != http.StatusOK || len(got) != 1 || got[0].Trades != bar.Trades {
			return fmt.Errorf("GET /aggregates: %d %s, want one window of the bar's %d trades", r.Status, r.Body, bar.Trades)
		}
		raw = string(r.Body)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkStoredBars(ctx, t, p, symbol, []marketdata.Bar{bar}) // stored by now: its window is
	for _, want := range []string{`"open":191.25`, `"high":` + high, `"low":191.2`, `"close":` + cls} {
		// The whole number: the member ends after its digits.
		if !strings.Contains(raw, want+",") && !strings.Contains(raw, want+"}") {
			t.Errorf("GET /aggregates answered %s, want %s byte for byte", raw, want)
		}
	}
	var l marketdata.Latest
	if r := api(ctx, t, http.MethodGet, stage+marketdata.APISymbolsResource+"/"+symbol+"/latest", nil, &l); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), `"price":`+cls) || l.PriceText != cls {
		t.Errorf("GET latest: %d %s, want the price %s", r.Status, r.Body, cls)
	}
}

// checkBarWindows waits until symbol's stored windows equal want, to the
// last digit (the update time, the exact sums and the exact price texts
// aside).
func checkBarWindows(ctx context.Context, t *testing.T, p *pipeline.Pipeline, symbol string, want map[int64]marketdata.Aggregate) {
	t.Helper()
	err := eventually(ctx, 2*time.Minute, func() error {
		got, err := table(p).Aggregates(ctx, symbol)
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			return fmt.Errorf("%s: %d windows, want %d", symbol, len(got), len(want))
		}
		for _, a := range got {
			w := want[a.WindowStart]
			a.UpdatedAt, a.PV, a.Prices = 0, "", ""
			a.OpenText, a.HighText, a.LowText, a.CloseText = "", "", "", ""
			if a != w {
				return fmt.Errorf("%s window %d\n got %+v\nwant %+v", symbol, a.WindowStart, a, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkStoredBars checks that symbol's raw bars are exactly bars.
func checkStoredBars(ctx context.Context, t *testing.T, p *pipeline.Pipeline, symbol string, bars []marketdata.Bar) {
	t.Helper()
	stored, err := table(p).Bars(ctx, symbol, 0, time.Now().UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(bars) {
		t.Fatalf("%s: %d bars stored, %d sent", symbol, len(stored), len(bars))
	}
	for i := range bars {
		if stored[i] != bars[i] {
			t.Fatalf("%s: bar %d stored %+v, sent %+v", symbol, i, stored[i], bars[i])
		}
	}
}
