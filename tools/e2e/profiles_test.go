//go:build e2e

package e2e

import (
	"context"
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

// Vendor files go through the whole local pipeline: a Polygon flat file
// detected from its header, and a Binance aggTrades file forced by its
// incoming/<profile>/ key with the symbol from its name. The reports name
// the profile and count the refused records; the stored points and the
// windows equal those computed here from the vendor's documented units
// (Polygon sip_timestamp in ns, Binance time in µs, truncated to the ms).
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
			marketdata.ProfilePolygonTrades, 2, map[string][]marketdata.Point{
				"E2EPOLYA": {{Symbol: "E2EPOLYA", Timestamp: t0 + 1, Price: 191.29, Volume: 100, Exchange: "4"},
					{Symbol: "E2EPOLYA", Timestamp: t0 + 105, Price: 191.3, Volume: 25, Exchange: "11"}},
				"E2EPOLYM": {{Symbol: "E2EPOLYM", Timestamp: t0 + 1000, Price: 415.125, Volume: 300, Exchange: "12"}},
			}},
		{"incoming/" + marketdata.ProfileBinanceAggTrades + "/E2EBINA-aggTrades-2024-05-31.csv",
			vendorFixture(t, "BTCUSDT-aggTrades-2024-05-31.csv"),
			marketdata.ProfileBinanceAggTrades, 2, map[string][]marketdata.Point{
				"E2EBINA": {{Symbol: "E2EBINA", Timestamp: t0 + 1, Price: 67512.3, Volume: 3},
					{Symbol: "E2EBINA", Timestamp: t0 + 105, Price: 67512.4, Volume: 1}},
			}},
	}
	for _, tc := range cases {
		if _, err := upload(ctx, p, tc.key, tc.body); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		rep, err := waitReport(ctx, p, tc.key, 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
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
		for symbol, pts := range tc.want {
			checkStored(ctx, t, p, symbol, pts)
		}
	}
}
