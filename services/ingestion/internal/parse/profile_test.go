package parse

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// The trades of the fixtures (testdata/profiles, written from each vendor's
// public documentation), as points: 2024-05-31T13:30:00Z and after.
const t0 = int64(1717162200000)

func exch(p marketdata.Point, x string) marketdata.Point { p.Exchange = x; return p }

// ns sets the nanoseconds within the millisecond a finer timestamp keeps.
func ns(p marketdata.Point, sub int32) marketdata.Point { p.SubMilliNanos = sub; return p }

// cond sets a point's conditions (their normal form, Polygon ids).
func cond(p marketdata.Point, c string) marketdata.Point { p.Conditions = c; return p }

// frac is a point with a fractional volume (crypto sizes, fractional shares).
func frac(sym string, ts int64, price float64, vol marketdata.Decimal) marketdata.Point {
	return marketdata.Point{Symbol: sym, Timestamp: ts, Price: price, Volume: vol}
}

func parseWith(t testing.TB, name string, data []byte, opts Options) ([]got, Info, error) {
	t.Helper()
	return parseBy(&Parser{Now: testNow, Options: opts}, name, data)
}

// parseBy parses data as object name with p and collects every record.
func parseBy(p *Parser, name string, data []byte) ([]got, Info, error) {
	var out []got
	info, err := p.Parse(bytes.NewReader(data), name, func(r *Record) error {
		out = append(out, gotOf(r))
		return nil
	})
	return out, info, err
}

// gotOf is what a test keeps of a record: its point, or its refusal.
func gotOf(r *Record) got {
	g := got{index: r.Index}
	switch {
	case r.Err != nil:
		g.category, g.reason = r.Err.Category, r.Err.Reason
	case r.Bar != nil:
		b := *r.Bar
		g.bar = &b
	default:
		g.point = r.Point
	}
	g.unit = r.TimestampUnit
	return g
}

// want is an expected record: a point, a bar (of a bar profile: bar is
// set), or a refusal whose category is category and whose reason contains
// every one of reason.
type want struct {
	index    int64
	point    marketdata.Point
	bar      marketdata.Bar
	category string
	reason   []string
}

// acceptedUnits counts the timestamp units of the records recs accepted.
func acceptedUnits(recs []got) map[string]int {
	units := map[string]int{}
	for _, g := range recs {
		if g.category == "" {
			units[g.unit]++
		}
	}
	return units
}

func checkRecords(t *testing.T, recs []got, wants []want) {
	t.Helper()
	if len(recs) != len(wants) {
		t.Fatalf("%d records, want %d: %+v", len(recs), len(wants), recs)
	}
	for i, w := range wants {
		g := recs[i]
		if g.index != w.index {
			t.Errorf("record %d: index %d, want %d", i, g.index, w.index)
		}
		if w.category == "" {
			isBar := w.bar != marketdata.Bar{}
			if g.category != "" || g.point != w.point || (g.bar != nil) != isBar || isBar && *g.bar != w.bar {
				if isBar {
					t.Errorf("record %d: got %+v %q, want bar %+v", i, g.bar, g.reason, w.bar)
				} else {
					t.Errorf("record %d: got %+v %q, want point %+v", i, g.point, g.reason, w.point)
				}
			}
			continue
		}
		if g.category != w.category || g.bar != nil {
			t.Errorf("record %d: category %q (%s), want %q", i, g.category, g.reason, w.category)
		}
		for _, r := range w.reason {
			if !strings.Contains(g.reason, r) {
				t.Errorf("record %d: reason %q does not contain %q", i, g.reason, r)
			}
		}
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/profiles/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProfiles parses each vendor fixture, detected from its header, first
// record or name, and checks every record: the fields mapped, the units
// converted, and each refusal naming the profile and the vendor's column.
func TestProfiles(t *testing.T) {
	vol, ts := marketdata.ErrVolume.Error(), marketdata.ErrTimestamp.Error()
	aapl := func(ms int64, price float64, v uint64, x string) marketdata.Point {
		return exch(pt("AAPL", ms, price, v), x)
	}
	cases := []struct {
		fixture, name string
		opts          Options
		profile       string
		units         map[string]int
		want          []want
	}{
		{"polygon-trades.csv", "", Options{}, marketdata.ProfilePolygonTrades, map[string]int{"ns": 4}, []want{
			{index: 2, point: cond(ns(aapl(t0+1, 191.29, 100, "4"), 456789), "12,37")}, // sip_timestamp, not participant_timestamp
			{index: 3, point: ns(aapl(t0+105, 191.3, 25, "11"), 222333)},
			{index: 4, point: cond(ns(exch(pt("MSFT", t0+1000, 415.125, 300), "12"), 999999), "14")},
			{index: 5, point: exch(frac("AAPL", t0+2000, 191.31, "0.5"), "4")}, // a fractional share
			{index: 6, category: ts, reason: []string{"polygon-trades sip_timestamp:", "reads as ms", "ns (18-19 digits)"}},
		}},
		{"databento-trades.csv", "", Options{}, marketdata.ProfileDatabentoTrades, map[string]int{"ns": 3}, []want{
			{index: 2, point: ns(aapl(t0+1, 191.29, 100, "2"), 456789)}, // price in units of 1e-9
			{index: 3, point: ns(aapl(t0+105, 191.3, 25, "2"), 222333)},
			{index: 4, point: ns(exch(pt("MSFT", t0+1000, 415.125, 300), "39"), 999999)},
			{index: 5, category: marketdata.ErrPrice.Error(), reason: []string{"databento-trades price:"}},
		}},
		{"databento-trades-pretty.csv", "", Options{}, marketdata.ProfileDatabentoTrades, map[string]int{UnitRFC3339: 3}, []want{
			{index: 2, point: ns(aapl(t0+1, 191.29, 100, "2"), 456789)},
			{index: 3, point: ns(aapl(t0+105, 191.3, 25, "2"), 222333)},
			{index: 4, point: ns(exch(pt("MSFT", t0+1000, 415.125, 300), "39"), 999999)},
			{index: 5, category: ts, reason: []string{"databento-trades ts_event:", `"not-a-time"`}},
		}},
		{"alpaca-trades.ndjson", "", Options{}, marketdata.ProfileAlpacaTrades, map[string]int{UnitRFC3339: 3}, []want{
			{index: 1, point: cond(ns(aapl(t0+1, 191.29, 100, "V"), 456789), "0,12")},
			{index: 2, point: cond(ns(aapl(t0+105, 191.3, 25, "K"), 222333), "0,37")}, // -04:00 offset
			{index: 3, point: ns(exch(pt("MSFT", t0+1000, 415.125, 300), "N"), 999999)},
			{index: 4, category: ts, reason: []string{"alpaca-trades t:", "RFC 3339"}},
		}},
		{"alpaca-trades-historical.json", "", Options{}, marketdata.ProfileAlpacaTrades, map[string]int{UnitRFC3339: 4}, []want{
			{index: 0, point: cond(ns(aapl(t0+1, 191.29, 100, "V"), 456789), "0,12")},
			{index: 1, point: cond(ns(aapl(t0+105, 191.3, 25, "K"), 222333), "0,37")},
			{index: 2, point: ns(exch(pt("MSFT", t0+1000, 415.125, 300), "N"), 999999)}, // indexes run on across symbols
			{index: 3, point: exch(frac("MSFT", t0+1500, 415.13, "0.5"), "N")},
			{index: 4, category: vol, reason: []string{"alpaca-trades s:", `"-1"`, "negative"}},
		}},
		{"tardis-trades.csv", "", Options{}, marketdata.ProfileTardisTrades, map[string]int{"us": 3}, []want{
			{index: 2, point: ns(exch(pt("BTCUSDT", t0+1, 67512.3, 2), "binance"), 456000)},
			{index: 3, point: ns(exch(frac("BTCUSDT", t0+105, 67512.31, "0.015"), "binance"), 222000)},
			{index: 4, point: ns(exch(pt("BTC-USD", t0+1000, 67510.01, 3), "coinbase"), 999000)},
			{index: 5, category: ts, reason: []string{"tardis-trades timestamp:", "reads as s", "us (15-16 digits)"}},
		}},
		{"BTCUSDT-trades-2024-05-31.csv", "", Options{}, marketdata.ProfileBinanceTrades, map[string]int{"ms": 3}, []want{
			{index: 1, point: pt("BTCUSDT", t0+1, 67512.3, 2)},             // the first line is data
			{index: 2, point: frac("BTCUSDT", t0+105, 67512.31, "0.0015")}, // 0.00150000 kept exactly
			{index: 3, point: pt("BTCUSDT", t0+1000, 67512.32, 4)},
			{index: 4, category: vol, reason: []string{"binance-trades qty:", `"-1.00000000"`, "negative"}},
		}},
		{"BTCUSDT-aggTrades-2024-05-31.csv", "", Options{}, marketdata.ProfileBinanceAggTrades, map[string]int{"us": 3}, []want{
			{index: 1, point: ns(pt("BTCUSDT", t0+1, 67512.3, 3), 456000)},
			{index: 2, point: ns(pt("BTCUSDT", t0+105, 67512.4, 1), 222000)},
			{index: 3, point: ns(frac("BTCUSDT", t0+1000, 67512.5, "0.25"), 999000)},
			{index: 4, category: ts, reason: []string{"binance-aggtrades transact_time:", "fits no unit"}},
		}},
		// The symbol given with the object (metadata) when the name has none.
		{"BTCUSDT-aggTrades-2024-05-31.csv", "upload.csv", Options{Symbol: "ETHUSDT"}, marketdata.ProfileBinanceAggTrades, map[string]int{"us": 3}, []want{
			{index: 1, point: ns(pt("ETHUSDT", t0+1, 67512.3, 3), 456000)},
			{index: 2, point: ns(pt("ETHUSDT", t0+105, 67512.4, 1), 222000)},
			{index: 3, point: ns(frac("ETHUSDT", t0+1000, 67512.5, "0.25"), 999000)},
			{index: 4, category: ts},
		}},
		// Forced: a single-symbol Alpaca response's symbol comes with the object.
		{"alpaca-trades.ndjson", "", Options{Profile: marketdata.ProfileAlpacaTrades}, marketdata.ProfileAlpacaTrades, map[string]int{UnitRFC3339: 3}, []want{
			{index: 1}, {index: 2}, {index: 3}, {index: 4, category: ts},
		}},
	}
	for _, tc := range cases {
		name := tc.name
		if name == "" {
			name = "incoming/" + tc.fixture
		}
		t.Run(tc.fixture+"/"+name, func(t *testing.T) {
			recs, info, err := parseWith(t, name, readFixture(t, tc.fixture), tc.opts)
			units := acceptedUnits(recs)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if info.Profile != tc.profile {
				t.Fatalf("profile %q, want %q", info.Profile, tc.profile)
			}
			if tc.want[0].point == (marketdata.Point{}) && tc.want[0].category == "" {
				// Only the outcome of each record is checked.
				for i := range tc.want {
					if tc.want[i].category == "" {
						tc.want[i].point = recs[i].point
					}
				}
				if recs[0].point.Symbol != "AAPL" {
					t.Fatalf("first point %+v", recs[0].point)
				}
			}
			checkRecords(t, recs, tc.want)
			for u, n := range tc.units {
				if units[u] != n {
					t.Errorf("%d points read in %s, want %d (all: %v)", units[u], u, n, units)
				}
			}
		})
	}
}

// TestDatabentoScaledPriceExact: a fixed-point price converts to exactly the
// float64 of its decimal text, so 179.66 is stored as 179.66.
func TestDatabentoScaledPriceExact(t *testing.T) {
	p := &Parser{prof: profileNamed(marketdata.ProfileDatabentoTrades)}
	for _, c := range []struct{ raw, dec string }{
		{"179660000000", "179.66"}, {"1", "0.000000001"}, {"999999999", "0.999999999"},
		{"123456789012345678", "123456789.012345678"}, {"1000000000", "1"},
	} {
		want, _ := parseDecimal([]byte(c.dec))
		got, why := parseDecimal(p.unscale([]byte(c.raw)))
		if why != "" || got != want {
			t.Errorf("%s: %v (%s), want %v", c.raw, got, why, want)
		}
	}
}

// TestDatabentoUndefinedPrice: INT64_MAX, Databento's "no price", is
// refused, never scaled into a price of 9223372036.85.
func TestDatabentoUndefinedPrice(t *testing.T) {
	data := "ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,flags,ts_in_delta,sequence,symbol\n" +
		"1717162200002000000,1717162200001456789,0,2,38,T,A,0,9223372036854775807,100,130,18000,1170352,AAPL\n"
	recs, info, err := parseWith(t, "d.csv", []byte(data), Options{})
	if err != nil || info.Profile != marketdata.ProfileDatabentoTrades {
		t.Fatalf("%v %q", err, info.Profile)
	}
	checkRecords(t, recs, []want{{index: 2, category: marketdata.ErrPrice.Error(), reason: []string{"databento-trades price:", "undefined price"}}})
}

// TestProfileObjectErrors: a file no profile fits is refused whole, naming
// the columns it saw and the profiles tried; options that cannot apply are
// refused whole too.
func TestProfileObjectErrors(t *testing.T) {
	polygon := readFixture(t, "polygon-trades.csv")
	binance := readFixture(t, "BTCUSDT-trades-2024-05-31.csv")
	cases := []struct {
		name, object string
		data         []byte
		opts         Options
		category     string
		reason       []string
	}{
		{"unknown header", "a.csv", []byte("when,what,howmuch\n1,2,3\n"), Options{}, ObjectBadHeader,
			[]string{`"when", "what", "howmuch"`, "polygon-trades (columns ticker, sip_timestamp)", "databento-trades", "tardis-trades", "binance-trades (no header, 7 columns)", "binance-aggtrades"}},
		{"data of no profile", "a.csv", []byte("1,2,3\n"), Options{}, ObjectNoHeader, []string{"no header row", "binance-aggtrades (no header, 8 columns)"}},
		{"vendor header missing a column", "a.csv", []byte("ticker,sip_timestamp,price\nAAPL,1717162200001456789,1\n"), Options{}, ObjectBadHeader,
			[]string{"polygon-trades", "missing column(s) size"}},
		{"unknown JSON members", "a.ndjson", []byte(`{"sym":"A","ts":1}` + "\n"), Options{}, ObjectUnrecognised,
			[]string{`"sym", "ts"`, "native", "alpaca-trades (members t, p, s)"}},
		{"unknown forced profile", "a.csv", polygon, Options{Profile: "bloomberg"}, ObjectBadProfile, []string{`unknown format "bloomberg"`, "polygon-trades"}},
		{"forced profile of the wrong kind", "a.csv", polygon, Options{Profile: marketdata.ProfileAlpacaTrades}, ObjectBadProfile, []string{"alpaca-trades is JSON", "object is CSV"}},
		{"forced profile that does not fit", "a.csv", polygon, Options{Profile: marketdata.ProfileTardisTrades}, ObjectBadHeader, []string{"tardis-trades", "missing column(s) symbol, timestamp, amount"}},
		{"binance without a symbol", "trades.csv", binance, Options{}, ObjectBadProfile, []string{"binance-trades rows hold no symbol", "x-amz-meta-symbol"}},
		{"unit with a vendor profile", "a.csv", polygon, Options{Profile: marketdata.ProfilePolygonTrades, TimestampUnit: "ms"}, ObjectBadProfile, []string{"native format only"}},
		{"unknown unit", "a.csv", polygon, Options{TimestampUnit: "min"}, ObjectBadProfile, []string{`unknown timestamp unit "min"`}},
		{"alpaca single-symbol without a symbol", "a.json", []byte(`{"trades":[{"t":"2024-05-31T13:30:00Z","p":1,"s":1}],"symbol":"AAPL"}`), Options{}, ObjectBadProfile,
			[]string{`{"trades": [...]} names no symbol`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseWith(t, tc.object, tc.data, tc.opts)
			var oe *ObjectError
			if !errors.As(err, &oe) {
				t.Fatalf("error %v, want *ObjectError", err)
			}
			if oe.Category != tc.category {
				t.Errorf("category %q (%s), want %q", oe.Category, oe.Reason, tc.category)
			}
			for _, r := range tc.reason {
				if !strings.Contains(oe.Reason, r) {
					t.Errorf("reason %q does not contain %q", oe.Reason, r)
				}
			}
		})
	}
}

// TestProfileForcedAndExplicitUnit: a forced profile reads a file its
// detection would also find, and the native profile's explicit unit reads
// integers in that unit only (an integer of another magnitude is refused,
// never reinterpreted).
func TestProfileForcedAndExplicitUnit(t *testing.T) {
	recs, info, err := parseWith(t, "x.csv", readFixture(t, "polygon-trades.csv"), Options{Profile: marketdata.ProfilePolygonTrades})
	if err != nil || info.Profile != marketdata.ProfilePolygonTrades || len(recs) != 5 || recs[0].category != "" {
		t.Fatalf("forced polygon: %v %q %+v", err, info.Profile, recs)
	}
	data := []byte("symbol,timestamp,price,volume\nA,1717162200001456,1,1\nA,1717162200001,1,1\nA,2024-05-31T13:30:00Z,1,1\n")
	recs, info, err = parseWith(t, "x.csv", data, Options{TimestampUnit: "us"})
	if err != nil || info.Profile != marketdata.ProfileNative {
		t.Fatalf("%v %q", err, info.Profile)
	}
	checkRecords(t, recs, []want{
		{index: 2, point: ns(pt("A", t0+1, 1, 1), 456000)},
		{index: 3, category: marketdata.ErrTimestamp.Error(), reason: []string{"reads as ms", "us (15-16 digits)"}},
		{index: 4, point: pt("A", t0, 1, 1)},
	})
	// A native JSON body keeps the native profile's strictness.
	recs, info, err = parseWith(t, "x.ndjson", []byte(`{"symbol":"A","timestamp":1717162200000,"price":1,"volume":1,"x":1}`+"\n"), Options{})
	if err != nil || info.Profile != marketdata.ProfileNative || len(recs) != 1 || recs[0].category != CategoryUnknown {
		t.Fatalf("%v %q %+v", err, info.Profile, recs)
	}
}

// TestProfilesListed ties the parser's profiles to the shared list, which
// the README, the metadata and the API's parameter name.
func TestProfilesListed(t *testing.T) {
	var names []string
	for _, p := range profiles {
		names = append(names, p.name)
	}
	if !slices.Equal(names, marketdata.Profiles) {
		t.Fatalf("parser profiles %q, marketdata.Profiles %q", names, marketdata.Profiles)
	}
}

// TestVolumeAcrossProfiles: every profile reads a fractional size exactly
// (its canonical text: trailing zeros dropped, nothing rounded), except
// Databento's, an integer count by its schema; negatives, more than 18
// fraction digits and non-numbers are refused with the profile and the
// vendor's field named.
func TestVolumeAcrossProfiles(t *testing.T) {
	// Each layout's last record has the size SIZE (a headerless Binance
	// file is recognised by a first line of data, so a valid one leads).
	layouts := []struct {
		profile, name, field, data string
	}{
		{marketdata.ProfileNative, "a.csv", "", "symbol,timestamp,price,volume\nBTCUSDT,1717162200001,67512.3,SIZE\n"},
		{marketdata.ProfileNative, "a.ndjson", "", `{"symbol":"BTCUSDT","timestamp":1717162200001,"price":67512.3,"volume":SIZE}` + "\n"},
		{marketdata.ProfilePolygonTrades, "a.csv", "size", "ticker,sip_timestamp,price,size\nBTCUSDT,1717162200001000000,67512.3,SIZE\n"},
		{marketdata.ProfileAlpacaTrades, "a.ndjson", "s", `{"S":"BTCUSDT","t":"2024-05-31T13:30:00.001Z","p":67512.3,"s":SIZE}` + "\n"},
		{marketdata.ProfileTardisTrades, "a.csv", "amount", "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\nbinance,BTCUSDT,1717162200001000,1717162200002000,1,buy,67512.3,SIZE\n"},
		{marketdata.ProfileBinanceTrades, "BTCUSDT-trades-2024-05-31.csv", "qty", "0,67512.3,1,1,1717162200000,True,True\n1,67512.3,SIZE,1,1717162200001,True,True\n"},
		{marketdata.ProfileBinanceAggTrades, "BTCUSDT-aggTrades-2024-05-31.csv", "quantity", "0,67512.3,1,1,1,1717162200000,true,true\n1,67512.3,SIZE,1,1,1717162200001,true,true\n"},
		{marketdata.ProfileDatabentoTrades, "a.csv", "size", "ts_recv,ts_event,price,size,symbol\n1717162200002000000,1717162200001000000,67512.3,SIZE,BTCUSDT\n"},
	}
	sizes := []struct {
		in      string
		want    marketdata.Decimal // "" for a refusal
		why     string
		integer bool // an integer count (Databento accepts it)
	}{
		{"3", "3", "", true},
		{"2.00000000", "2", "", true},
		{"0.00150000", "0.0015", "", false},
		{"0.000000000000000001", "0.000000000000000001", "", false},
		{"123456789.123456789", "123456789.123456789", "", false},
		{"-0.5", "", "negative", false},
		{"0.0000000000000000001", "", "more than 18 fraction digits", false},
		{"1.2.3", "", "not a decimal number", false},
	}
	for _, l := range layouts {
		for _, sz := range sizes {
			if strings.HasSuffix(l.name, ".ndjson") && sz.in == "1.2.3" {
				continue // not JSON at all: a malformed record, tested elsewhere
			}
			t.Run(l.profile+"/"+l.name+"/"+sz.in, func(t *testing.T) {
				recs, info, err := parseAll(t, l.name, []byte(strings.Replace(l.data, "SIZE", sz.in, 1)))
				if err != nil || len(recs) == 0 || info.Profile != l.profile {
					t.Fatalf("Parse: %d records (%+v), profile %q, %v", len(recs), recs, info.Profile, err)
				}
				r := recs[len(recs)-1]
				want, why := sz.want, sz.why
				if l.profile == marketdata.ProfileDatabentoTrades && want != "" && !sz.integer {
					want, why = "", "a fractional size; this format's size is an integer count"
				}
				if want != "" {
					if r.category != "" || r.point.Volume != want {
						t.Fatalf("volume %q (%s %s), want %q", r.point.Volume, r.category, r.reason, want)
					}
					return
				}
				prefix := "invalid volume"
				if l.field != "" {
					prefix = l.profile + " " + l.field + ": invalid volume"
				}
				if r.category != marketdata.ErrVolume.Error() || !strings.HasPrefix(r.reason, prefix) || !strings.Contains(r.reason, why) {
					t.Fatalf("got %q %q, want a reason starting %q and saying %q", r.category, r.reason, prefix, why)
				}
			})
		}
	}
}
