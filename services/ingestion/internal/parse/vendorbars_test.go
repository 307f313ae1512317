package parse

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// The bars of the Alpaca and Binance fixtures (testdata/profiles, written
// from the vendors' public documentation): 2024-05-31T13:30:00Z (t0) and
// after, and 2025-01-02 for Binance's µs spot file.
const minute = int64(60_000)

// kline is a 1-minute BTCUSDT bar with Binance's exact quote volume as pv.
func kline(start int64, o, h, l, c float64, v, pv marketdata.Decimal, n int64) marketdata.Bar {
	return marketdata.Bar{Symbol: "BTCUSDT", Start: start, Length: minute, Open: o, High: h, Low: l, Close: c,
		Volume: v, PV: pv, Trades: n}
}

// alpacaBar is a 1-minute bar with Alpaca's VWAP.
func alpacaBar(sym string, start int64, o, h, l, c float64, v marketdata.Decimal, n int64, vw float64) marketdata.Bar {
	return marketdata.Bar{Symbol: sym, Start: start, Length: minute, Open: o, High: h, Low: l, Close: c,
		Volume: v, VWAP: vw, Trades: n}
}

// TestVendorBars parses each Alpaca bars and Binance klines fixture,
// detected from its first record or line and its name, and checks every
// record: the columns mapped, the units read, the length from the name or
// the timeframe, and each refusal naming the profile and the vendor's
// column.
func TestVendorBars(t *testing.T) {
	price, ts := marketdata.ErrPrice.Error(), marketdata.ErrTimestamp.Error()
	jan2 := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC).UnixMilli()
	cases := []struct {
		fixture, name string
		now           time.Time
		opts          Options
		profile       string
		units         map[string]int
		want          []want
	}{
		{"BTCUSDT-1m-2024-05-31.csv", "", testNow, Options{}, marketdata.ProfileBinanceKlines, map[string]int{"ms": 3, "us": 1}, []want{
			{index: 1, bar: kline(t0, 67512.3, 67530, 67500.1, 67520.5, "2.5", "168800.95", 42)}, // the first line is data
			{index: 2, bar: kline(t0+minute, 67520.5, 67525, 67490, 67495, "1.25", "84381.25", 17)},
			{index: 3, category: marketdata.ErrBarLength.Error(), reason: []string{"binance-klines close_time:", "1717162379000 is not 1717162379999", "not 1m long"}},
			{index: 4, category: price, reason: []string{"binance-klines high:", "high 67470 < low 67485"}},
			// µs in a ms file: each time is read by its magnitude; the
			// close_time is the bar's last µs.
			{index: 5, bar: kline(t0+4*minute, 67480, 67510, 67475, 67505, "0.4", "27000.5", 7)},
			{index: 6, category: ts, reason: []string{"binance-klines open_time:", "misaligned"}},
			// A minute without trades: an empty bar at the previous close.
			{index: 7, bar: kline(t0+6*minute, 67505, 67505, 67505, 67505, "0", "0", 0)},
		}},
		{"BTCUSDT-1m-2025-01-02.csv", "", time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC), Options{}, marketdata.ProfileBinanceKlines, map[string]int{"us": 3}, []want{
			{index: 1, bar: kline(jan2, 94591.79, 94644, 94563.92, 94604.01, "13.2835", "1256619.1", 2185)},
			{index: 2, bar: kline(jan2+minute, 94604.01, 94650, 94580, 94620, "8.5", "804206.25", 1402)},
			{index: 3, bar: kline(jan2+2*minute, 94620, 94640, 94600, 94635.5, "2", "189260.5", 311)},
		}},
		// The symbol given with the object when the name has none; the
		// interval given as the timeframe.
		{"BTCUSDT-1m-2025-01-02.csv", "upload.csv", time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC),
			Options{Profile: marketdata.ProfileBinanceKlines, Symbol: "ETHUSDT", Timeframe: "1m"}, marketdata.ProfileBinanceKlines, map[string]int{"us": 3}, []want{
				{index: 1, bar: func() marketdata.Bar {
					b := kline(jan2, 94591.79, 94644, 94563.92, 94604.01, "13.2835", "1256619.1", 2185)
					b.Symbol = "ETHUSDT"
					return b
				}()},
				{index: 2}, {index: 3},
			}},
		{"alpaca-bars-historical.json", "", testNow, Options{}, marketdata.ProfileAlpacaBars, map[string]int{UnitRFC3339: 3}, []want{
			{index: 0, bar: alpacaBar("AAPL", t0, 191.29, 191.5, 191.1, 191.42, "120345", 1523, 191.3312)},
			{index: 1, bar: alpacaBar("AAPL", t0+minute, 191.42, 191.6, 191.3, 191.55, "80211", 987, 191.4875)},
			{index: 2, category: price, reason: []string{"alpaca-bars h:", "high 191.2 < low 191.4"}},
			{index: 3, bar: alpacaBar("MSFT", t0, 415.1, 415.3, 415, 415.2, "50210", 800, 415.16)}, // indexes run on across symbols
			{index: 4, category: ts, reason: []string{"alpaca-bars t:", "misaligned"}},
		}},
		// The single-symbol response: its symbol comes after the bars.
		{"alpaca-bars-single.json", "", testNow, Options{}, marketdata.ProfileAlpacaBars, map[string]int{UnitRFC3339: 2}, []want{
			{index: 0, bar: alpacaBar("AAPL", t0, 191.29, 191.6, 191.1, 191.55, "200556", 2510, 191.3937)},
			{index: 1, bar: alpacaBar("AAPL", t0+5*minute, 191.55, 191.8, 191.5, 191.7, "150000", 1800, 191.65)}, // -04:00
			{index: 2, category: marketdata.ErrVolume.Error(), reason: []string{"alpaca-bars v:", `"-3"`, "negative"}},
		}},
		// The same as 5-minute bars: the timeframe given with the object.
		{"alpaca-bars-single.json", "", testNow, Options{Timeframe: "5Min"}, marketdata.ProfileAlpacaBars, map[string]int{UnitRFC3339: 2}, []want{
			{index: 0, bar: func() marketdata.Bar {
				b := alpacaBar("AAPL", t0, 191.29, 191.6, 191.1, 191.55, "200556", 2510, 191.3937)
				b.Length = 5 * minute
				return b
			}()},
			{index: 1}, {index: 2, category: marketdata.ErrVolume.Error()},
		}},
		{"alpaca-bars.ndjson", "", testNow, Options{}, marketdata.ProfileAlpacaBars, map[string]int{UnitRFC3339: 2}, []want{
			{index: 1, bar: alpacaBar("AAPL", t0, 191.29, 191.5, 191.1, 191.42, "120345", 1523, 191.3312)},
			{index: 2, bar: alpacaBar("MSFT", t0, 415.1, 415.3, 415, 415.2, "50210", 800, 415.16)},
			{index: 3, category: ts, reason: []string{"alpaca-bars t:", "misaligned"}},
			{index: 4, category: marketdata.ErrBarVWAP.Error(), reason: []string{"alpaca-bars vw:", "192.5", "outside [low 191.3, high 191.6]"}},
		}},
	}
	for _, tc := range cases {
		name := tc.name
		if name == "" {
			name = "incoming/" + tc.fixture
		}
		t.Run(tc.fixture+"/"+name+"/"+tc.opts.Timeframe, func(t *testing.T) {
			recs, info, err := parseBy(&Parser{Now: tc.now, Options: tc.opts}, name, readFixture(t, tc.fixture))
			units := acceptedUnits(recs)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if info.Profile != tc.profile {
				t.Fatalf("profile %q, want %q", info.Profile, tc.profile)
			}
			// Where a case gives only the outcome, the first bar is checked
			// and the others' outcome only.
			for i := range tc.want {
				if tc.want[i].category == "" && tc.want[i].bar == (marketdata.Bar{}) {
					if recs[i].category != "" {
						t.Fatalf("record %d refused: %s", i, recs[i].reason)
					}
					tc.want[i].bar = *recs[i].bar
				}
				if tc.want[i].category != "" && tc.want[i].reason == nil && i < len(recs) {
					tc.want[i].reason = []string{tc.profile}
				}
			}
			checkRecords(t, recs, tc.want)
			for u, n := range tc.units {
				if units[u] != n {
					t.Errorf("%d bars read in %s, want %d (all: %v)", units[u], u, n, units)
				}
			}
		})
	}
}

// TestKlinesEmpty: Binance writes a kline for an interval without trades
// (1-second klines above all): volume 0, number_of_trades 0, every price
// the previous close. It is accepted as sent (an empty bar, which folds
// nothing downstream); a kline with trades but no volume, volume but no
// trades, or several prices without either, is refused.
func TestKlinesEmpty(t *testing.T) {
	row := func(open int64, o, h, l, c, v, pv string, n int) string {
		return fmt.Sprintf("%d,%s,%s,%s,%s,%s,%d,%s,%d,0.00000000,0.00000000,0\n", open, o, h, l, c, v, open+999, pv, n)
	}
	const px = "67520.50000000"
	data := row(t0, "67512.30000000", "67530.00000000", "67500.10000000", px, "0.02500000", "1688.00950000", 4) +
		row(t0+1000, px, px, px, px, "0.00000000", "0.00000000", 0) +
		row(t0+2000, px, px, px, px, "0.00000000", "0.00000000", 0) +
		row(t0+3000, px, px, px, px, "0.50000000", "33760.25000000", 0) +
		row(t0+4000, px, px, px, px, "0.00000000", "0.00000000", 2) +
		row(t0+5000, px, "67530.00000000", px, px, "0.00000000", "0.00000000", 0)
	recs, info, err := parseWith(t, "BTCUSDT-1s-2024-05-31.csv", []byte(data), Options{})
	if err != nil || info.Profile != marketdata.ProfileBinanceKlines {
		t.Fatalf("profile %q, %v", info.Profile, err)
	}
	sec := func(b marketdata.Bar) marketdata.Bar { b.Length = 1000; return b }
	checkRecords(t, recs, []want{
		{index: 1, bar: sec(kline(t0, 67512.3, 67530, 67500.1, 67520.5, "0.025", "1688.0095", 4))},
		{index: 2, bar: sec(kline(t0+1000, 67520.5, 67520.5, 67520.5, 67520.5, "0", "0", 0))},
		{index: 3, bar: sec(kline(t0+2000, 67520.5, 67520.5, 67520.5, 67520.5, "0", "0", 0))},
		{index: 4, category: marketdata.ErrBarTrades.Error(), reason: []string{"binance-klines number_of_trades:", "a bar with volume has trades"}},
		{index: 5, category: marketdata.ErrVolume.Error(), reason: []string{"binance-klines volume:", "2 trades"}},
		{index: 6, category: marketdata.ErrVolume.Error(), reason: []string{"binance-klines volume:", "one price"}},
	})
	for _, r := range recs[1:3] {
		if !r.bar.Empty() {
			t.Errorf("record %d: %+v is not empty", r.index, r.bar)
		}
	}
}

// klinesCSV is n valid 1-minute klines (ms) from t0.
func klinesCSV(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		open := t0 + int64(i)*minute
		fmt.Fprintf(&b, "%d,100.5,101,100,100.75,2.00000000,%d,201.00000000,3,1,100.5,0\n", open, open+minute-1)
	}
	return b.Bytes()
}

// TestKlinesInterval: the bar length is the file name's interval or the
// given timeframe; 1s, 1m, 5m are read (each checked against close_time),
// 3m (it does not divide the window) and 15m and longer (longer than the
// window) are refused whole with that reason, as is a name without one.
func TestKlinesInterval(t *testing.T) {
	oneMinute := klinesCSV(3)
	cases := []struct {
		name      string
		opts      Options
		length    int64
		refused   int    // records refused (close_time not fitting the length)
		objectErr string // a refusal of the whole object, by a part of its reason
	}{
		{name: "BTCUSDT-1m-2024-05-31.csv", length: minute},
		{name: "data/BTCUSDT-1m-2024-05.csv", length: minute},                                   // a monthly file
		{name: "BTCUSDT-5m-2024-05-31.csv", length: 5 * minute, refused: 3},                     // close_time is 1 minute on
		{name: "BTCUSDT-1s-2024-05-31.csv", length: 1000, refused: 3},                           // likewise
		{name: "BTCUSDT-5m-2024-05-31.csv", opts: Options{Timeframe: "1m"}, length: minute},     // the timeframe given wins
		{name: "upload.csv", opts: Options{Timeframe: "1m", Symbol: "BTCUSDT"}, length: minute}, // detected from the rows
		{name: "BTCUSDT-3m-2024-05-31.csv", objectErr: "does not divide the 5m0s window"},       // 3m straddles windows
		{name: "BTCUSDT-15m-2024-05-31.csv", objectErr: "longer than 5m0s"},                     // longer than a window
		{name: "BTCUSDT-1h-2024-05-31.csv", objectErr: "longer than 5m0s"},
		{name: "BTCUSDT-1d-2024-05-31.csv", objectErr: "longer than 5m0s"},
		{name: "BTCUSDT-1w-2024-05-31.csv", objectErr: "longer than 5m0s"},
		{name: "BTCUSDT-1mo-2024-05.csv", objectErr: "longer than 5m0s"}, // data.binance.vision's monthly klines
		{name: "BTCUSDT-2h-2024-05-31.csv", objectErr: "longer than 5m0s"},
		{name: "upload.csv", opts: Options{Symbol: "BTCUSDT"}, objectErr: "names no interval"},   // 12 numbers, no interval
		{name: "BTCUSDT-1m.csv", opts: Options{Timeframe: "15m"}, objectErr: "longer than 5m0s"}, // a timeframe refused
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.opts.Timeframe, func(t *testing.T) {
			recs, info, err := parseWith(t, tc.name, oneMinute, tc.opts)
			if tc.objectErr != "" {
				var oe *ObjectError
				if !errors.As(err, &oe) || !strings.Contains(oe.Reason, tc.objectErr) || len(recs) != 0 {
					t.Fatalf("err %v, %d records; want an object error with %q", err, len(recs), tc.objectErr)
				}
				return
			}
			if err != nil || info.Profile != marketdata.ProfileBinanceKlines || len(recs) != 3 {
				t.Fatalf("err %v, profile %q, %d records", err, info.Profile, len(recs))
			}
			refused := 0
			for _, r := range recs {
				switch {
				case r.category == marketdata.ErrBarLength.Error():
					refused++
				case r.category != "":
					t.Fatalf("record %d: %s", r.index, r.reason)
				case r.bar.Length != tc.length || r.bar.Symbol != "BTCUSDT":
					t.Fatalf("record %d: %+v, want length %d", r.index, r.bar, tc.length)
				}
			}
			if refused != tc.refused {
				t.Fatalf("%d refused for their close_time, want %d", refused, tc.refused)
			}
		})
	}
	// Forced without a symbol or an interval: the object says which is missing.
	_, _, err := parseWith(t, "upload.csv", oneMinute, Options{Profile: marketdata.ProfileBinanceKlines, Symbol: "BTCUSDT"})
	if err == nil || !strings.Contains(err.Error(), "x-amz-meta-timeframe") {
		t.Fatalf("forced without an interval: %v", err)
	}
	_, _, err = parseWith(t, "upload.csv", oneMinute, Options{Profile: marketdata.ProfileBinanceKlines, Timeframe: "1m"})
	if err == nil || !strings.Contains(err.Error(), "x-amz-meta-symbol") {
		t.Fatalf("forced without a symbol: %v", err)
	}
}

// TestKlinesDetection: klines are told from Binance's trades and aggTrades
// by their 12 numeric columns, and the name's kind must agree; a file no
// profile fits names binance-klines among the profiles tried.
func TestKlinesDetection(t *testing.T) {
	klines := klinesCSV(2)
	for _, tc := range []struct {
		name, data, profile, objectErr string
	}{
		{"BTCUSDT-1m-2024-05-31.csv", string(klines), marketdata.ProfileBinanceKlines, ""},
		{"BTCUSDT-1m-2024-05-31.csv.gz", string(klines), marketdata.ProfileBinanceKlines, ""},
		// A trades file named as klines, and klines named as trades.
		{"BTCUSDT-1m-2024-05-31.csv", "3602823,67512.3,2,135024.6,1717162200001,True,True\n", "", "binance-klines (no header, 12 columns)"},
		{"BTCUSDT-trades-2024-05-31.csv", string(klines), "", "binance-klines (no header, 12 columns)"},
		// 11 or 13 numbers are not klines.
		{"BTCUSDT-1m-2024-05-31.csv", "1717162200000,1,1,1,1,1,1717162259999,1,1,1,1\n", "", "no vendor format fits"},
		// A header naming the columns (Binance's futures files have one).
		{"BTCUSDT-1m-2024-05-31.csv", "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n" + string(klines),
			marketdata.ProfileBinanceKlines, ""},
	} {
		t.Run(tc.name+"/"+tc.data[:20], func(t *testing.T) {
			data := []byte(tc.data)
			if strings.HasSuffix(tc.name, ".gz") {
				data = gzipped(t, data)
			}
			recs, info, err := parseWith(t, tc.name, data, Options{})
			if tc.objectErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.objectErr) {
					t.Fatalf("err %v, want one naming %q", err, tc.objectErr)
				}
				return
			}
			if err != nil || info.Profile != tc.profile || len(recs) != 2 {
				t.Fatalf("err %v, profile %q, %d records", err, info.Profile, len(recs))
			}
			for _, r := range recs {
				if r.category != "" || r.bar.PV != "201" || r.bar.Trades != 3 {
					t.Fatalf("record %d: %+v %s", r.index, r.bar, r.reason)
				}
			}
		})
	}
}

// TestAlpacaBarsShapes: the shapes and options of Alpaca's bars, and what
// tells them from its trades.
func TestAlpacaBarsShapes(t *testing.T) {
	const bar = `{"t":"2024-05-31T13:30:00Z","o":191.29,"h":191.5,"l":191.1,"c":191.42,"v":120345,"n":1523,"vw":191.3312}`
	for _, tc := range []struct {
		what, name, data string
		opts             Options
		symbols          []string // of the bars, in order ("" for a refusal)
		objectErr        string
	}{
		{"single, symbol given", "bars.json", `{"bars":[` + bar + `],"next_page_token":null}`, Options{Symbol: "MSFT"}, []string{"MSFT"}, ""},
		{"single, symbol member wins over nothing", "bars.json", `{"bars":[` + bar + `,` + bar + `],"symbol":"NVDA","currency":"USD"}`, Options{}, []string{"NVDA", "NVDA"}, ""},
		{"single, no symbol", "bars.json", `{"bars":[` + bar + `],"next_page_token":null}`, Options{}, nil, `has no "symbol" member`},
		{"multi-symbol", "bars.json", `{"bars":{"AAPL":[` + bar + `],"BRK.B":[` + bar + `]},"next_page_token":"QUFQTHxNfDIwMjQ"}`, Options{}, []string{"AAPL", "BRK.B"}, ""},
		{"empty page", "bars.json", `{"bars":{},"next_page_token":null}`, Options{}, nil, ""},
		{"empty single-symbol page", "bars.json", `{"bars":null,"symbol":"AAPL","next_page_token":null}`, Options{}, nil, ""},
		{"bars twice", "bars.json", `{"bars":{},"bars":{}}`, Options{}, nil, `"bars" appears twice`},
		{"bars is a string", "bars.json", `{"bars":"x"}`, Options{}, nil, `"bars" is a string`},
		{"stream array", "bars.json", `[{"T":"b","S":"AAPL","t":"2024-05-31T13:30:00Z","o":1,"h":1,"l":1,"c":1,"v":1,"n":1}]`, Options{}, []string{"AAPL"}, ""},
		{"stream, no symbol", "bars.ndjson", `{"T":"b","t":"2024-05-31T13:30:00Z","o":1,"h":1,"l":1,"c":1,"v":1,"n":1}`, Options{}, []string{""}, ""},
		{"no trade count", "bars.ndjson", `{"S":"AAPL","t":"2024-05-31T13:30:00Z","o":1,"h":1,"l":1,"c":1,"v":1}`, Options{}, []string{""}, ""},
		{"forced, 5Min, misaligned", "bars.ndjson", `{"S":"AAPL","t":"2024-05-31T13:31:00Z","o":1,"h":1,"l":1,"c":1,"v":1,"n":1}`,
			Options{Profile: marketdata.ProfileAlpacaBars, Timeframe: "5Min"}, []string{""}, ""},
		{"15Min refused", "bars.json", `{"bars":{"AAPL":[` + bar + `]}}`, Options{Timeframe: "15Min"}, nil, "longer than 5m0s"},
		{"1Hour refused", "bars.json", `{"bars":{"AAPL":[` + bar + `]}}`, Options{Timeframe: "1Hour"}, nil, "longer than 5m0s"},
		{"a timeframe on trades", "trades.json", `{"trades":{}}`, Options{Profile: marketdata.ProfileAlpacaTrades, Timeframe: "1Min"}, nil, "bar formats only"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			recs, info, err := parseWith(t, tc.name, []byte(tc.data), tc.opts)
			if tc.objectErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.objectErr) || len(recs) != 0 {
					t.Fatalf("err %v, %d records; want an object error with %q", err, len(recs), tc.objectErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Profile != marketdata.ProfileAlpacaBars {
				t.Fatalf("profile %q", info.Profile)
			}
			if len(recs) != len(tc.symbols) {
				t.Fatalf("%d records, want %d: %+v", len(recs), len(tc.symbols), recs)
			}
			for i, r := range recs {
				if tc.symbols[i] == "" {
					if r.category == "" || !strings.HasPrefix(r.reason, marketdata.ProfileAlpacaBars) {
						t.Fatalf("record %d: %+v, want a refusal naming the profile", i, r)
					}
					continue
				}
				if r.category != "" || r.bar.Symbol != tc.symbols[i] || r.index != int64(i) {
					t.Fatalf("record %d: %+v %s, want a bar of %s", i, r.bar, r.reason, tc.symbols[i])
				}
			}
		})
	}
	// Alpaca's trades are still trades: keys p and s, not o, h, l, c.
	recs, info, err := parseWith(t, "incoming/alpaca-trades.ndjson", readFixture(t, "alpaca-trades.ndjson"), Options{})
	if err != nil || info.Profile != marketdata.ProfileAlpacaTrades || recs[0].point.Symbol != "AAPL" {
		t.Fatalf("trades read as %q: %v", info.Profile, err)
	}
}

// TestAlpacaBarsPending: a single-symbol response longer than Alpaca's page
// limit, without its symbol given, is refused whole, before any record is
// delivered; given its symbol, it streams.
func TestAlpacaBarsPending(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"bars":[`)
	for i := range maxPendingBars + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"t":"%s","o":1,"h":1,"l":1,"c":1,"v":1,"n":1}`, time.UnixMilli(t0-int64(i)*minute).UTC().Format(time.RFC3339))
	}
	b.WriteString(`],"symbol":"AAPL"}`)
	recs, _, err := parseWith(t, "bars.json", b.Bytes(), Options{})
	if err == nil || !strings.Contains(err.Error(), "page limit") || len(recs) != 0 {
		t.Fatalf("err %v, %d records", err, len(recs))
	}
	recs, _, err = parseWith(t, "bars.json", b.Bytes(), Options{Symbol: "AAPL"})
	if err != nil || len(recs) != maxPendingBars+1 || recs[maxPendingBars].category != "" {
		t.Fatalf("err %v, %d records", err, len(recs))
	}
}

// FuzzAlpacaBars: any object read as Alpaca bars (detected or forced, with
// a timeframe or not) keeps fuzzRun's invariants (every record a valid bar
// or a refusal with a reason), and the fast JSON path agrees with
// jsontext's.
func FuzzAlpacaBars(f *testing.F) {
	for _, fixture := range []string{"alpaca-bars-historical.json", "alpaca-bars-single.json", "alpaca-bars.ndjson"} {
		data, err := readFixtureFile(fixture)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, fixture, uint8(0))
	}
	_, gen := profileObject(marketdata.ProfileAlpacaBars, 5)
	f.Add(gen, "bars.ndjson", uint8(1))
	f.Add([]byte(`{"bars":[{"t":"2024-05-31T13:30:00Z","o":"1","h":1e0,"l":1,"c":1,"v":"1.5","n":1,"vw":1}],"symbol":"A\u0041"}`), "b.json", uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, name string, mode uint8) {
		opts := Options{}
		if mode&1 != 0 {
			opts.Profile = marketdata.ProfileAlpacaBars
		}
		if mode&2 != 0 {
			opts.Timeframe = "5Min"
		}
		if mode&4 != 0 {
			opts.Symbol = "AAPL"
		}
		recs, err := fuzzRunWith(t, name, data, false, opts)
		slow, serr := fuzzRunWith(t, name, data, true, opts)
		assertSame(t, recs, err, slow, serr)
	})
}

// FuzzBinanceKlines: any CSV read as klines keeps fuzzRun's invariants,
// and each of its non-blank lines is one record (a bar or a refusal),
// unless the object is refused whole.
func FuzzBinanceKlines(f *testing.F) {
	for _, fixture := range []string{"BTCUSDT-1m-2024-05-31.csv", "BTCUSDT-1m-2025-01-02.csv"} {
		data, err := readFixtureFile(fixture)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, fixture)
	}
	_, gen := profileObject(marketdata.ProfileBinanceKlines, 5)
	f.Add(gen, "ETHUSDT-1m-2024-03-02.csv")
	f.Add(klinesCSV(3), "BTCUSDT-5m-2024-05-31.csv")
	f.Add([]byte("1717162200000,1,1,1,1,0,1717162259999,0,0,0,0,0\n"), "X-1s-2024.csv")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		opts := Options{Profile: marketdata.ProfileBinanceKlines, Symbol: "BTCUSDT"}
		recs, err := fuzzRunWith(t, name, data, false, opts)
		if err == nil && !isGzip(data) && !bytes.Contains(data, []byte{'"'}) && len(recs) != nonBlankLines(data) {
			t.Fatalf("%d records of %d lines", len(recs), nonBlankLines(data))
		}
		for _, r := range recs {
			if r.category == "" && (r.bar.Symbol != "BTCUSDT" || r.bar.Length == 0) {
				t.Fatalf("record %d: %+v", r.index, r.bar)
			}
		}
	})
}

func readFixtureFile(name string) ([]byte, error) { return os.ReadFile("testdata/profiles/" + name) }

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sameBar reports whether two records' bars (nil for none) are equal.
func sameBar(a, b *marketdata.Bar) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// TestPlainDecimal: the plain texts vendors write are taken as the prefix
// that is their canonical form; the others are left to AppendDecimal.
func TestPlainDecimal(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"2.50000000", "2.5", true}, {"2.00000000", "2", true}, {"0.00150000", "0.0015", true}, {"0", "0", true},
		{"0.0", "0", true}, {"168800.95", "168800.95", true}, {"120345", "120345", true}, {"5.", "5", true},
		{"123456789012345678", "123456789012345678", true},
		{"1234567890123456789", "", false}, // 19 digits: AppendDecimal holds it to int64
		{"0.0000000000000000001", "", false}, {"00.5", "", false}, {".5", "", false}, {"-1", "", false},
		{"1e3", "", false}, {"+1", "", false}, {"", "", false}, {"1.2.3", "", false},
	} {
		got, ok := plainDecimal([]byte(tc.in))
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("plainDecimal(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if want, why := marketdata.AppendDecimal(nil, []byte(tc.in)); ok && (why != "" || string(want) != string(got)) {
			t.Errorf("plainDecimal(%q) = %q, AppendDecimal %q %q", tc.in, got, want, why)
		}
	}
}

// FuzzPlainDecimal: wherever plainDecimal takes a text, AppendDecimal
// accepts it with the same canonical form.
func FuzzPlainDecimal(f *testing.F) {
	for _, s := range []string{"2.50000000", "0", "0.0", "5.", "123456789012345678", "0.000000000000000001", "1.0000000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := plainDecimal([]byte(s))
		want, why := marketdata.AppendDecimal(nil, []byte(s))
		if ok && (why != "" || string(want) != string(got)) {
			t.Fatalf("plainDecimal(%q) = %q; AppendDecimal %q %q", s, got, want, why)
		}
	})
}

// TestKlinesCloseTime: close_time is the bar's last tick in its open_time's
// unit, read as written when plain, by magnitude otherwise; anything else
// refuses the row naming the column.
func TestKlinesCloseTime(t *testing.T) {
	row := func(open, end string) []byte {
		return []byte(open + ",100.5,101,100,100.75,2," + end + ",201,3,1,100.5,0\n")
	}
	us := strconv.FormatInt(t0*1000, 10)
	for _, tc := range []struct {
		what, data, category, reason string
	}{
		{"ms", string(row(strconv.FormatInt(t0, 10), strconv.FormatInt(t0+minute-1, 10))), "", ""},
		{"µs", string(row(us, strconv.FormatInt((t0+minute)*1000-1, 10))), "", ""},
		{"float notation, by magnitude", string(row(strconv.FormatInt(t0, 10), "1.717162259999e12")), "", ""},
		{"µs end of a ms start", string(row(strconv.FormatInt(t0, 10), strconv.FormatInt((t0+minute)*1000-1, 10))),
			marketdata.ErrBarLength.Error(), "binance-klines close_time: end 1717162259999999 is not 1717162259999, the bar's last ms"},
		{"ms end of a µs start", string(row(us, strconv.FormatInt(t0+minute-1, 10))),
			marketdata.ErrBarLength.Error(), "the bar's last us"},
		{"not a time", string(row(strconv.FormatInt(t0, 10), "soon")), marketdata.ErrTimestamp.Error(), "binance-klines close_time: invalid timestamp"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			// After a valid first line (detection reads the first line).
			data := append(klinesCSV(1), tc.data...)
			recs, _, err := parseWith(t, "BTCUSDT-1m-2024-05-31.csv", data, Options{})
			if err != nil || len(recs) != 2 || recs[0].bar == nil {
				t.Fatalf("%v, %d records", err, len(recs))
			}
			r := recs[1]
			if r.category != tc.category || !strings.Contains(r.reason, tc.reason) || (tc.category == "") != (r.bar != nil) {
				t.Fatalf("record %+v %q, want %q %q", r.bar, r.reason, tc.category, tc.reason)
			}
		})
	}
}

// TestJSONBarMissingMembers: a JSON bar lacking required members is refused
// naming the profile and each missing member, in field order, as a point is.
func TestJSONBarMissingMembers(t *testing.T) {
	data := `{"T":"b","S":"AAPL","o":191.29,"h":191.5,"l":191.1,"c":191.42,"v":120345,"t":"2024-05-31T13:30:00Z","n":1523,"vw":191.3312}` + "\n" +
		`{"T":"b","S":"AAPL","o":191.29,"l":191.1,"c":191.42,"v":120345,"t":"2024-05-31T13:31:00Z","vw":191.3312}` + "\n"
	recs, info, err := parseWith(t, "incoming/alpaca-bars.ndjson", []byte(data), Options{})
	if err != nil || info.Profile != marketdata.ProfileAlpacaBars {
		t.Fatalf("profile %q, %v", info.Profile, err)
	}
	if len(recs) != 2 || recs[0].bar == nil {
		t.Fatalf("records %+v", recs)
	}
	checkRecords(t, recs, []want{{index: recs[0].index, bar: *recs[0].bar},
		{index: recs[1].index, category: CategoryMissing, reason: []string{"alpaca-bars: missing h, n"}}})
}

// TestAlpacaMemberShape: Alpaca's "trades" or "bars" member that is neither
// an object of arrays by symbol nor an array fails the object naming the
// profile, the member and what it is; one cut short fails as bad JSON.
func TestAlpacaMemberShape(t *testing.T) {
	for _, tc := range []struct{ data, category, reason string }{
		{`{"trades": 5}`, ObjectBadShape, `alpaca-trades "trades" is a number`},
		{`{"bars": "x"}`, ObjectBadShape, `alpaca-bars "bars" is a string`},
		{`{"bars": `, "", ""},
		{`{"trades": `, "", ""},
	} {
		_, _, err := parseWith(t, "upload.json", []byte(tc.data), Options{})
		var oe *ObjectError
		if !errors.As(err, &oe) || tc.category != "" && (oe.Category != tc.category || !strings.Contains(oe.Reason, tc.reason)) {
			t.Errorf("%s: %v, want a %q error naming %q", tc.data, err, tc.category, tc.reason)
		}
		if tc.category == "" && oe != nil && oe.Category == ObjectBadShape {
			t.Errorf("%s: %v, want a JSON error", tc.data, err)
		}
	}
}
