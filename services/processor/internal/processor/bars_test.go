package processor

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// barsMessage encodes bars into one message body with the shared encoder.
func barsMessage(t *testing.T, origin string, bars []marketdata.Bar) string {
	t.Helper()
	enc, err := marketdata.NewMessageEncoder(origin, limits.QueueMaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range bars {
		if ok, err := enc.AddBar(b, int64(i+2)); !ok || err != nil {
			t.Fatalf("bar %d does not fit: %v", i, err)
		}
	}
	return string(enc.Bytes())
}

// A message of bars stores each bar as a raw bar item, folds them with the
// window's trades into partials, moves the latest state to the last bar's
// close at its end, and announces the bars' windows; the same message again
// changes nothing (idempotent keys).
func TestProcessBars(t *testing.T) {
	env := newEnv(t, nil)
	w0 := marketdata.WindowStart(testNow.Add(-20 * time.Minute).UnixMilli())
	var bars []marketdata.Bar
	for i := range 7 { // 1-minute bars over two windows, one with a VWAP
		px := 190 + float64(i)
		b := marketdata.Bar{Symbol: "AAPL", Start: w0 + int64(i)*60_000, Length: 60_000, Open: px, High: px + 0.5,
			Low: px - 0.25, Close: px + 0.25, Volume: marketdata.Units(uint64(100 * (i + 1))), Trades: int64(3 + i)}
		if i == 6 {
			b.VWAP = px + 0.125
		}
		bars = append(bars, b)
	}
	tradeBody := encodeOne(t, "api:trades", 2, func(i int) marketdata.Point {
		return marketdata.Point{Symbol: "AAPL", Timestamp: w0 + 30_000 + int64(i)*60_000, Price: 195, Volume: "10"}
	})
	ev := fixtureEvent([]record{{"bars", barsMessage(t, "s3://b/minute_aggs.csv#v1", bars)}, {"trades", tradeBody}})
	resp, st := env.h.Process(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || st.Points != 9 || st.Bars != 7 || st.Stored != 9 {
		t.Fatalf("failures %v, stats %+v", resp.BatchItemFailures, st)
	}
	msgs := decoded(t, ev)
	// Raw bars, under their own hash key, read back as sent.
	for _, qb := range msgs["bars"].Bars {
		got, err := ddbitem.DecodeBar(env.db.item(marketdata.BarKey("AAPL"), qb.Key))
		if err != nil || got.Bar != qb.Bar || got.Origin != "s3://b/minute_aggs.csv#v1" {
			t.Fatalf("raw bar %s: %+v, %v", qb.Key, got, err)
		}
	}
	// The partials of each window merge to the bars and trades folded
	// one by one.
	for _, start := range []int64{w0, w0 + 300_000} {
		var want, got marketdata.Partial
		for _, qb := range msgs["bars"].Bars {
			if marketdata.WindowStart(qb.Start) == start {
				ms, disc, _ := marketdata.ParseSortKey(qb.Key)
				want.AddBar(ms, disc, qb.Bar)
			}
		}
		for _, p := range msgs["trades"].Points {
			if marketdata.WindowStart(p.Timestamp) == start {
				ms, disc, _ := marketdata.ParseSortKey(p.Key)
				want.Add(ms, disc, p.Price, p.Volume)
			}
		}
		n := 0
		for rng, pi := range env.db.partials(t, "AAPL") {
			if !strings.HasPrefix(rng, itoa(start)+".") {
				continue
			}
			p, err := pi.Partial()
			if err != nil {
				t.Fatal(err)
			}
			got.Merge(p)
			n++
		}
		if wantN := map[bool]int{true: 2, false: 1}[start == w0]; n != wantN || got.String() != want.String() {
			t.Fatalf("window %d: %d partials merging to %v\nwant %v", start, n, &got, &want)
		}
		if start == w0 && (got.VWAPKnown() || got.Bars != 5) || start != w0 && (got.VWAPKnown() || got.Bars != 2) {
			t.Fatalf("window %d: %v", start, &got)
		}
	}
	// The latest state is the last bar's close, at its end.
	var state marketdata.StateItem
	if err := ddbitem.Decode(env.db.item(marketdata.StateKey("AAPL"), marketdata.StateSortKey), &state); err != nil {
		t.Fatal(err)
	}
	last := bars[6]
	if state.LastPrice != last.Close || state.LastMillis != last.End() || state.Points != 9 {
		t.Fatalf("state %+v, want the close %v at %d", state, last.Close, last.End())
	}
	if got := env.ev.windows(); !slices.Equal(got, []marketdata.WindowRef{{Symbol: "AAPL", Start: w0}, {Symbol: "AAPL", Start: w0 + 300_000}}) {
		t.Fatalf("windows announced %v", got)
	}
	// Redelivered: the same items, none more.
	n := len(env.db.items)
	before := svals(env.db.item(marketdata.BarKey("AAPL"), msgs["bars"].Bars[0].Key))
	if resp, _ := env.h.Process(context.Background(), events.SQSEvent{Records: ev.Records[:1]}); len(resp.BatchItemFailures) != 0 {
		t.Fatal(resp.BatchItemFailures)
	}
	if len(env.db.items) != n || !equalMaps(before, svals(env.db.item(marketdata.BarKey("AAPL"), msgs["bars"].Bars[0].Key))) {
		t.Fatalf("redelivery: %d items, had %d", len(env.db.items), n)
	}
}

// Empty bars (no volume, no trades: Binance's klines of quiet intervals)
// are stored as raw bars as sent, but fold nothing: no partial of their
// own, nothing in their window's partial, not the latest state and no
// window announced for them alone.
func TestProcessEmptyBars(t *testing.T) {
	env := newEnv(t, nil)
	w0 := marketdata.WindowStart(testNow.Add(-20 * time.Minute).UnixMilli())
	traded := marketdata.Bar{Symbol: "BTCUSDT", Start: w0, Length: 1000, Open: 100, High: 101, Low: 99, Close: 100.5,
		Volume: "2", PV: "201", Trades: 3}
	quiet := func(start int64, px float64) marketdata.Bar { // o=h=l=c, the previous close when the vendor writes it
		return marketdata.Bar{Symbol: "BTCUSDT", Start: start, Length: 1000, Open: px, High: px, Low: px, Close: px, Volume: "0", PV: "0"}
	}
	bars := []marketdata.Bar{traded, quiet(w0+1000, 100.5), quiet(w0+2000, 250), quiet(w0+300_000, 100.5)}
	ev := fixtureEvent([]record{{"bars", barsMessage(t, "s3://b/BTCUSDT-1s-2024-05-31.csv#v1", bars)}})
	resp, st := env.h.Process(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || st.Bars != 4 {
		t.Fatalf("failures %v, stats %+v", resp.BatchItemFailures, st)
	}
	qbs := decoded(t, ev)["bars"].Bars
	for _, qb := range qbs { // every bar stored as sent
		got, err := ddbitem.DecodeBar(env.db.item(marketdata.BarKey("BTCUSDT"), qb.Key))
		if err != nil || got.Bar != qb.Bar {
			t.Fatalf("raw bar %s: %+v, %v", qb.Key, got, err)
		}
	}
	var want marketdata.Partial // the traded bar alone
	ms, disc, _ := marketdata.ParseSortKey(qbs[0].Key)
	want.AddBar(ms, disc, qbs[0].Bar)
	var partials []marketdata.Partial
	for rng, pi := range env.db.partials(t, "BTCUSDT") {
		if !strings.HasPrefix(rng, itoa(w0)+".") {
			t.Fatalf("a partial of window %s, which holds only an empty bar", rng)
		}
		p, err := pi.Partial()
		if err != nil {
			t.Fatal(err)
		}
		partials = append(partials, *p)
	}
	if len(partials) != 1 || partials[0].String() != want.String() || partials[0].Bars != 1 || partials[0].High != 101 {
		t.Fatalf("partials %v, want one: %v", partials, &want)
	}
	var state marketdata.StateItem
	if err := ddbitem.Decode(env.db.item(marketdata.StateKey("BTCUSDT"), marketdata.StateSortKey), &state); err != nil {
		t.Fatal(err)
	}
	if state.LastPrice != traded.Close || state.LastMillis != traded.End() {
		t.Fatalf("state %+v, want the traded bar's close %v at %d", state, traded.Close, traded.End())
	}
	if got := env.ev.windows(); !slices.Equal(got, []marketdata.WindowRef{{Symbol: "BTCUSDT", Start: w0}}) {
		t.Fatalf("windows announced %v", got)
	}
}

// A bar that ingestion would have refused fails its message alone.
func TestProcessBadBarIsPoison(t *testing.T) {
	env := newEnv(t, nil)
	w0 := marketdata.WindowStart(testNow.Add(-20 * time.Minute).UnixMilli())
	good := marketdata.Bar{Symbol: "AAPL", Start: w0, Length: 60_000, Open: 1, High: 2, Low: 1, Close: 2, Volume: "5", Trades: 1}
	body := barsMessage(t, "o", []marketdata.Bar{good})
	bad := strings.Replace(body, `"high":2`, `"high":0.5`, 1)
	ev := fixtureEvent([]record{{"bad", bad}, {"good", barsMessage(t, "o2", []marketdata.Bar{good})}})
	resp, _ := env.h.Process(context.Background(), ev)
	if ids := failedIDs(resp); !slices.Equal(ids, []string{"bad"}) {
		t.Fatalf("failed %v", ids)
	}
	if !strings.Contains(env.logs.String(), "high 0.5 < low 1") {
		t.Fatalf("log does not say why: %s", env.logs.String())
	}
}

// A bar's exact prices (more digits than its floats keep) are stored as
// given: the raw bar item's numbers are the texts, the window's partial
// keeps its open, close, high and low texts, and the latest state takes
// the close's.
func TestProcessExactBar(t *testing.T) {
	env := newEnv(t, nil)
	w0 := marketdata.WindowStart(testNow.Add(-20 * time.Minute).UnixMilli())
	b := marketdata.Bar{Symbol: "AAPL", Start: w0, Length: 60_000,
		Open: 190.1, OpenText: "190.100000000000000000000000001", High: 191, HighText: "191.000000000000000000000000001",
		Low: 189.9, LowText: "189.899999999999999999999999999", Close: 190.5, CloseText: "190.500000000000000000000000007",
		Volume: "100", Trades: 3}
	ev := fixtureEvent([]record{{"bars", barsMessage(t, "o", []marketdata.Bar{b})}})
	if resp, st := env.h.Process(context.Background(), ev); len(resp.BatchItemFailures) != 0 || st.Bars != 1 {
		t.Fatalf("failures %v, stats %+v: %s", resp.BatchItemFailures, st, env.logs.String())
	}
	qb := decoded(t, ev)["bars"].Bars[0]
	raw := svals(env.db.item(marketdata.BarKey("AAPL"), qb.Key))
	for attr, want := range map[string]string{marketdata.AttrOpen: b.OpenText, marketdata.AttrHigh: b.HighText,
		marketdata.AttrLow: b.LowText, marketdata.AttrClose: b.CloseText} {
		if raw[attr] != want {
			t.Errorf("raw bar %s = %q, want the number %s", attr, raw[attr], want)
		}
	}
	n := 0
	for _, pi := range env.db.partials(t, "AAPL") {
		if pi.OpenText != b.OpenText || pi.CloseText != b.CloseText || pi.HighText != b.HighText || pi.LowText != b.LowText {
			t.Errorf("partial %+v, want the bar's texts", pi)
		}
		n++
	}
	var state marketdata.StateItem
	if err := ddbitem.Decode(env.db.item(marketdata.StateKey("AAPL"), marketdata.StateSortKey), &state); err != nil {
		t.Fatal(err)
	}
	if n != 1 || state.LastPrice != b.Close || state.LastPriceText != b.CloseText {
		t.Fatalf("%d partials; state %+v, want the close %s", n, state, b.CloseText)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func equalMaps(a, b map[string]string) bool { return maps.Equal(a, b) }
