//go:build e2e

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// vendorFixture reads one of the ingestion's vendor fixtures (written from
// the vendors' public documentation), its symbols renamed to this test's.
func vendorFixture(t *testing.T, name string, rename ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "services", "ingestion", "internal", "parse", "testdata", "profiles", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(rename...).Replace(string(b)))
}

// Vendor files of every trade profile go through the whole local pipeline:
// Polygon flat files, Databento CSV (ns and ISO), tardis.dev CSV and an
// Alpaca file with sale conditions detected from their header or members,
// a Binance trades file from its name, and a Binance aggTrades file forced
// by its incoming/<profile>/ key with the symbol from its name. The reports name
// the profile and count the refused records; the stored points and the
// windows equal those computed here from the vendor's documented units
// (Polygon sip_timestamp in ns, Binance time in µs, truncated to the ms),
// the sale conditions applied from the condition table by that computation
// itself (smoke.ExpectedWindows).
func TestVendorProfilesEndToEnd(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	const t0 = int64(1717162200000) // 2024-05-31T13:30:00Z, the fixtures' first trade
	cases := []struct {
		key      string
		body     []byte
		profile  string
		rejected int64
		want     map[string][]marketdata.Point
	}{
		{"e2e/profiles/polygon-2024-05-31.csv",
			vendorFixture(t, "polygon-trades.csv", "AAPL,", "E2EPOLYA,", "MSFT,", "E2EPOLYM,"),
			marketdata.ProfilePolygonTrades, 1, map[string][]marketdata.Point{
				// Form T odd lot (12,37): in the volume, not the prices.
				"E2EPOLYA": {{Symbol: "E2EPOLYA", Timestamp: t0 + 1, Price: 191.29, Volume: "100", Exchange: "4", Conditions: "12,37"},
					{Symbol: "E2EPOLYA", Timestamp: t0 + 105, Price: 191.3, Volume: "25", Exchange: "11"},
					{Symbol: "E2EPOLYA", Timestamp: t0 + 2000, Price: 191.31, Volume: "0.5", Exchange: "4"}}, // a fractional share
				"E2EPOLYM": {{Symbol: "E2EPOLYM", Timestamp: t0 + 1000, Price: 415.125, Volume: "300", Exchange: "12", Conditions: "14"}},
			}},
		// Sale conditions and corrections: an unknown condition (41) and
		// the cancelled (8), superseded (12) and unknown (5) correction
		// indicators refused; the three trades kept are all excluded from
		// the price fields, so their window has none, and counts them.
		{"e2e/profiles/polygon-conditions-2024-05-31.csv",
			vendorFixture(t, "polygon-trades-conditions.csv", "AAPL,", "E2EPOLYC,"),
			marketdata.ProfilePolygonTrades, 4, map[string][]marketdata.Point{
				"E2EPOLYC": {{Symbol: "E2EPOLYC", Timestamp: t0 + 1, Price: 191.29, Volume: "10", Exchange: "4", Conditions: "12,37"},
					{Symbol: "E2EPOLYC", Timestamp: t0 + 200, Price: 191.28, Volume: "40", Exchange: "4", Conditions: "37"},
					{Symbol: "E2EPOLYC", Timestamp: t0 + 600, Price: 190.9, Volume: "500", Exchange: "4", Conditions: "2"}},
			}},
		// Alpaca's SIP codes read with the tape: CTA's B is an average-price
		// trade, UTP's a bunched trade.
		{"e2e/profiles/alpaca-conditions.ndjson",
			vendorFixture(t, "alpaca-trades-conditions.ndjson", `"S":"AAPL"`, `"S":"E2EALPA"`, `"S":"IBM"`, `"S":"E2EALPI"`),
			marketdata.ProfileAlpacaTrades, 3, map[string][]marketdata.Point{
				"E2EALPI": {{Symbol: "E2EALPI", Timestamp: t0 + 1, Price: 170.5, Volume: "100", Exchange: "N", Conditions: "2"},
					{Symbol: "E2EALPI", Timestamp: t0 + 3, Price: 170.6, Volume: "5", Exchange: "N", Conditions: "3,37"}},
				"E2EALPA": {{Symbol: "E2EALPA", Timestamp: t0 + 2, Price: 191.29, Volume: "100", Exchange: "V", Conditions: "4"},
					{Symbol: "E2EALPA", Timestamp: t0 + 7, Price: 191.3, Volume: "5", Exchange: "V"},
					{Symbol: "E2EALPA", Timestamp: t0 + 8, Price: 191.3, Volume: "5", Exchange: "V", Conditions: "0,37"}},
			}},
		// Databento's CSV both ways: integer ns times and prices in units
		// of 1e-9, and the "pretty" ISO times and decimal prices; the
		// publisher_id is the exchange. Each has one bad row.
		{"e2e/profiles/databento-2024-05-31.csv",
			vendorFixture(t, "databento-trades.csv", ",AAPL\n", ",E2EDBNA\n", ",MSFT\n", ",E2EDBNM\n"),
			marketdata.ProfileDatabentoTrades, 1, map[string][]marketdata.Point{
				"E2EDBNA": {{Symbol: "E2EDBNA", Timestamp: t0 + 1, Price: 191.29, Volume: "100", Exchange: "2"},
					{Symbol: "E2EDBNA", Timestamp: t0 + 105, Price: 191.3, Volume: "25", Exchange: "2"}},
				"E2EDBNM": {{Symbol: "E2EDBNM", Timestamp: t0 + 1000, Price: 415.125, Volume: "300", Exchange: "39"}},
			}},
		{"e2e/profiles/databento-pretty-2024-05-31.csv",
			vendorFixture(t, "databento-trades-pretty.csv", ",AAPL\n", ",E2EDBPA\n", ",MSFT\n", ",E2EDBPM\n"),
			marketdata.ProfileDatabentoTrades, 1, map[string][]marketdata.Point{
				"E2EDBPA": {{Symbol: "E2EDBPA", Timestamp: t0 + 1, Price: 191.29, Volume: "100", Exchange: "2"},
					{Symbol: "E2EDBPA", Timestamp: t0 + 105, Price: 191.3, Volume: "25", Exchange: "2"}},
				"E2EDBPM": {{Symbol: "E2EDBPM", Timestamp: t0 + 1000, Price: 415.125, Volume: "300", Exchange: "39"}},
			}},
		// tardis.dev: µs times, fractional amounts, the exchange by name;
		// a time in seconds is refused, not read by magnitude.
		{"e2e/profiles/tardis-2024-05-31.csv",
			vendorFixture(t, "tardis-trades.csv", ",BTCUSDT,", ",E2ETRDB,", ",BTC-USD,", ",E2ETRDC,"),
			marketdata.ProfileTardisTrades, 1, map[string][]marketdata.Point{
				"E2ETRDB": {{Symbol: "E2ETRDB", Timestamp: t0 + 1, Price: 67512.3, Volume: "2", Exchange: "binance"},
					{Symbol: "E2ETRDB", Timestamp: t0 + 105, Price: 67512.31, Volume: "0.015", Exchange: "binance"}},
				"E2ETRDC": {{Symbol: "E2ETRDC", Timestamp: t0 + 1000, Price: 67510.01, Volume: "3", Exchange: "coinbase"}},
			}},
		// Binance spot trades: no header, detected from the name, which
		// gives the symbol; ms times, qty kept exactly (0.00150000 is
		// 0.0015); a negative qty refused.
		{"e2e/profiles/E2EBINT-trades-2024-05-31.csv",
			vendorFixture(t, "BTCUSDT-trades-2024-05-31.csv"),
			marketdata.ProfileBinanceTrades, 1, map[string][]marketdata.Point{
				"E2EBINT": {{Symbol: "E2EBINT", Timestamp: t0 + 1, Price: 67512.3, Volume: "2"},
					{Symbol: "E2EBINT", Timestamp: t0 + 105, Price: 67512.31, Volume: "0.0015"},
					{Symbol: "E2EBINT", Timestamp: t0 + 1000, Price: 67512.32, Volume: "4"}},
			}},
		{"incoming/" + marketdata.ProfileBinanceAggTrades + "/E2EBINA-aggTrades-2024-05-31.csv",
			vendorFixture(t, "BTCUSDT-aggTrades-2024-05-31.csv"),
			marketdata.ProfileBinanceAggTrades, 1, map[string][]marketdata.Point{
				"E2EBINA": {{Symbol: "E2EBINA", Timestamp: t0 + 1, Price: 67512.3, Volume: "3"},
					{Symbol: "E2EBINA", Timestamp: t0 + 105, Price: 67512.4, Volume: "1"},
					{Symbol: "E2EBINA", Timestamp: t0 + 1000, Price: 67512.5, Volume: "0.25"}},
			}},
		// The same file as data.binance.vision ships it, alone in a .zip:
		// detected from the CSV inside, its symbol from that file's name.
		{"e2e/profiles/E2EBINZ-aggTrades-2024-05-31.zip",
			zipped(t, "E2EBINZ-aggTrades-2024-05-31.csv", vendorFixture(t, "BTCUSDT-aggTrades-2024-05-31.csv")),
			marketdata.ProfileBinanceAggTrades, 1, map[string][]marketdata.Point{
				"E2EBINZ": {{Symbol: "E2EBINZ", Timestamp: t0 + 1, Price: 67512.3, Volume: "3"},
					{Symbol: "E2EBINZ", Timestamp: t0 + 105, Price: 67512.4, Volume: "1"},
					{Symbol: "E2EBINZ", Timestamp: t0 + 1000, Price: 67512.5, Volume: "0.25"}},
			}},
	}
	reps := uploadAll(ctx, t, p, len(cases), func(i int) (string, []byte) { return cases[i].key, cases[i].body })
	for i, tc := range cases {
		rep := reps[i]
		accepted := int64(0)
		for _, pts := range tc.want {
			accepted += int64(len(pts))
		}
		if rep.Status != marketdata.ReportCompleted || rep.Profile != tc.profile || rep.Accepted != accepted || rep.Rejected != tc.rejected {
			t.Fatalf("%s: report %s profile %q accepted %d rejected %d (%s); want %q %d %d",
				tc.key, rep.Status, rep.Profile, rep.Accepted, rep.Rejected, rep.Error, tc.profile, accepted, tc.rejected)
		}
		for _, rj := range rep.Rejections {
			if !strings.HasPrefix(rj.Reason, tc.profile+" ") {
				t.Fatalf("%s: rejection %+v does not name the profile", tc.key, rj)
			}
		}
		if zip := strings.HasSuffix(tc.key, ".zip"); zip != (rep.ArchivedFile != "") || zip && !rep.Compressed {
			t.Fatalf("%s: archived file %q, compressed %v", tc.key, rep.ArchivedFile, rep.Compressed)
		}
		for symbol, pts := range tc.want {
			checkStored(ctx, t, p, symbol, pts)
		}
	}
}

// zipped is data alone in a zip archive under name, as data.binance.vision
// ships its files.
func zipped(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Trades of one millisecond keep their nanosecond order through the whole
// pipeline: a Polygon file holds eight trades of one millisecond, its lines
// shuffled against their sip_timestamp; the stored points come back (in
// range-key order) sorted by nanosecond, and the window's open and close
// are the first and last trade by nanosecond. The range keys' hashes (they
// include the object version, new on every run) order them at random, so
// ordering by hash would pass by chance with probability 1/56 at most.
func TestSubMillisecondOrderEndToEnd(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	const (
		symbol = "E2ENSORD"
		ms     = int64(1717162200007) // 2024-05-31T13:30:00.007Z
		header = "ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,size,tape,trf_id,trf_timestamp\n"
	)
	var want []marketdata.Point // by nanosecond
	for i := range 8 {
		want = append(want, marketdata.Point{Symbol: symbol, Timestamp: ms, SubMilliNanos: int32(i*124_999 + 3),
			Price: 191 + float64(i*7%8)/100, Volume: marketdata.Units(uint64(10 * (i + 1))), Exchange: "4"})
	}
	body := []byte(header)
	for _, i := range []int{5, 0, 7, 2, 6, 1, 4, 3} { // the file's order
		w := want[i]
		sip := w.Timestamp*1_000_000 + int64(w.SubMilliNanos)
		body = fmt.Appendf(body, "%s,,0,%s,%d,%d,%v,%d,%d,%s,3,,\n", symbol, w.Exchange, 1000+i, sip, w.Price, 2000+i, sip, w.Volume)
	}
	key := "e2e/profiles/polygon-ns-order.csv"
	if _, err := upload(ctx, p, key, body); err != nil {
		t.Fatal(err)
	}
	rep, err := waitReport(ctx, p, key, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != marketdata.ReportCompleted || rep.Profile != marketdata.ProfilePolygonTrades || rep.Accepted != 8 {
		t.Fatalf("report %s profile %q accepted %d (%s)", rep.Status, rep.Profile, rep.Accepted, rep.Error)
	}
	// smoke.ExpectedWindows orders by time to the nanosecond: open is
	// want[0]'s price, close want[7]'s.
	if err := waitAggregated(ctx, p, symbol, expectedAggregates(want), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := table(p).Points(ctx, symbol, ms, ms+1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d points stored, want %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		w.SubMilliNanos = 0 // the range key holds it, not an attribute
		if g != w {
			t.Fatalf("stored point %d (range-key order) is %+v, want %+v: not in nanosecond order", i, g, w)
		}
	}
}
