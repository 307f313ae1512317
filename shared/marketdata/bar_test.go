package marketdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

// empty returns an edit making a bar empty (no volume, no trades, every
// price its close), then applying then.
func empty(then func(*Bar)) func(*Bar) {
	return func(b *Bar) {
		b.Volume, b.Trades, b.Open, b.High, b.Low = "0", 0, b.Close, b.Close, b.Close
		if then != nil {
			then(b)
		}
	}
}

func TestBarValidate(t *testing.T) {
	now := time.Date(2025, 1, 2, 15, 0, 0, 0, time.UTC)
	start := time.Date(2025, 1, 2, 14, 31, 0, 0, time.UTC).UnixMilli()
	good := Bar{Symbol: "AAPL", Start: start, Length: 60_000, Open: 243.5, High: 244, Low: 243.1, Close: 243.9,
		Volume: "1200", Trades: 17}
	cases := []struct {
		name   string
		edit   func(*Bar)
		field  string
		err    error
		reason string
	}{
		{"valid", func(*Bar) {}, "", nil, ""},
		{"valid vwap", func(b *Bar) { b.VWAP = 243.71 }, "", nil, ""},
		{"valid pv", func(b *Bar) { b.Volume, b.PV = "0.5", "121.9" }, "", nil, ""},
		{"valid 5m", func(b *Bar) { b.Start, b.Length = start-60_000, 300_000 }, "", nil, ""},
		{"symbol", func(b *Bar) { b.Symbol = "aapl" }, BarFieldSymbol, ErrSymbol, "aapl"},
		{"high < low", func(b *Bar) { b.High, b.Low = 243, 244 }, BarFieldHigh, ErrPrice, "high 243 < low 244"},
		{"open above high", func(b *Bar) { b.Open = 245 }, BarFieldOpen, ErrPrice, "open 245 outside"},
		{"close below low", func(b *Bar) { b.Close = 243 }, BarFieldClose, ErrPrice, "close 243 outside"},
		{"zero low", func(b *Bar) { b.Low = 0 }, BarFieldLow, ErrPrice, "> 0"},
		{"negative volume", func(b *Bar) { b.Volume = "-5" }, BarFieldVolume, ErrVolume, "-5"},
		{"zero volume", func(b *Bar) { b.Volume = "0" }, BarFieldVolume, ErrVolume, "without volume"},
		{"no trades", func(b *Bar) { b.Trades = 0 }, BarFieldTrades, ErrBarTrades, ">= 1"},
		{"missing volume", func(b *Bar) { b.Volume, b.Trades = "", 0 }, BarFieldVolume, ErrVolume, "missing"},
		// An empty bar (no volume, no trades: Binance's kline without
		// trades) is valid with one price, the previous close, and pv 0.
		{"empty", empty(nil), "", nil, ""},
		{"empty with pv 0", empty(func(b *Bar) { b.PV = "0" }), "", nil, ""},
		{"empty 1s", empty(func(b *Bar) { b.Length, b.Start = 1000, start+59_000 }), "", nil, ""},
		{"empty, prices differ", func(b *Bar) { b.Volume, b.Trades = "0", 0 }, BarFieldVolume, ErrVolume, "one price"},
		{"empty with pv", empty(func(b *Bar) { b.PV = "12.5" }), BarFieldPV, ErrBarVWAP, "without volume has 0"},
		{"empty with vwap", empty(func(b *Bar) { b.VWAP = 243.9 }), BarFieldVWAP, ErrBarVWAP, "no VWAP"},
		{"empty, bad price", empty(func(b *Bar) { b.Open, b.High, b.Low, b.Close = 0, 0, 0, 0 }), BarFieldOpen, ErrPrice, "> 0"},
		{"volume without trades", func(b *Bar) { b.Trades = 0 }, BarFieldTrades, ErrBarTrades, "a bar with volume has trades"},
		{"trades without volume", empty(func(b *Bar) { b.Trades = 3 }), BarFieldVolume, ErrVolume, "3 trades"},
		{"misaligned", func(b *Bar) { b.Start += 1000 }, BarFieldStart, ErrTimestamp, "misaligned"},
		{"misaligned 5m", func(b *Bar) { b.Length = 300_000 }, BarFieldStart, ErrTimestamp, "misaligned"},
		{"15m", func(b *Bar) { b.Length = 900_000 }, BarFieldLength, ErrBarLength, "longer than 5m0s"},
		{"1d", func(b *Bar) { b.Length = 86_400_000 }, BarFieldLength, ErrBarLength, "longer than 5m0s"},
		{"3m", func(b *Bar) { b.Length = 180_000 }, BarFieldLength, ErrBarLength, "does not divide"},
		{"future", func(b *Bar) { b.Start = now.Add(48*time.Hour).UnixMilli() / 60_000 * 60_000 }, BarFieldStart, ErrTimestamp, "future"},
		{"vwap outside", func(b *Bar) { b.VWAP = 250 }, BarFieldVWAP, ErrBarVWAP, "outside"},
		{"pv outside", func(b *Bar) { b.PV = "1" }, BarFieldPV, ErrBarVWAP, "outside"},
		{"both", func(b *Bar) { b.VWAP, b.PV = 243.7, "292440" }, BarFieldVWAP, ErrBarVWAP, "both"},
		// Exact texts: checked as a trade's, and the order of the prices
		// and their range compare them exactly (equal floats included).
		{"valid texts", func(b *Bar) {
			b.HighText, b.CloseText = "244.000000000000000000000000001", "243.900000000000000000000000001"
		}, "", nil, ""},
		{"open above high by its text", func(b *Bar) { b.Open, b.OpenText = 244, "244.000000000000000000000000001" }, BarFieldOpen, ErrPrice, "open 244.000000000000000000000000001 outside [low 243.1, high 244]"},
		{"high below low by its text", func(b *Bar) {
			b.High, b.Low, b.Open, b.Close = 243.1, 243.1, 243.1, 243.1
			b.HighText, b.LowText = "243.0999999999999999999", "243.1000000000000000001"
		}, BarFieldHigh, ErrPrice, "high 243.0999999999999999999 < low 243.1000000000000000001"},
		{"close below low by its text", func(b *Bar) { b.Close, b.CloseText = 243.1, "243.0999999999999999999" }, BarFieldClose, ErrPrice, "close 243.0999999999999999999 outside"},
		{"redundant text", func(b *Bar) { b.LowText = "243.1" }, BarFieldLow, ErrPrice, "the float's own text"},
		{"text of another number", func(b *Bar) { b.LowText = "243.2000000000000000001" }, BarFieldLow, ErrPrice, "does not read as 243.1"},
		{"39 digits", func(b *Bar) { b.LowText = "243.100000000000000000000000000000000001" }, BarFieldLow, ErrPrice, "more than the 38"},
		{"valid vwap text", func(b *Bar) { b.VWAP, b.VWAPText = 243.71, "243.710000000000000000000000001" }, "", nil, ""},
		{"vwap text of another number", func(b *Bar) { b.VWAP, b.VWAPText = 243.71, "243.720000000000000000000000001" }, BarFieldVWAP, ErrBarVWAP, "does not read as 243.71"},
		{"vwap text without vwap", func(b *Bar) { b.VWAPText = "243.710000000000000000000000001" }, BarFieldVWAP, ErrBarVWAP, "exact text"},
		{"high above MaxPrice by its text", func(b *Bar) { b.High, b.HighText = MaxPrice, "1000000000000000.01" }, BarFieldHigh, ErrPrice, "high 1000000000000000.01: outside the storable range"},
		{"low below MinPrice by its text", func(b *Bar) {
			b.Open, b.Low, b.LowText = MinPrice, MinPrice, "0.000000000000999999999999999999999"
		}, BarFieldLow, ErrPrice, "low 0.000000000000999999999999999999999: outside the storable range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := good
			c.edit(&b)
			err := b.Validate(now)
			if c.err == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var be *BarError
			if !errors.As(err, &be) || be.Field != c.field || !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("Validate = %v (%#v), want field %s, %v, reason containing %q", err, be, c.field, c.err, c.reason)
			}
		})
	}
}

func TestParseBarLength(t *testing.T) {
	for _, c := range []struct {
		name   string
		ms     int64
		reason string
	}{
		{"1m", 60_000, ""}, {"1Min", 60_000, ""}, {"5Min", 300_000, ""}, {"5m", 300_000, ""}, {"1s", 1000, ""},
		{"3m", 0, "does not divide"}, {"15m", 0, "longer than 5m0s"}, {"1Day", 0, "longer than 5m0s"},
		{"1h", 0, "longer than 5m0s"}, {"7x", 0, "want one of"},
		// Binance's longer intervals (1mo in its file names) and Alpaca's
		// timeframes by their length, not as unknown names.
		{"1mo", 0, "longer than 5m0s"}, {"1M", 0, "longer than 5m0s"}, {"1w", 0, "longer than 5m0s"},
		{"1d", 0, "longer than 5m0s"}, {"3d", 0, "longer than 5m0s"}, {"12h", 0, "longer than 5m0s"},
		{"1Week", 0, "longer than 5m0s"}, {"2Month", 0, "longer than 5m0s"}, {"15T", 0, "longer than 5m0s"},
		{"10s", 0, "want one of"}, {"1000m", 0, "want one of"}, {"1x", 0, "want one of"}, {"m", 0, "want one of"},
	} {
		ms, err := ParseBarLength(c.name)
		if c.reason == "" && (err != nil || ms != c.ms) {
			t.Errorf("ParseBarLength(%q) = %d, %v; want %d", c.name, ms, err, c.ms)
		}
		if c.reason != "" && (err == nil || !errors.Is(err, ErrBarLength) || !strings.Contains(err.Error(), c.reason)) {
			t.Errorf("ParseBarLength(%q) = %d, %v; want an error containing %q", c.name, ms, err, c.reason)
		}
	}
	for _, l := range BarLengths { // every accepted length passes Validate's own check
		if err := lengthError(l.Millis); err != nil {
			t.Errorf("%v: %v", l.Names, err)
		}
	}
}

func testBars() []Bar {
	start := time.Date(2025, 1, 2, 14, 30, 0, 0, time.UTC).UnixMilli()
	return []Bar{
		{Symbol: "AAPL", Start: start, Length: 60_000, Open: 243.5, High: 244, Low: 243.1, Close: 243.9, Volume: "1200", Trades: 17},
		{Symbol: "AAPL", Start: start + 60_000, Length: 60_000, Open: 243.9, High: 244.2, Low: 243.8, Close: 244.1, Volume: "800", VWAP: 244.0123, Trades: 9},
		{Symbol: "BTCUSDT", Start: start, Length: 1000, Open: 97000.1, High: 97001, Low: 96999.5, Close: 97000, Volume: "0.01234", PV: "1197.000234", Trades: 4},
		{Symbol: "X\"<&", Start: 0, Length: 300_000, Open: 1e-7, High: 2e-7, Low: 1e-7, Close: 2e-7, Volume: "12345678901234567890", Trades: 1},
	}
}

// The encoder writes a message of bars byte for byte as EncodeMessage does,
// a version 2 message, which DecodeMessage reads back (encoding/json: the
// fast decoder leaves bars to it), and a message holds points or bars.
func TestMessageEncoderBars(t *testing.T) {
	const origin = "s3://b/k.csv#v1"
	enc, err := NewMessageEncoder(origin, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	m := Message{Origin: origin}
	for i, b := range testBars() {
		if ok, err := enc.AddBar(b, int64(i+2)); !ok || err != nil {
			t.Fatalf("AddBar(%d) = %v, %v", i, ok, err)
		}
		m.Bars = append(m.Bars, QueuedBar{Key: BarSortKey(b, origin, int64(i+2)), Bar: b})
	}
	want, err := EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	got := enc.Bytes()
	if !bytes.Equal(got, want) {
		t.Fatalf("encoder body\n%s\nEncodeMessage\n%s", got, want)
	}
	if _, ok := decodeFast(string(got)); ok {
		t.Fatal("the fast decoder took a message of bars")
	}
	back, err := DecodeMessage(got)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = MessageVersionBars
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("decoded %+v\nwant %+v", back, m)
	}
	// A point does not join a message of bars; after Reset it does, in a
	// version 1 message that the fast decoder reads.
	p := Point{Symbol: "AAPL", Timestamp: 1, Price: 1, Volume: "1"}
	if ok, err := enc.Add(p, 9); ok || err != nil {
		t.Fatalf("Add to a message of bars = %v, %v", ok, err)
	}
	enc.Reset()
	if ok, err := enc.Add(p, 9); !ok || err != nil {
		t.Fatalf("Add after Reset = %v, %v", ok, err)
	}
	if ok, _ := enc.AddBar(testBars()[0], 10); ok {
		t.Fatal("a bar joined a message of points")
	}
	if pm, ok := decodeFast(string(enc.Bytes())); !ok || pm.Version != MessageVersion || len(pm.Points) != 1 {
		t.Fatalf("message of points after bars: %+v %v", pm, ok)
	}
	// Same bar, same place: same key (idempotent); another place: another.
	b := testBars()[1]
	if BarSortKey(b, origin, 3) != BarSortKey(b, origin, 3) || BarSortKey(b, origin, 3) == BarSortKey(b, origin, 4) ||
		BarSortKey(b, origin, 3) == BarSortKey(b, "other", 3) {
		t.Fatal("bar keys are not derived from content and place")
	}
	if ms, _, err := ParseSortKey(BarSortKey(b, origin, 3)); err != nil || ms != b.Start {
		t.Fatalf("bar key %s: %d, %v", BarSortKey(b, origin, 3), ms, err)
	}
}

func TestDecodeMessageBarsNeedVersion2(t *testing.T) {
	body := `{"v":1,"origin":"o","points":null,"bars":[{"k":"60000.5","symbol":"A","start":60000,"length":60000,"open":1,"high":1,"low":1,"close":1,"volume":1,"trades":1}]}`
	if _, err := DecodeMessage([]byte(body)); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("v1 with bars: %v", err)
	}
	if _, err := DecodeMessage([]byte(strings.Replace(strings.Replace(body, `"v":1`, `"v":2`, 1), `"k":"60000.5",`, "", 1))); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("bar without key: %v", err)
	}
}

// A bar folds into a partial as the summary of its trades: open at its
// start, close at its last millisecond, its volume, trades and Σ
// price×volume (PV, or VWAP × volume); merged with trades of the same
// window in time order, in any grouping, with the same result; a bar without
// VWAP makes the VWAP unknown, through items and merges.
func TestPartialAddBar(t *testing.T) {
	bars := testBars()[:2]
	start := bars[0].Start
	var p Partial
	p.Add(start+30_000, 7, 243.7, "100") // a trade inside the first bar
	p.AddBar(bars[1].Start, 11, bars[1])
	p.AddBar(bars[0].Start, 12, bars[0])
	p.Add(start+120_000+5, 3, 244.3, "50") // after both
	if p.Open != 243.5 || p.OpenMillis != start || p.Close != 244.3 || p.High != 244.3 || p.Low != 243.1 ||
		p.Trades != 28 || p.Bars != 2 || p.NoVWAP != 1 || p.Volume() != "2150" {
		t.Fatalf("partial %v", &p)
	}
	if p.VWAPKnown() || p.VWAP() != 0 {
		t.Fatalf("VWAP %v known %v, want unknown", p.VWAP(), p.VWAPKnown())
	}
	// Closes: the second bar's close is at its last millisecond.
	var q Partial
	q.AddBar(bars[1].Start, 11, bars[1])
	if q.CloseMillis != bars[1].Start+59_999 || q.Close != 244.1 || !q.VWAPKnown() || q.VWAP() != 244.0123 {
		t.Fatalf("one bar with VWAP: %v, VWAP %v", &q, q.VWAP())
	}
	// Through an item and back, and merged in another grouping.
	it := p.Item("AAPL", "1.5", 9)
	if it.Bars != 2 || it.NoVWAP != 1 {
		t.Fatalf("item %+v", it)
	}
	back, err := it.Partial()
	if err != nil {
		t.Fatal(err)
	}
	var m1, m2 Partial
	m1.Add(start+30_000, 7, 243.7, "100")
	m1.AddBar(bars[0].Start, 12, bars[0])
	m2.AddBar(bars[1].Start, 11, bars[1])
	m2.Add(start+120_000+5, 3, 244.3, "50")
	var merged Partial
	merged.Merge(&m2)
	merged.Merge(&m1)
	if back.String() != p.String() || merged.String() != p.String() {
		t.Fatalf("item %v\nmerged %v\nwant %v", back, &merged, &p)
	}
}

// An empty bar (no volume, no trades) folds nothing: a partial holding only
// one is the empty partial, and one between trades and a bar changes
// neither its open, close, high, low, volume, counts nor VWAP.
func TestPartialAddBarEmpty(t *testing.T) {
	bars := testBars()[:2]
	e := bars[1]
	e.Start += 60_000
	e.Close = 250 // not the previous close: it would show as the high
	empty(func(b *Bar) { b.VWAP = 0 })(&e)
	if err := e.Validate(time.Now()); err != nil || !e.Empty() {
		t.Fatalf("empty bar %+v: %v", e, err)
	}
	var only Partial
	only.AddBar(e.Start, 5, e)
	if only.String() != (&Partial{}).String() || only.Bars != 0 || only.Trades != 0 {
		t.Fatalf("a partial of one empty bar: %v", &only)
	}
	var with, without Partial
	for _, p := range []*Partial{&with, &without} {
		p.Add(bars[0].Start+30_000, 7, 243.7, "100")
		p.AddBar(bars[1].Start, 11, bars[1])
	}
	with.AddBar(e.Start, 12, e) // later than all
	if with.String() != without.String() || with.Close != bars[1].Close || !with.VWAPKnown() {
		t.Fatalf("with an empty bar %v\nwithout %v", &with, &without)
	}
}

// A bar's PV (Binance's quote volume) is exact even with more fraction
// digits than any volume: the window's VWAP is Σ pv / Σ volume rounded once.
func TestPartialBarPVExact(t *testing.T) {
	b := testBars()[2]
	b2 := b
	b2.Start += 1000
	b2.Volume, b2.PV, b2.Trades = "3", "291000.3", 2 // VWAP 97000.1
	var p Partial
	p.AddBar(b.Start, 1, b)
	p.AddBar(b2.Start, 2, b2)
	p.Add(b.Start+2500, 3, 97000.5, "0.5")
	pv, _ := new(big.Rat).SetString("1197.000234")
	pv.Add(pv, big.NewRat(2910003, 10))
	pv.Add(pv, new(big.Rat).Mul(new(big.Rat).SetFloat64(97000.5), big.NewRat(1, 2)))
	vol, _ := new(big.Rat).SetString("3.51234")
	want, _ := new(big.Rat).Quo(pv, vol).Float64()
	if p.VWAP() != want || p.Volume() != "3.51234" {
		t.Fatalf("VWAP %v volume %s, want %v 3.51234", p.VWAP(), p.Volume(), want)
	}
	it := p.Item("BTCUSDT", "1.5", 9)
	back, err := it.Partial()
	if err != nil || back.VWAP() != want {
		t.Fatalf("item %+v back %v %v", it, back, err)
	}
	// A bar of one trade keeps its sums in its item (no single-point copy).
	var one Partial
	one.AddBar(b.Start, 1, Bar{Symbol: "B", Start: b.Start, Length: 1000, Open: 3, High: 3, Low: 3, Close: 3, Volume: "0.1", PV: "0.3", Trades: 1})
	oi := one.Item("B", "1.5", 9)
	ob, err := oi.Partial()
	if oi.PV == "" || err != nil || ob.VWAP() != 3 {
		t.Fatalf("one-trade bar item %+v: %v %v", oi, ob, err)
	}
}

// A bucket rolled up from windows with an unknown VWAP has an unknown VWAP,
// whichever merge it takes.
func TestRollupVWAPUnknown(t *testing.T) {
	var a, b Partial
	a.AddBar(testBars()[0].Start, 1, testBars()[0])
	b.Add(testBars()[0].Start+300_000, 1, 243, "10")
	agg := func(p *Partial, start int64) Aggregate {
		pv, prices := p.Sums()
		return Aggregate{Symbol: "AAPL", WindowStart: start, WindowEnd: start + 300_000, Open: p.Open, High: p.High, Low: p.Low,
			Close: p.Close, Volume: p.Volume(), VWAP: p.VWAP(), VWAPUnknown: !p.VWAPKnown(), Trades: p.Trades,
			FirstTs: p.OpenMillis, LastTs: p.CloseMillis, PV: pv, Prices: prices}
	}
	ws := []Aggregate{agg(&a, testBars()[0].Start), agg(&b, testBars()[0].Start+300_000)}
	iv, err := ParseInterval("1h")
	if err != nil {
		t.Fatal(err)
	}
	out := RollUp(ws, iv)
	if len(out) != 1 || !out[0].VWAPUnknown || out[0].VWAP != 0 || out[0].Volume != "1210" {
		t.Fatalf("rollup %+v", out)
	}
	ws[0].PV = "" // the float merge
	out = RollUp(ws, iv)
	if len(out) != 1 || !out[0].VWAPUnknown || out[0].VWAP != 0 {
		t.Fatalf("float rollup %+v", out)
	}
	js, _ := json.Marshal(out[0])
	if strings.Contains(string(js), `"vwap":`) || !strings.Contains(string(js), `"vwapUnknown":true`) {
		t.Fatalf("answer %s", js)
	}
}

// exactBars are bars of one minute whose prices have more digits than
// their floats keep (30 significant digits), their floats tied.
func exactBars() []Bar {
	start := time.Date(2025, 1, 2, 14, 30, 0, 0, time.UTC).UnixMilli()
	return []Bar{
		{Symbol: "AAPL", Start: start, Length: 60_000, Open: 243.5, OpenText: "243.500000000000000000000000001",
			High: 244, HighText: "244.000000000000000000000000001", Low: 243.1, LowText: "243.099999999999999999999999999",
			Close: 243.9, CloseText: "243.900000000000000000000000003", Volume: "1200", Trades: 17},
		{Symbol: "AAPL", Start: start + 60_000, Length: 60_000, Open: 243.9, OpenText: "243.900000000000000000000000002",
			High: 244, HighText: "244.000000000000000000000000002", Low: 243.1, LowText: "243.099999999999999999999999998",
			Close: 243.9, CloseText: "243.900000000000000000000000004", Volume: "800", VWAP: 243.7, VWAPText: "243.700000000000000000000000001", Trades: 9},
		{Symbol: "AAPL", Start: start + 120_000, Length: 60_000, Open: 243.2, High: 244, Low: 243.1, Close: 243.3,
			Volume: "10", Trades: 1},
	}
}

// A bar's exact prices travel in the message ("ot", "ht", "lt", "ct"),
// make its key (bars differing only in them are two bars) and fold into
// partials with their texts: open and close as given, high and low the
// exact extremes, whatever the order and grouping of the folds and merges.
func TestBarExactPrices(t *testing.T) {
	bars := exactBars()
	now := time.Date(2025, 1, 2, 15, 0, 0, 0, time.UTC)
	const origin = "s3://b/k.json#v1"
	enc, err := NewMessageEncoder(origin, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	m := Message{Origin: origin, Version: MessageVersionBars}
	for i, b := range bars {
		if err := b.Validate(now); err != nil {
			t.Fatalf("bar %d: %v", i, err)
		}
		if ok, err := enc.AddBar(b, int64(i)); !ok || err != nil {
			t.Fatalf("AddBar(%d) = %v, %v", i, ok, err)
		}
		m.Bars = append(m.Bars, QueuedBar{Key: BarSortKey(b, origin, int64(i)), Bar: b})
	}
	if !bytes.Contains(enc.Bytes(), []byte(`"ht":"244.000000000000000000000000001"`)) || !bytes.Contains(enc.Bytes(), []byte(`"vt":"243.700000000000000000000000001"`)) {
		t.Fatalf("message without the exact high: %s", enc.Bytes())
	}
	back, err := DecodeMessage(enc.Bytes())
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("decoded %+v, %v\nwant %+v", back, err, m)
	}
	floatsOnly := bars[0]
	floatsOnly.OpenText, floatsOnly.HighText, floatsOnly.LowText, floatsOnly.CloseText = "", "", "", ""
	if BarSortKey(floatsOnly, origin, 0) == BarSortKey(bars[0], origin, 0) {
		t.Fatal("bars differing in their exact prices share a key")
	}

	// Folded one by one in every order, and merged in two groups either way.
	fold := func(order []int) *Partial {
		var p Partial
		for _, i := range order {
			p.AddBar(bars[i].Start, uint64(i+1), bars[i])
		}
		return &p
	}
	want := fold([]int{0, 1, 2})
	if want.OpenText != bars[0].OpenText || want.CloseText != "" || want.Close != 243.3 ||
		want.HighText != "244.000000000000000000000000002" || want.LowText != "243.099999999999999999999999998" {
		t.Fatalf("partial %v", want)
	}
	for _, order := range [][]int{{2, 1, 0}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}} {
		if got := fold(order); got.String() != want.String() {
			t.Fatalf("order %v: %v\nwant %v", order, got, want)
		}
		var merged Partial
		merged.Merge(fold(order[:1]))
		merged.Merge(fold(order[1:]))
		if merged.String() != want.String() {
			t.Fatalf("merged %v: %v\nwant %v", order, &merged, want)
		}
	}
	// The close of the first two bars is the second's, with its text.
	if p := fold([]int{1, 0}); p.CloseText != bars[1].CloseText || p.OpenText != bars[0].OpenText {
		t.Fatalf("two bars: %v", p)
	}
	// Through an item and back.
	it := want.Item("AAPL", "1.5", 9)
	if got, err := it.Partial(); err != nil || got.String() != want.String() {
		t.Fatalf("item read back %v, %v\nwant %v", got, err, want)
	}
}

// TestBarValidateAllocatesNothing: a valid bar's checks format nothing (a
// refusal's texts are written only for the refusal); formatting its four
// prices cost the bar profiles half their parse rate.
func TestBarValidateAllocatesNothing(t *testing.T) {
	now := time.Date(2025, 1, 2, 15, 0, 0, 0, time.UTC)
	b := Bar{Symbol: "AAPL", Start: time.Date(2025, 1, 2, 14, 31, 0, 0, time.UTC).UnixMilli(), Length: 60_000,
		Open: 243.5, High: 244, Low: 243.1, Close: 243.9, Volume: "1200", Trades: 17, VWAP: 243.71}
	var err error
	if n := testing.AllocsPerRun(100, func() { err = b.Validate(now) }); n != 0 || err != nil {
		t.Fatalf("Validate of a valid bar: %v allocations, error %v; want 0, nil", n, err)
	}
}
