package marketdata

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/conditions"
)

// TestPartialEffects: a trade updates open/close, high/low and volume only
// as its conditions allow, always counts in trades, and counts as excluded
// when it sets no price field.
func TestPartialEffects(t *testing.T) {
	// A regular trade at 10 (volume 100) is in every case; the trade under
	// test, at 20 with volume 7, comes after it.
	tests := []struct {
		name       string
		conditions string
		open       float64
		close      float64
		high, low  float64
		volume     int64
		excluded   int64
	}{
		{"no conditions", "", 10, 20, 20, 10, 107, 0},
		{"regular sale 0", "0", 10, 20, 20, 10, 107, 0},
		{"odd lot 37: volume only", "37", 10, 10, 10, 10, 107, 1},
		{"average price 2: volume only", "2", 10, 10, 10, 10, 107, 1},
		{"sweep and odd lot 14,37: the stricter rule", "14,37", 10, 10, 10, 10, 107, 1},
		{"out of sequence 33: high/low and volume", "33", 10, 10, 20, 10, 107, 0},
		{"official close 15: nothing but the count", "15", 10, 10, 10, 10, 100, 1},
		{"corrected close 38: prices, not volume", "38", 10, 20, 20, 10, 100, 0},
		{"form T 12: volume only", "12", 10, 10, 10, 10, 107, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := conditions.Of(tc.conditions)
			if err != nil {
				t.Fatal(err)
			}
			var p Partial
			p.Add(1000, 1, 10, "100")
			p.AddEffect(2000, 1, 20, "7", e)
			vol := p.Volume()
			if p.Open != tc.open || p.Close != tc.close || p.High != tc.high || p.Low != tc.low ||
				vol != Units(uint64(tc.volume)) || p.Trades != 2 || p.Excluded != tc.excluded {
				t.Errorf("got %v; want open %v close %v high %v low %v volume %d trades 2 excluded %d",
					&p, tc.open, tc.close, tc.high, tc.low, tc.volume, tc.excluded)
			}
			// VWAP weighs the volume-eligible trades only.
			wantVWAP := 10.0
			if tc.volume == 107 {
				wantVWAP = (10*100 + 20*7) / 107.0
			}
			if p.VWAP() != wantVWAP {
				t.Errorf("VWAP %v, want %v", p.VWAP(), wantVWAP)
			}
		})
	}
}

// TestPartialAllExcluded: a partial whose trades are all excluded from the
// price fields has none (0, left out of its item), still counts its trades
// and volume, and goes through its item unchanged.
func TestPartialAllExcluded(t *testing.T) {
	odd, _ := conditions.Of("37")
	var p Partial
	p.AddEffect(1000, 1, 10, "30", odd)
	if p.Open != 0 || p.High != 0 || p.Trades != 1 || p.Excluded != 1 || p.Volume() != "30" || p.VWAP() != 10 {
		t.Fatalf("one odd lot: %v vwap %v", &p, p.VWAP())
	}
	it := p.Item("AAPL", "1.5", 9)
	if it.OpenKey != "" || it.CloseKey != "" || it.Open != 0 || it.High != 0 || it.PV == "" || it.Prices == "" {
		t.Fatalf("item of a partial without prices: %+v", it)
	}
	back, err := it.Partial()
	if err != nil || back.String() != p.String() {
		t.Fatalf("read back %v (%v), want %v", back, err, &p)
	}
	// Merged with a partial that has prices, they come from it alone.
	var q Partial
	q.Add(2000, 1, 12, "1")
	q.Merge(back)
	if q.Open != 12 || q.Close != 12 || q.High != 12 || q.Low != 12 || q.Trades != 2 || q.Excluded != 1 || q.Volume() != "31" {
		t.Fatalf("merged: %v", &q)
	}
	// An item that claims prices it cannot have, or lacks them, is refused.
	bad := it
	bad.Excluded = 0
	if _, err := bad.Partial(); err == nil {
		t.Error("item with no excluded trade and no prices accepted")
	}
	bad = it
	bad.High, bad.Low = 5, 5
	if _, err := bad.Partial(); err == nil {
		t.Error("item with every trade excluded but a high accepted")
	}
	bad = it
	bad.Excluded = 2
	if _, err := bad.Partial(); err == nil {
		t.Error("item with more excluded trades than trades accepted")
	}
}

var someConditions = []string{"", "", "", "0", "37", "2", "14,37", "33", "15", "38", "12", "29", "10"}

type condPoint struct {
	testPoint
	conditions string
}

// condOracle folds points with conditions independently of Partial: each
// trade's effect from conditions.Apply, the sums with big.Rat.
func condOracle(t *testing.T, pts []condPoint) (want Partial, volume *big.Rat, vwap float64) {
	t.Helper()
	volume = new(big.Rat)
	pv, prices := new(big.Rat), new(big.Rat)
	var first, last *condPoint
	for i := range pts {
		p := &pts[i]
		var codes []string
		if p.conditions != "" {
			codes = strings.Split(p.conditions, ",")
		}
		e, err := conditions.Apply(conditions.PolygonIDs, codes...)
		if err != nil {
			t.Fatal(err)
		}
		want.Trades++
		if !e.OpenClose && !e.HighLow {
			want.Excluded++
		}
		if e.OpenClose {
			if first == nil || p.ms < first.ms || p.ms == first.ms && p.disc < first.disc {
				first = p
			}
			if last == nil || p.ms > last.ms || p.ms == last.ms && p.disc > last.disc {
				last = p
			}
		}
		if e.HighLow {
			if want.High == 0 {
				want.High, want.Low = p.price, p.price
			}
			want.High, want.Low = max(want.High, p.price), min(want.Low, p.price)
		}
		pr := new(big.Rat).SetFloat64(p.price)
		prices.Add(prices, pr)
		if e.Volume {
			v := volumeRat(p.volume)
			volume.Add(volume, v)
			pv.Add(pv, new(big.Rat).Mul(pr, v))
		}
	}
	if first != nil {
		want.Open, want.Close = first.price, last.price
	}
	if volume.Sign() > 0 {
		vwap, _ = new(big.Rat).Quo(pv, volume).Float64() // rounded once
	} else {
		a, _ := prices.Float64()
		vwap = a / float64(len(pts))
	}
	return want, volume, vwap
}

// Points with mixed conditions: any grouping into partials, through their
// items, merged in any order, gives the oracle's partial to the last bit.
func TestPartialMergeWithConditions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 13))
	for round := range 300 {
		raw := randomPoints(r, 1+r.IntN(120), false)
		pts := make([]condPoint, len(raw))
		for i, p := range raw {
			pts[i] = condPoint{p, someConditions[r.IntN(len(someConditions))]}
			if round%10 == 0 {
				pts[i].conditions = "37" // every trade excluded
			}
		}
		want, volume, vwap := condOracle(t, pts)
		check := func(what string, p *Partial) {
			t.Helper()
			if p.Open != want.Open || p.Close != want.Close || p.High != want.High || p.Low != want.Low ||
				p.Trades != want.Trades || p.Excluded != want.Excluded || p.Volume() != ratDecimal(volume) || p.VWAP() != vwap {
				t.Fatalf("round %d %s: got %v vwap %v; want %v volume %v vwap %v", round, what, p, p.VWAP(), &want, volume, vwap)
			}
		}
		var whole Partial
		for _, p := range pts {
			e, err := conditions.Of(p.conditions)
			if err != nil {
				t.Fatal(err)
			}
			whole.AddEffect(p.ms, p.disc, p.price, p.volume, e)
		}
		check("one by one", &whole)
		merged := mergedInGroups(t, r, len(pts), 20, func(q *Partial, i int) {
			e, _ := conditions.Of(pts[i].conditions) // checked above
			q.AddEffect(pts[i].ms, pts[i].disc, pts[i].price, pts[i].volume, e)
		})
		check("merged", merged)
		if merged.String() != whole.String() {
			t.Fatalf("merged %v, one by one %v", merged, &whole)
		}
	}
}

// aggregateOf is the window aggregate of a partial, as the aggregator
// writes it.
func aggregateOf(p *Partial, start, end int64) Aggregate {
	pv, prices := p.Sums()
	a := Aggregate{WindowStart: start, WindowEnd: end, Open: p.Open, High: p.High, Low: p.Low,
		Close: p.Close, Volume: p.Volume(), VWAP: p.VWAP(), Trades: p.Trades, Excluded: p.Excluded,
		PV: pv, Prices: prices}
	if p.Open > 0 {
		a.FirstTs, a.LastTs = p.OpenMillis, p.CloseMillis
	}
	return a
}

// Windows with mixed conditions, some of them without any price, roll up
// into the aggregate of their bucket's points, on the exact and on the
// float path.
func TestRollUpWithConditions(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 17))
	for round := range 100 {
		var windows []Aggregate
		var all Partial
		for w := range int64(12) {
			var p Partial
			n := 1 + r.IntN(6)
			for i := range n {
				c := someConditions[r.IntN(len(someConditions))]
				if w%3 == 1 {
					c = "2" // a window of average-price trades only
				}
				e, _ := conditions.Of(c)
				ms := w*300_000 + int64(i)*1000
				price, vol := 10+float64(r.IntN(1000))/100, Units(r.Uint64N(500))
				if r.IntN(3) == 0 { // a fractional size
					vol = Decimal(appendUnits(nil, r.Uint64N(1e9), 1+r.IntN(MaxDecimalScale)))
				}
				p.AddEffect(ms, 0, price, vol, e)
				all.AddEffect(ms, 0, price, vol, e)
			}
			windows = append(windows, aggregateOf(&p, w*300_000, (w+1)*300_000))
		}
		want := aggregateOf(&all, 0, 3_600_000)
		got := RollUp(windows, Intervals[2])
		if len(got) != 1 || got[0] != want {
			t.Fatalf("round %d exact:\n got %+v\nwant %+v", round, got, want)
		}
		// Without the exact sums (older windows), the price fields and
		// counts are still those of the points.
		inexact := slices.Clone(windows)
		for i := range inexact {
			inexact[i].PV, inexact[i].Prices = "", ""
		}
		g := RollUp(inexact, Intervals[2])[0]
		if g.Open != want.Open || g.Close != want.Close || g.High != want.High || g.Low != want.Low ||
			g.FirstTs != want.FirstTs || g.LastTs != want.LastTs || g.Trades != want.Trades || g.Excluded != want.Excluded ||
			g.Volume != want.Volume || !close12(g.VWAP, want.VWAP) {
			t.Fatalf("round %d float path:\n got %+v\nwant %+v", round, g, want)
		}
	}
}

// TestAggregateWithoutPrices: a window whose trades are all excluded from
// the price fields answers without open, high, low, close and their
// times, and with its excluded count.
func TestAggregateWithoutPrices(t *testing.T) {
	avg, _ := conditions.Of("2")
	var p Partial
	p.AddEffect(1000, 1, 10, "4", avg)
	p.AddEffect(2000, 1, 12, "4", avg)
	body, err := json.Marshal(aggregateOf(&p, 0, 300_000))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"open", "high", "low", "close", "firstTimestamp", "lastTimestamp"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s present in %s", k, body)
		}
	}
	if got["excludedTrades"] != 2.0 || got["trades"] != 2.0 || got["volume"] != 8.0 || got["vwap"] != 11.0 {
		t.Errorf("answer %s", body)
	}
	// A window with prices always has excludedTrades, 0 included.
	var q Partial
	q.Add(1000, 1, 10, "4")
	body, _ = json.Marshal(aggregateOf(&q, 0, 300_000))
	if !strings.Contains(string(body), `"open":10`) || !strings.Contains(string(body), `"excludedTrades":0`) {
		t.Errorf("answer %s", body)
	}
}

// FuzzPartialMergeWithConditions: points with any mix of conditions, cut
// into partials anywhere and merged through their items in reverse, give
// the oracle's partial and the one folded point by point, to the last bit.
func FuzzPartialMergeWithConditions(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(3))
	f.Add([]byte{4, 4, 4, 4}, uint8(1))
	f.Add([]byte{7, 200, 13, 99, 5}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		if len(data) == 0 || len(data) > 512 {
			return
		}
		pts := make([]condPoint, len(data))
		for i, b := range data {
			pts[i] = condPoint{testPoint{ms: 1_700_000_000_000 + int64(b%7), disc: uint64(i) + 1,
				price: 1 + float64(b)/8, volume: Decimal(appendUnits(nil, uint64(b)*3, int(b)%4))}, someConditions[int(b)%len(someConditions)]}
		}
		want, volume, vwap := condOracle(t, pts)
		var whole Partial
		var parts []*Partial
		var q Partial
		n := int(cut%16) + 1
		for i, p := range pts {
			e, err := conditions.Of(p.conditions)
			if err != nil {
				t.Fatal(err)
			}
			whole.AddEffect(p.ms, p.disc, p.price, p.volume, e)
			q.AddEffect(p.ms, p.disc, p.price, p.volume, e)
			if (i+1)%n == 0 || i == len(pts)-1 {
				back, err := q.Item("X", "1.5", 1).Partial()
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, back)
				q = Partial{}
			}
		}
		var merged Partial
		for _, p := range slices.Backward(parts) {
			merged.Merge(p)
		}
		if merged.String() != whole.String() {
			t.Fatalf("merged %v, one by one %v", &merged, &whole)
		}
		if whole.Open != want.Open || whole.Close != want.Close || whole.High != want.High || whole.Low != want.Low ||
			whole.Trades != want.Trades || whole.Excluded != want.Excluded || whole.Volume() != ratDecimal(volume) || whole.VWAP() != vwap {
			t.Fatalf("got %v vwap %v; want %v volume %v vwap %v", &whole, whole.VWAP(), &want, volume, vwap)
		}
	})
}
