//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// vendorBar is a bar as a vendor file writes it: its prices, volume and
// VWAP or Σ price×volume as text.
type vendorBar struct {
	start, length          int64 // ms
	open, high, low, close string
	volume                 string
	vwap, pv               string // Alpaca's vw, Binance's quote_asset_volume
	trades                 int64
}

// genBars makes n 1-minute bars from start, the minutes in skip left out (a
// quiet minute has no bar); with pv, each carries its exact Σ price×volume
// (a kline), else a VWAP (an Alpaca bar).
func genBars(start time.Time, n int, skip map[int]bool, pv bool) []vendorBar {
	var out []vendorBar
	for i := range n {
		if skip[i] {
			continue
		}
		c := int64(19000 + 13*i) // cents
		cents := func(x int64) string { return fmt.Sprintf("%d.%02d", x/100, x%100) }
		b := vendorBar{start: start.Add(time.Duration(i) * time.Minute).UnixMilli(), length: 60_000,
			open: cents(c), high: cents(c + 45), low: cents(c - 30), close: cents(c + 5), trades: int64(7 + i%11)}
		vol := big.NewRat(int64(1234+97*i), 1000) // fractional: crypto sizes, fractional shares
		b.volume = ratText(vol)
		avg := big.NewRat(c+int64(i%5)*3, 100) // within [low, high]
		if pv {
			b.pv = ratText(new(big.Rat).Mul(avg, vol))
		} else {
			b.vwap = avg.FloatString(4)
		}
		out = append(out, b)
	}
	return out
}

// alpacaBarsFile is Alpaca's multi-symbol historical bars response holding
// bars of symbol, then the raw bars bad (refused).
func alpacaBarsFile(symbol string, bars []vendorBar, bad ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"bars":{%q:[`, symbol)
	for i, x := range bars {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"t":%q,"o":%s,"h":%s,"l":%s,"c":%s,"v":%s,"n":%d,"vw":%s}`,
			time.UnixMilli(x.start).UTC().Format(time.RFC3339), x.open, x.high, x.low, x.close, x.volume, x.trades, x.vwap)
	}
	for _, x := range bad {
		b.WriteString(",\n" + x)
	}
	b.WriteString(`]},"next_page_token":null}`)
	return b.Bytes()
}

// klinesFile is a Binance klines CSV of bars, times in µs (spot files from
// 2025) or ms, then the lines bad.
func klinesFile(bars []vendorBar, micro bool, bad ...string) []byte {
	var b bytes.Buffer
	for _, x := range bars {
		open, end := x.start, x.start+x.length-1
		if micro {
			open, end = x.start*1000, (x.start+x.length)*1000-1
		}
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s,%s,%d,%s,%d,0,0,0\n", open, x.open, x.high, x.low, x.close, x.volume, end, x.pv, x.trades)
	}
	for _, x := range bad {
		b.WriteString(x + "\n")
	}
	return b.Bytes()
}

// vendorBarWindows computes the 5-minute windows of bars independently of
// the services: a bar's open at its start and its close at its last
// millisecond; high and low over the bars; the exact sums of the file's
// volumes and of each bar's Σ price×volume, the kline's quote volume as
// given or Alpaca's VWAP (the float64 nearest its text) times its volume;
// the VWAP their quotient rounded once.
func vendorBarWindows(t *testing.T, symbol string, bars []vendorBar) map[int64]marketdata.Aggregate {
	t.Helper()
	price := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	sort.Slice(bars, func(i, j int) bool { return bars[i].start < bars[j].start })
	out := map[int64]marketdata.Aggregate{}
	vols, pvs := map[int64]*big.Rat{}, map[int64]*big.Rat{}
	for _, b := range bars {
		w := marketdata.WindowStart(b.start)
		a, ok := out[w]
		if !ok {
			a = marketdata.Aggregate{Symbol: symbol, WindowStart: w, WindowEnd: w + 300_000, Open: price(b.open),
				High: price(b.high), Low: price(b.low), FirstTs: b.start}
			vols[w], pvs[w] = new(big.Rat), new(big.Rat)
		}
		a.Close, a.LastTs = price(b.close), b.start+b.length-1
		a.High, a.Low = max(a.High, price(b.high)), min(a.Low, price(b.low))
		a.Trades += b.trades
		vol := mustRat(t, b.volume)
		vols[w].Add(vols[w], vol)
		if b.pv != "" {
			pvs[w].Add(pvs[w], mustRat(t, b.pv))
		} else {
			pvs[w].Add(pvs[w], new(big.Rat).Mul(new(big.Rat).SetFloat64(price(b.vwap)), vol))
		}
		a.Volume = marketdata.Decimal(ratText(vols[w]))
		a.VWAP, _ = new(big.Rat).Quo(pvs[w], vols[w]).Float64()
		out[w] = a
	}
	return out
}

// TestVendorBarsEndToEnd: an Alpaca bars file and Binance klines files (one
// in µs, one in ms as data.binance.vision ships it, zipped) go through the
// local pipeline, detected from their members, rows and names: the reports
// name the profile and refuse the bad bars per record; every window equals
// an independent computation to the last digit, its VWAP exact from the
// klines' quote volumes and from Alpaca's VWAPs.
func TestVendorBarsEndToEnd(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(-6 * time.Hour) // yesterday 18:00 UTC
	alpaca := genBars(start, 13, map[int]bool{6: true}, false)
	klines := genBars(start, 12, map[int]bool{2: true}, true)
	zippedKlines := genBars(start.Add(10*time.Minute), 7, nil, true)
	ms := func(m int) int64 { return start.Add(time.Duration(m) * time.Minute).UnixMilli() }
	cases := []struct {
		key, symbol, profile string
		body                 []byte
		bars                 []vendorBar
		reasons              []string // of the refused records, in order
		archived             string
	}{
		{"e2e/vendorbars/alpaca-bars.json", "E2EALPB", marketdata.ProfileAlpacaBars,
			alpacaBarsFile("E2EALPB", alpaca,
				fmt.Sprintf(`{"t":%q,"o":190,"h":189,"l":191,"c":190,"v":1,"n":1,"vw":190}`, time.UnixMilli(ms(20)).UTC().Format(time.RFC3339)),
				fmt.Sprintf(`{"t":%q,"o":190,"h":191,"l":189,"c":190,"v":1,"n":1,"vw":190}`, time.UnixMilli(ms(20)+30_000).UTC().Format(time.RFC3339))),
			alpaca, []string{"alpaca-bars h:", "alpaca-bars t:"}, ""},
		{"e2e/vendorbars/E2EBINK-1m-" + start.Format("2006-01-02") + ".csv", "E2EBINK", marketdata.ProfileBinanceKlines,
			klinesFile(klines, true,
				fmt.Sprintf("%d,190,191,189,190,1,%d,190,1,0,0,0", ms(20)*1000, ms(21)*1000-2), // close_time not the last µs
				fmt.Sprintf("%d,190,191,189,190,1,%d,195,1,0,0,0", ms(21)*1000, ms(22)*1000-1), // quote volume / volume above high
			),
			klines, []string{"binance-klines close_time:", "binance-klines quote_asset_volume:"}, ""},
		{"e2e/vendorbars/E2EBINKZ-1m-" + start.Format("2006-01-02") + ".zip", "E2EBINKZ", marketdata.ProfileBinanceKlines,
			zipped(t, "E2EBINKZ-1m-"+start.Format("2006-01-02")+".csv", klinesFile(zippedKlines, false)),
			zippedKlines, nil, "E2EBINKZ-1m-" + start.Format("2006-01-02") + ".csv"},
	}
	reps := uploadAll(ctx, t, p, len(cases), func(i int) (string, []byte) { return cases[i].key, cases[i].body })
	for i, tc := range cases {
		rep := reps[i]
		if rep.Status != marketdata.ReportCompleted || rep.Profile != tc.profile || rep.Accepted != int64(len(tc.bars)) ||
			rep.Rejected != int64(len(tc.reasons)) || rep.ArchivedFile != tc.archived {
			t.Fatalf("%s: report %s profile %q accepted %d rejected %d archived %q (%s %v); want %q %d %d %q", tc.key, rep.Status,
				rep.Profile, rep.Accepted, rep.Rejected, rep.ArchivedFile, rep.Error, rep.Rejections, tc.profile, len(tc.bars), len(tc.reasons), tc.archived)
		}
		for i, rj := range rep.Rejections {
			if !strings.HasPrefix(rj.Reason, tc.reasons[i]) {
				t.Fatalf("%s: rejection %+v, want one naming %q", tc.key, rj, tc.reasons[i])
			}
		}
		want := vendorBarWindows(t, tc.symbol, tc.bars)
		err := eventually(ctx, 2*time.Minute, func() error {
			got, err := table(p).Aggregates(ctx, tc.symbol)
			if err != nil {
				return err
			}
			if len(got) != len(want) {
				return fmt.Errorf("%s: %d windows, want %d", tc.symbol, len(got), len(want))
			}
			for _, a := range got {
				a.OpenText, a.HighText, a.LowText, a.CloseText = "", "", "", ""
				if err := sameExact(a, want[a.WindowStart]); err != nil {
					return fmt.Errorf("%s window %d: %w", tc.symbol, a.WindowStart, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
