package marketdata

import "testing"

func TestProfileFromKey(t *testing.T) {
	for _, tc := range []struct {
		key, profile string
		ok           bool
	}{
		{"incoming/polygon-trades/2024-05-31.csv", ProfilePolygonTrades, true},
		{"incoming/binance-aggtrades/x/BTCUSDT-aggTrades-2025-01-02.csv", ProfileBinanceAggTrades, true},
		{"incoming/2024-06-01/ticks.csv", "", false}, // a folder naming no profile forces nothing
		{"incoming/polygon-trades", "", false},       // no folder
		{"feeds/polygon-trades/x.csv", "", false},
		{"incoming/Polygon-Trades/x.csv", "", false}, // names are exact
	} {
		if p, ok := ProfileFromKey(tc.key); p != tc.profile || ok != tc.ok {
			t.Errorf("ProfileFromKey(%q) = %q, %v; want %q, %v", tc.key, p, ok, tc.profile, tc.ok)
		}
	}
}

// POST /ingest declares the parameters that force a profile, a symbol, a
// unit and a bar length: the table the api stack builds the method from.
func TestIngestRouteDeclaresProfileParameters(t *testing.T) {
	want := map[string]bool{APIQueryProfile: true, APIQuerySymbol: true, APIQueryTimestampUnit: true, APIQueryTimeframe: true}
	for _, q := range RouteIngest.Query {
		delete(want, q)
	}
	if len(want) != 0 {
		t.Fatalf("POST /ingest does not declare %v", want)
	}
}
