package parse

import (
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestConditionProfiles: each profile with sale conditions carries them
// into the point in the normal form (Polygon ids); an unknown code, a
// cancelled or erroneous trade (Polygon's correction) or conditions that
// cannot be read refuse the record, naming the profile, the column and the
// code. Fixtures are written from the vendors' documentation (Polygon
// flat-file trades; Alpaca market data v2 trades, with "z" the tape).
func TestConditionProfiles(t *testing.T) {
	cat := marketdata.ErrCondition.Error()
	aapl := func(ms int64, price float64, v uint64, x, c string) marketdata.Point {
		return cond(exch(pt("AAPL", ms, price, v), x), c)
	}
	cases := []struct {
		fixture string
		profile string
		want    []want
	}{
		{"polygon-trades-conditions.csv", marketdata.ProfilePolygonTrades, []want{
			{index: 2, point: ns(aapl(t0+1, 191.29, 10, "4", "12,37"), 456789)}, // sip_timestamp's ns kept
			{index: 3, category: cat, reason: []string{"polygon-trades conditions:", `"14,39"`, `unknown Polygon condition id "39"`}},
			{index: 4, point: aapl(t0+200, 191.28, 40, "4", "37")}, // 1: the corrected data counts
			{index: 5, category: CategoryCorrection, reason: []string{"polygon-trades correction:", `"8"`, "counts nowhere"}},
			{index: 6, category: CategoryCorrection, reason: []string{"polygon-trades correction:", `"12"`, "counts nowhere"}},
			{index: 7, category: CategoryCorrection, reason: []string{"polygon-trades correction:", `unknown correction indicator "5"`}},
			{index: 8, point: aapl(t0+600, 190.9, 500, "4", "2")},
		}},
		{"alpaca-trades-conditions.ndjson", marketdata.ProfileAlpacaTrades, []want{
			{index: 1, point: cond(exch(pt("IBM", t0+1, 170.5, 100), "N"), "2")},  // CTA's B: average price
			{index: 2, point: aapl(t0+2, 191.29, 100, "V", "4")},                  // UTP's B: bunched trade
			{index: 3, point: cond(exch(pt("IBM", t0+3, 170.6, 5), "N"), "3,37")}, // CTA's E: automatic execution
			{index: 4, category: cat, reason: []string{"alpaca-trades c:", `unknown SIP condition code "E" on tape C`}},
			{index: 5, category: cat, reason: []string{"alpaca-trades c:", `tape ""`}},
			{index: 6, category: cat, reason: []string{"alpaca-trades c:", "want an array of SIP condition codes"}},
			{index: 7, point: aapl(t0+7, 191.3, 5, "V", "")},
			{index: 8, point: aapl(t0+8, 191.3, 5, "V", "0,37")}, // escapes, members in any order
		}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			for _, slow := range []bool{false, true} {
				recs, info, err := parseBy(&Parser{Now: testNow, noFast: slow}, "incoming/"+tc.fixture, readFixture(t, tc.fixture))
				if err != nil || info.Profile != tc.profile {
					t.Fatalf("Parse: profile %q, %v", info.Profile, err)
				}
				checkRecords(t, recs, tc.want)
			}
		})
	}
}

// TestNativeConditions: the native format's optional conditions column or
// member holds Polygon ids, read into the normal form.
func TestNativeConditions(t *testing.T) {
	cat := marketdata.ErrCondition.Error()
	csv := "symbol,timestamp,price,volume,conditions\n" +
		"AAPL,1717243200000,10,5,\"14, 37\"\n" +
		"AAPL,1717243200001,10,5,\n" +
		"AAPL,1717243200002,10,5,6\n"
	ndjson := `{"symbol":"AAPL","timestamp":1717243200000,"price":10,"volume":5,"conditions":"14,37"}
{"symbol":"AAPL","timestamp":1717243200001,"price":10,"volume":5,"conditions":null}
{"symbol":"AAPL","timestamp":1717243200002,"price":10,"volume":5,"conditions":6}
`
	for _, tc := range []struct {
		name, data string
		want       []want
	}{
		{"points.csv", csv, []want{
			{index: 2, point: cond(pt("AAPL", ms, 10, 5), "14,37")},
			{index: 3, point: pt("AAPL", ms+1, 10, 5)},
			{index: 4, category: cat, reason: []string{`invalid conditions "6"`, `unknown Polygon condition id "6"`}},
		}},
		{"points.ndjson", ndjson, []want{
			{index: 1, point: cond(pt("AAPL", ms, 10, 5), "14,37")},
			{index: 2, point: pt("AAPL", ms+1, 10, 5)},
			{index: 3, category: cat, reason: []string{"conditions", "want a string"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, info, err := parseWith(t, tc.name, []byte(tc.data), Options{})
			if err != nil || info.Profile != marketdata.ProfileNative {
				t.Fatalf("Parse: profile %q, %v", info.Profile, err)
			}
			checkRecords(t, recs, tc.want)
		})
	}
}
