//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/tools/internal/localclient"
)

// TestExactPricesEndToEnd: prices of more digits than a float64 keeps go
// in through signed POST /ingest and come back from GET /aggregates and
// GET /symbols/{symbol}/latest byte for byte: the first trade's 30-digit
// price is the window's open and, tied in float64 with a later 179.66 but
// larger, its high; the last trade's 28-digit price its low, close and the
// latest price.
func TestExactPricesEndToEnd(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	const (
		symbol = "E2EEXACT"
		high   = "179.660000000000000000000000001" // 30 significant digits; its float is 179.66
		low    = "179.5000000000000000000000001"   // 28; its float is 179.5
	)
	w := marketdata.WindowStart(time.Now().Add(-3 * time.Hour).UnixMilli())
	// The body is written by hand: encoding/json would round the prices.
	body := fmt.Sprintf(`{"points":[{"symbol":%q,"timestamp":%d,"price":%s,"volume":2},`+
		`{"symbol":%q,"timestamp":%d,"price":179.66,"volume":1},`+
		`{"symbol":%q,"timestamp":%d,"price":%s,"volume":1}]}`, symbol, w+1000, high, symbol, w+2000, symbol, w+3000, low)
	resp, err := localclient.PostIngest(ctx, stage, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusAccepted || !strings.Contains(string(resp.Body), `"accepted":3`) {
		t.Fatalf("POST /ingest: %d %s, want 202 with 3 accepted", resp.Status, resp.Body)
	}

	q := url.Values{marketdata.APIQueryFrom: {fmt.Sprint(w)}, marketdata.APIQueryTo: {fmt.Sprint(marketdata.WindowEnd(w))}}
	var raw string
	if err := eventually(ctx, 2*time.Minute, func() error {
		var got []marketdata.Aggregate
		r := api(ctx, t, http.MethodGet, stage+"/"+marketdata.APIAggregatesPart+"/"+symbol+"?"+q.Encode(), nil, &got)
		if r.Status != http.StatusOK || len(got) != 1 || got[0].Trades != 3 {
			return fmt.Errorf("GET /aggregates: %d %s, want one window of 3 trades", r.Status, r.Body)
		}
		raw = string(r.Body)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"open":` + high + `,`, `"high":` + high + `,`, `"low":` + low + `,`, `"close":` + low} {
		if !strings.Contains(raw, want) {
			t.Errorf("GET /aggregates answered %s, want %s byte for byte", raw, want)
		}
	}

	var l marketdata.Latest
	if r := api(ctx, t, http.MethodGet, stage+marketdata.APISymbolsResource+"/"+symbol+"/latest", nil, &l); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), `"price":`+low) || l.PriceText != low {
		t.Errorf("GET latest: %d %s, want the price %s", r.Status, r.Body, low)
	}
}
