//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// binanceTrade is one row of a generated Binance aggTrades file, as text
// (the quantity as Binance writes it, 8 decimals with trailing zeros).
type binanceTrade struct {
	ms         int64
	price, qty string
}

// fractionalFile is a Binance spot aggTrades CSV (no header; time in µs) of
// n trades over three windows from start, with fractional quantities of up
// to 8 decimals; every trade has a millisecond of its own, so open and close
// do not depend on the range keys' order within a millisecond.
func fractionalFile(start time.Time, n int) ([]byte, []binanceTrade) {
	r := rand.New(rand.NewPCG(13, 34))
	w0 := marketdata.WindowStart(start.UnixMilli())
	var b strings.Builder
	trades := make([]binanceTrade, n)
	for i := range trades {
		ms := w0 + int64(i%3)*300_000 + 1 + int64(i/3)*97
		cents := 9_400_000 + r.Int64N(200_000) // 94,000.00 to 95,999.99
		tr := binanceTrade{ms: ms,
			price: fmt.Sprintf("%d.%02d000000", cents/100, cents%100),
			qty:   fmt.Sprintf("%d.%08d", r.IntN(3), r.IntN(100_000_000))}
		if i == 7 {
			tr.qty = "0.00000001" // the smallest unit
		}
		trades[i] = tr
		fmt.Fprintf(&b, "%d,%s,%s,%d,%d,%d,%t,true\n", 1000+i, tr.price, tr.qty, 5000+2*i, 5001+2*i, ms*1000+123, i%2 == 0)
	}
	return []byte(b.String()), trades
}

// ratText is the exact decimal of r >= 0 with at most 18 fraction digits, in
// canonical form, by math/big alone.
func ratText(r *big.Rat) string {
	s := strings.TrimRight(r.FloatString(marketdata.MaxDecimalScale), "0")
	return strings.TrimSuffix(s, ".")
}

func mustRat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	return r
}

// bucketOf computes the aggregate of trades (in time order) independently
// of the services: big.Rat sums of the file's text, VWAP the exact quotient
// rounded once to float64.
func bucketOf(t *testing.T, symbol string, start, end int64, trades []binanceTrade) marketdata.Aggregate {
	t.Helper()
	first, last := trades[0], trades[len(trades)-1]
	price := func(tr binanceTrade) float64 { f, _ := mustRat(t, tr.price).Float64(); return f }
	a := marketdata.Aggregate{Symbol: symbol, WindowStart: start, WindowEnd: end, Open: price(first), Close: price(last),
		High: price(first), Low: price(first), Trades: int64(len(trades)), FirstTs: first.ms, LastTs: last.ms}
	vol, pv := new(big.Rat), new(big.Rat)
	for _, tr := range trades {
		p := price(tr)
		a.High, a.Low = max(a.High, p), min(a.Low, p)
		q := mustRat(t, tr.qty)
		vol.Add(vol, q)
		pv.Add(pv, new(big.Rat).Mul(new(big.Rat).SetFloat64(p), q)) // the stored price is the float64 nearest the text
	}
	a.Volume = marketdata.Decimal(ratText(vol))
	a.VWAP, _ = new(big.Rat).Quo(pv, vol).Float64()
	return a
}

// sameExact compares aggregates field by field, to the last digit (the
// update time and the exact sums aside).
func sameExact(got, want marketdata.Aggregate) error {
	got.UpdatedAt, want.UpdatedAt = 0, 0
	got.PV, got.Prices, want.PV, want.Prices = "", "", "", ""
	if got != want {
		return fmt.Errorf("\n got %+v\nwant %+v", got, want)
	}
	return nil
}

// TestFractionalVolumesEndToEnd: a Binance aggTrades file of fractional
// quantities goes through the local pipeline: every trade is stored with
// its quantity exactly (canonical text), each window equals an independent
// big.Rat computation to the last digit, and GET /aggregates serves the
// volume as exactly the sum of the file's quantities, at 5 minutes and
// merged into a day.
func TestFractionalVolumesEndToEnd(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	const symbol, n = "E2EFRAC", 600
	// Yesterday 18:00 UTC: the three windows lie within one UTC day.
	body, trades := fractionalFile(time.Now().UTC().Truncate(24*time.Hour).Add(-6*time.Hour), n)
	key := "incoming/" + marketdata.ProfileBinanceAggTrades + "/" + symbol + "-aggTrades-2025-01-02.csv"
	if _, err := upload(ctx, p, key, body); err != nil {
		t.Fatal(err)
	}
	rep, err := waitReport(ctx, p, key, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != marketdata.ReportCompleted || rep.Profile != marketdata.ProfileBinanceAggTrades || rep.Accepted != n || rep.Rejected != 0 {
		t.Fatalf("report %s profile %q accepted %d rejected %d (%s %v), want every one of %d accepted",
			rep.Status, rep.Profile, rep.Accepted, rep.Rejected, rep.Error, rep.Rejections, n)
	}

	// The windows, computed here from the file's text.
	sort.Slice(trades, func(i, j int) bool { return trades[i].ms < trades[j].ms })
	byWindow := map[int64][]binanceTrade{}
	var starts []int64
	for _, tr := range trades {
		w := marketdata.WindowStart(tr.ms)
		if byWindow[w] == nil {
			starts = append(starts, w)
		}
		byWindow[w] = append(byWindow[w], tr)
	}
	want := map[int64]marketdata.Aggregate{}
	for _, w := range starts {
		want[w] = bucketOf(t, symbol, w, marketdata.WindowEnd(w), byWindow[w])
	}
	if err := eventually(ctx, 2*time.Minute, func() error {
		got, err := table(p).Aggregates(ctx, symbol)
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			return fmt.Errorf("%d windows stored, want %d", len(got), len(want))
		}
		for _, g := range got {
			if err := sameExact(g, want[g.WindowStart]); err != nil {
				return fmt.Errorf("window %d: %w", g.WindowStart, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Every trade stored once, its quantity exactly.
	stored, err := table(p).Points(ctx, symbol, 0, time.Now().Add(48*time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	var wantPts []marketdata.Point
	for _, tr := range trades {
		price, _ := mustRat(t, tr.price).Float64()
		qty, err := marketdata.ParseDecimal(tr.qty)
		if err != nil {
			t.Fatal(err)
		}
		wantPts = append(wantPts, marketdata.Point{Symbol: symbol, Timestamp: tr.ms, Price: price, Volume: qty})
	}
	if err := samePoints(stored, wantPts); err != nil {
		t.Fatal(err)
	}

	// The API: each window, and the day that holds them all, whose volume
	// is the sum of every quantity of the file.
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	from, to := starts[0], marketdata.WindowEnd(starts[len(starts)-1])
	day := marketdata.Intervals[len(marketdata.Intervals)-1]
	dayStart := day.Start(from)
	for _, iv := range []marketdata.Interval{marketdata.DefaultInterval, day} {
		q := url.Values{marketdata.APIQueryFrom: {fmt.Sprint(from)}, marketdata.APIQueryTo: {fmt.Sprint(to)}, marketdata.APIQueryInterval: {iv.Name}}
		var got []marketdata.Aggregate
		if resp := api(ctx, t, http.MethodGet, stage+"/"+marketdata.APIAggregatesPart+"/"+symbol+"?"+q.Encode(), nil, &got); resp.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", iv.Name, resp.Status, resp.Body)
		}
		if iv == day {
			whole := bucketOf(t, symbol, dayStart, day.End(dayStart), trades)
			total := new(big.Rat)
			for _, tr := range trades {
				total.Add(total, mustRat(t, tr.qty))
			}
			if len(got) != 1 || got[0].Volume != marketdata.Decimal(ratText(total)) {
				t.Fatalf("1d: %+v, want one bucket of volume %s", got, ratText(total))
			}
			if err := sameExact(got[0], whole); err != nil {
				t.Fatalf("1d: %v", err)
			}
			continue
		}
		if len(got) != len(want) {
			t.Fatalf("5m: %d windows, want %d", len(got), len(want))
		}
		for _, g := range got {
			if err := sameExact(g, want[g.WindowStart]); err != nil {
				t.Fatalf("5m window %d: %v", g.WindowStart, err)
			}
		}
	}
}
