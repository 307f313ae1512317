package parse

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

func minuteBar(sym string, start int64, o, h, l, c float64, v marketdata.Decimal, n int64) marketdata.Bar {
	return marketdata.Bar{Symbol: sym, Start: start, Length: 60_000, Open: o, High: h, Low: l, Close: c, Volume: v, Trades: n}
}

// TestPolygonMinuteAggs parses the Polygon minute aggregates fixture
// (written from Massive's flat-file documentation: us_stocks_sip/
// minute_aggs_v1), detected from its header: each row a 1-minute bar, its
// window_start in ns, no VWAP; each refusal names the profile and the
// vendor's column.
func TestPolygonMinuteAggs(t *testing.T) {
	price, vol, ts := marketdata.ErrPrice.Error(), marketdata.ErrVolume.Error(), marketdata.ErrTimestamp.Error()
	const p = marketdata.ProfilePolygonMinuteAggs
	recs, info, err := parseWith(t, "us_stocks_sip/minute_aggs_v1/2024/05/2024-05-31.csv", readFixture(t, "polygon-minute-aggs.csv"), Options{})
	if err != nil || info.Profile != p {
		t.Fatalf("profile %q, %v", info.Profile, err)
	}
	checkRecords(t, recs, []want{
		{index: 2, bar: minuteBar("AAPL", t0, 191.29, 191.35, 191.2, 191.31, "4930", 129)},
		{index: 3, bar: minuteBar("AAPL", t0+60_000, 191.31, 191.33, 191.22, 191.25, "1200", 42)},
		{index: 4, bar: minuteBar("MSFT", t0, 415.125, 415.3, 415.1, 415.2, "300", 7)},
		{index: 5, category: price, reason: []string{p + " high:", "high 191.1 < low 191.4"}},
		{index: 6, category: ts, reason: []string{p + " window_start:", "misaligned"}},
		{index: 7, category: vol, reason: []string{p + " volume:", "negative"}},
		{index: 8, category: price, reason: []string{p + " open:", "open 192 outside [low 191.1, high 191.4]"}},
		{index: 9, category: vol, reason: []string{p + " volume:", "without volume"}},
		{index: 10, category: marketdata.ErrSymbol.Error(), reason: []string{p + " ticker:", "O:SPY"}},
		{index: 11, category: ts, reason: []string{p + " window_start:", "reads as ms", "ns (18-19 digits)"}},
		{index: 12, category: CategoryMissing, reason: []string{p + ": missing transactions"}},
		{index: 13, bar: minuteBar("AAPL", t0+240_000, 191.3, 191.4, 191.1, 191.3, "2.5", 1)}, // a fractional share
	})
	for _, r := range recs {
		if r.bar != nil && r.unit != "ns" {
			t.Errorf("record %d read in %q, want ns", r.index, r.unit)
		}
	}
}

// The bar length: 1 minute by the profile, forced by a timeframe, refused
// whole when longer than 5 minutes or not dividing the window (a day_aggs
// file: Polygon's day bars have the same header); a timeframe applies to
// bar formats only.
func TestBarLengthOptions(t *testing.T) {
	data := []byte("ticker,volume,open,close,high,low,window_start,transactions\nAAPL,10,1,1,1,1,1717162200000000000,1\nAAPL,10,1,1,1,1,1717162260000000000,1\n")
	cases := []struct {
		name, object string
		opts         Options
		lengths      []int64 // per record, 0 for a refusal
		objectErr    []string
	}{
		{"minute aggs", "minute_aggs_v1/2024-05-31.csv", Options{}, []int64{60_000, 60_000}, nil},
		{"forced profile", "x.csv", Options{Profile: marketdata.ProfilePolygonMinuteAggs}, []int64{60_000, 60_000}, nil},
		{"5-minute timeframe", "x.csv", Options{Timeframe: "5Min"}, []int64{300_000, 0}, nil}, // 13:31 is not on a 5-minute boundary
		{"day aggs", "us_stocks_sip/day_aggs_v1/2024/05/2024-05-31.csv.gz", Options{}, nil, []string{p(), "longer than 5m0s"}},
		{"15-minute timeframe", "x.csv", Options{Timeframe: "15Min"}, nil, []string{"timeframe", "longer than 5m0s"}},
		{"3-minute timeframe", "x.csv", Options{Timeframe: "3m"}, nil, []string{"does not divide the 5m0s window"}},
		{"timeframe for trades", "x.csv", Options{Profile: marketdata.ProfilePolygonTrades, Timeframe: "1m"}, nil, []string{"bar formats only"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, _, err := parseWith(t, c.object, data, c.opts)
			if c.objectErr != nil {
				var oe *ObjectError
				if !errors.As(err, &oe) || oe.Category != ObjectBadProfile {
					t.Fatalf("err %v, want an %s", err, ObjectBadProfile)
				}
				for _, r := range c.objectErr {
					if !strings.Contains(oe.Reason, r) {
						t.Errorf("reason %q does not contain %q", oe.Reason, r)
					}
				}
				return
			}
			if err != nil || len(recs) != len(c.lengths) {
				t.Fatalf("%v, %d records", err, len(recs))
			}
			for i, l := range c.lengths {
				if l == 0 && recs[i].bar != nil || l != 0 && (recs[i].bar == nil || recs[i].bar.Length != l) {
					t.Errorf("record %d: %+v %s, want length %d", i, recs[i].bar, recs[i].reason, l)
				}
			}
		})
	}
}

func p() string { return marketdata.ProfilePolygonMinuteAggs }

// TestPolygonDayAggregates: a day_aggs file under another name has the
// minute aggregates' header, but its rows start at midnight New York time,
// where no US-stock minute bar starts: such a row is refused as a day
// aggregate, unless the timeframe was given (the sender says what the bars
// are); 04:00 or 05:00 UTC not at midnight New York (the other season) is a
// minute bar.
func TestPolygonDayAggregates(t *testing.T) {
	const (
		edt = 1717128000000 // 2024-05-31 00:00 EDT (04:00 UTC)
		est = 1704171600000 // 2024-01-02 00:00 EST (05:00 UTC)
	)
	rows := []int64{
		edt, est,
		edt + 3_600_000,  // 01:00 EDT (05:00 UTC, midnight in winter)
		est - 3_600_000,  // 23:00 EST (04:00 UTC, midnight in summer)
		edt + 14_400_000, // 04:00 EDT, the first minute of the pre-market
		edt - 14_400_000, // 00:00 UTC
	}
	data := "ticker,volume,open,close,high,low,window_start,transactions\n"
	for _, ms := range rows {
		data += fmt.Sprintf("AAPL,10,1,1,1,1,%d,1\n", ms*1_000_000)
	}
	day := []string{p() + " window_start:", "midnight New York time", "day aggregate", "longer than 5m0s", "timeframe " + minuteTimeframe, "x-amz-meta-timeframe", "?timeframe="}
	ok := want{} // a bar, filled in by bars
	refused := want{category: marketdata.ErrBarLength.Error(), reason: day}
	bars := func(tf string, w ...want) []want {
		for i := range w {
			w[i].index = int64(i + 2)
			if w[i].category == "" {
				w[i].bar = minuteBar("AAPL", rows[i], 1, 1, 1, 1, "10", 1)
				if tf == "5Min" {
					w[i].bar.Length = 300_000
				}
			}
		}
		return w
	}
	for _, c := range []struct {
		name, object string
		opts         Options
		want         []want
	}{
		{"detected", "us_stocks_sip/minute_aggs_v1/2024/05/2024-05-31.csv", Options{}, bars("", refused, refused, ok, ok, ok, ok)},
		{"renamed day file", "upload.csv", Options{}, bars("", refused, refused, ok, ok, ok, ok)},
		{"forced profile", "x.csv", Options{Profile: marketdata.ProfilePolygonMinuteAggs}, bars("", refused, refused, ok, ok, ok, ok)},
		{"timeframe " + minuteTimeframe, "x.csv", Options{Timeframe: minuteTimeframe}, bars("", ok, ok, ok, ok, ok, ok)},
		{"timeframe 5Min", "x.csv", Options{Timeframe: "5Min"}, bars("5Min", ok, ok, ok, ok, ok, ok)},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs, info, err := parseWith(t, c.object, []byte(data), c.opts)
			if err != nil || info.Profile != p() {
				t.Fatalf("profile %q, %v", info.Profile, err)
			}
			checkRecords(t, recs, c.want)
		})
	}
	if ms, err := marketdata.ParseBarLength(minuteTimeframe); err != nil || ms != 60_000 {
		t.Errorf("minuteTimeframe %q: %d, %v; want a minute", minuteTimeframe, ms, err)
	}
}

// A header naming the profile but lacking a bar field is refused whole,
// with the missing columns.
func TestBarHeaderMissingColumns(t *testing.T) {
	_, _, err := parseWith(t, "x.csv", []byte("ticker,open,close,high,low,window_start\nAAPL,1,1,1,1,1717162200000000000\n"), Options{})
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Category != ObjectBadHeader || !strings.Contains(oe.Reason, "missing column(s) volume, transactions") {
		t.Fatalf("err %v", err)
	}
}

// FuzzParseBars: any content read as Polygon minute aggregates keeps the
// parse invariants (fuzzRunWith: no panic, positions increasing, every
// accepted bar valid), and a well-formed row is a bar that the text of its
// fields gives back.
func FuzzParseBars(f *testing.F) {
	f.Add(readFixture(f, "polygon-minute-aggs.csv"))
	f.Add([]byte("ticker,volume,open,close,high,low,window_start,transactions\nAAPL,1e3,1.5,1.5,1.5,1.5,1717162200000000000,1\n"))
	f.Add([]byte("window_start,ticker,transactions,volume,open,close,high,low\n1717162200000000000,A,1,1,1,1,1,1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := fuzzRunWith(t, "fuzz.csv", data, false, Options{Profile: marketdata.ProfilePolygonMinuteAggs})
		if err == nil && !isGzip(data) && !bytes.ContainsRune(data, '"') {
			if want := nonBlankLines(data) - 1; len(recs) != want {
				t.Fatalf("%d records from %d non-blank data lines", len(recs), want)
			}
		}
		for _, r := range recs {
			if r.bar != nil && (r.bar.Length != 60_000 || r.bar.Start%60_000 != 0) {
				t.Fatalf("bar %+v", r.bar)
			}
		}
	})
}

// A bar's open, high, low and close are kept as a trade's price is (see
// TestPricesNeverRounded): 30 significant digits keep their exact text,
// 39 are refused naming the profile, the vendor's column and the limit, and
// the order of the prices compares the texts.
func TestBarPricesNeverRounded(t *testing.T) {
	const p = marketdata.ProfilePolygonMinuteAggs
	const digits30 = "191.290000000000000000000000001"
	const digits39 = "191.290000000000000000000000000000000001"
	data := "ticker,volume,open,close,high,low,window_start,transactions\n" +
		"AAPL,10," + digits30 + ",191.3,191.35,191.2,1717162200000000000,2\n" +
		"AAPL,10," + digits39 + ",191.3,191.35,191.2,1717162260000000000,2\n" +
		"AAPL,10,191.3,191.35000000000000000000000001,191.35,191.2,1717162320000000000,2\n"
	recs, info, err := parseWith(t, "us_stocks_sip/minute_aggs_v1/2024/05/2024-05-31.csv", []byte(data), Options{})
	if err != nil || info.Profile != p {
		t.Fatalf("profile %q, %v", info.Profile, err)
	}
	kept := minuteBar("AAPL", t0, 191.29, 191.35, 191.2, 191.3, "10", 2)
	kept.OpenText = digits30
	checkRecords(t, recs, []want{
		{index: 2, bar: kept},
		{index: 3, category: marketdata.ErrPrice.Error(), reason: []string{p + " open:", "39 significant digits, more than the 38 a DynamoDB number keeps"}},
		{index: 4, category: marketdata.ErrPrice.Error(), reason: []string{p + " close:", "close 191.35000000000000000000000001 outside [low 191.2, high 191.35]"}},
	})
	// A given VWAP (Alpaca's vw) is held to the same rule.
	const vw30 = "191.331200000000000000000000001"
	const vw39 = "191.331200000000000000000000000000000001"
	alpaca := `{"T":"b","S":"AAPL","o":191.29,"h":191.5,"l":191.1,"c":191.42,"v":120345,"t":"2024-05-31T13:30:00Z","n":1523,"vw":` + vw30 + "}\n" +
		`{"T":"b","S":"AAPL","o":191.29,"h":191.5,"l":191.1,"c":191.42,"v":120345,"t":"2024-05-31T13:31:00Z","n":1523,"vw":` + vw39 + "}\n"
	recs, info, err = parseWith(t, "incoming/alpaca-bars.ndjson", []byte(alpaca), Options{})
	if err != nil || info.Profile != marketdata.ProfileAlpacaBars || len(recs) != 2 {
		t.Fatalf("profile %q, %v, %d records", info.Profile, err, len(recs))
	}
	if b := recs[0].bar; b == nil || b.VWAP != 191.3312 || b.VWAPText != vw30 {
		t.Fatalf("vw kept: %+v", recs[0])
	}
	if r := recs[1]; r.category != marketdata.ErrBarVWAP.Error() || !strings.Contains(r.reason, "alpaca-bars vw:") ||
		!strings.Contains(r.reason, "more than the 38") {
		t.Fatalf("vw refused: %+v", r)
	}
}
