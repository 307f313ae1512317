//go:build integration

package processor

import (
	"strconv"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestIntegrationBarsMoto: a message of bars against moto stores its raw
// bars (numeric range key, under the bar hash key, read back as sent), and
// partials that merge with the trades' to the bars and trades folded one by
// one; delivered again, it writes no new item.
func TestIntegrationBarsMoto(t *testing.T) {
	env := newMotoEnv(t, 2*time.Minute)
	w0 := marketdata.WindowStart(testNow.Add(-20 * time.Minute).UnixMilli())
	var bars []marketdata.Bar
	for i := range 10 { // two windows of 1-minute bars: exact PV (crypto), one without
		px := 97000 + float64(i)
		b := marketdata.Bar{Symbol: "BTCUSDT", Start: w0 + int64(i)*60_000, Length: 60_000, Open: px, High: px + 5,
			Low: px - 5, Close: px + 1, Volume: "0.5", PV: marketdata.Decimal(formatPV(px)), Trades: int64(10 + i)}
		if i == 7 {
			b.PV = ""
		}
		bars = append(bars, b)
	}
	trades := encodeOne(t, "api:trades", 3, func(i int) marketdata.Point {
		return marketdata.Point{Symbol: "BTCUSDT", Timestamp: w0 + 30_000 + int64(i)*100_000, Price: 97001.5, Volume: "0.01"}
	})
	ev := fixtureEvent([]record{{"bars", barsMessage(t, "s3://b/BTCUSDT-1m-2026-03-02.csv#v1", bars)}, {"trades", trades}})
	for round := range 2 {
		resp, err := env.h.Handle(env.ctx, ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("round %d: %v %v", round, resp.BatchItemFailures, err)
		}
	}
	msgs := decoded(t, ev)
	for _, start := range []int64{w0, w0 + 300_000} {
		lo, hi := marketdata.MillisRange(start, marketdata.WindowEnd(start))
		raw := env.query(t, marketdata.BarKey("BTCUSDT"), lo, hi)
		var want marketdata.Partial
		n := 0
		for _, qb := range msgs["bars"].Bars {
			if marketdata.WindowStart(qb.Start) != start {
				continue
			}
			ms, disc, _ := marketdata.ParseSortKey(qb.Key)
			want.AddBar(ms, disc, qb.Bar)
			got, err := ddbitem.DecodeBar(raw[n])
			if err != nil || got.Key != qb.Key || got.Bar != qb.Bar {
				t.Fatalf("raw bar %d of window %d: %+v %v, want %+v", n, start, got, err, qb)
			}
			n++
		}
		if n != 5 || len(raw) != 5 {
			t.Fatalf("window %d: %d raw bars stored, %d sent", start, len(raw), n)
		}
		for _, p := range msgs["trades"].Points {
			if marketdata.WindowStart(p.Timestamp) == start {
				ms, disc, _ := marketdata.ParseSortKey(p.Key)
				want.Add(ms, disc, p.Price, p.Volume)
			}
		}
		plo, phi := marketdata.PartialRange(start)
		var merged marketdata.Partial
		for _, item := range env.query(t, marketdata.PartialKey("BTCUSDT"), plo, phi) {
			var it marketdata.PartialItem
			if err := ddbitem.Decode(item, &it); err != nil {
				t.Fatal(err)
			}
			p, err := it.Partial()
			if err != nil {
				t.Fatal(err)
			}
			merged.Merge(p)
		}
		if merged.String() != want.String() {
			t.Fatalf("window %d: partials merge to %v\nwant %v", start, &merged, &want)
		}
		if known := start == w0; merged.VWAPKnown() != known {
			t.Fatalf("window %d: VWAP known %v", start, merged.VWAPKnown())
		}
	}
}

// formatPV is a kline's quote volume for 0.5 units at px: exact decimal text.
func formatPV(px float64) string { return strconv.FormatFloat(px/2, 'f', -1, 64) }
