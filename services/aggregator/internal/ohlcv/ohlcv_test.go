package ohlcv

import (
	"cmp"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// tick builds a tick whose range key is "<ms>.<frac>", through the shared
// key parser, as the table package does.
func tick(ms int64, frac string, price float64, volume marketdata.Decimal) Tick {
	kms, disc, err := marketdata.ParseSortKey(strconv.FormatInt(ms, 10) + "." + frac)
	if err != nil {
		panic(err)
	}
	return Tick{Millis: kms, Disc: disc, Price: price, Volume: volume}
}

// summarize folds ticks into an Accumulator, as table.WindowSummary does
// page by page.
func summarize(ticks []Tick) (Summary, bool) {
	var a Accumulator
	for _, t := range ticks {
		if err := a.Add(t); err != nil {
			panic(err) // the tests' ticks have known conditions
		}
	}
	return a.Summary()
}

func TestAccumulator(t *testing.T) {
	tests := []struct {
		name  string
		ticks []Tick
		want  Summary
	}{
		{
			name:  "single point",
			ticks: []Tick{tick(1_700_000_000_123, "42", 100.5, "10")},
			want: Summary{Open: 100.5, High: 100.5, Low: 100.5, Close: 100.5, Volume: "10", VWAP: 100.5,
				Trades: 1, FirstMillis: 1_700_000_000_123, LastMillis: 1_700_000_000_123},
		},
		{
			// VWAP = (10*100 + 12*50 + 9*200 + 11*150) / 500 = 5050 / 500 = 10.1
			name: "four trades",
			ticks: []Tick{
				tick(1000, "1", 10, "100"), tick(2000, "5", 12, "50"),
				tick(3000, "2", 9, "200"), tick(4000, "3", 11, "150"),
			},
			want: Summary{Open: 10, High: 12, Low: 9, Close: 11, Volume: "500", VWAP: 10.1,
				Trades: 4, FirstMillis: 1000, LastMillis: 4000},
		},
		{
			// Open: of the two points at 1000 ms, key 1000.15 < 1000.2 (numeric
			// order, not length order), so 21 opens. Close: 1500.89 < 1500.9,
			// so 22 (key 1500.9) closes. VWAP = (20+21+22+23)/4 = 21.5.
			name: "same-millisecond ties broken by key order",
			ticks: []Tick{
				tick(1000, "2", 20, "1"), tick(1000, "15", 21, "1"),
				tick(1500, "9", 22, "1"), tick(1500, "89", 23, "1"),
			},
			want: Summary{Open: 21, High: 23, Low: 20, Close: 22, Volume: "4", VWAP: 21.5,
				Trades: 4, FirstMillis: 1000, LastMillis: 1500},
		},
		{
			// Leading zeros in the discriminator: 0.05 < 0.5.
			name:  "tie with leading zero discriminator",
			ticks: []Tick{tick(7, "5", 1, "1"), tick(7, "05", 2, "1"), tick(7, "000123", 3, "1")},
			want: Summary{Open: 3, High: 3, Low: 1, Close: 1, Volume: "3", VWAP: 2,
				Trades: 3, FirstMillis: 7, LastMillis: 7},
		},
		{
			// Zero-volume quotes count as trades and move OHLC, not the VWAP:
			// (20*10 + 30*30) / 40 = 1100 / 40 = 27.5.
			name:  "zero-volume points mixed in",
			ticks: []Tick{tick(1, "1", 10, "0"), tick(2, "1", 20, "10"), tick(3, "1", 30, "30"), tick(4, "1", 5, "0")},
			want: Summary{Open: 10, High: 30, Low: 5, Close: 5, Volume: "40", VWAP: 27.5,
				Trades: 4, FirstMillis: 1, LastMillis: 4},
		},
		{
			// No volume at all: VWAP falls back to the mean price, 70 / 3.
			name:  "all zero volume",
			ticks: []Tick{tick(1, "1", 10, "0"), tick(2, "1", 20, "0"), tick(3, "1", 40, "0")},
			want: Summary{Open: 10, High: 40, Low: 10, Close: 40, Volume: "0", VWAP: 70.0 / 3,
				Trades: 3, FirstMillis: 1, LastMillis: 3},
		},
		{
			// Volumes beyond int64 and fractional ones sum exactly.
			name:  "volume beyond int64",
			ticks: []Tick{tick(1, "1", 2, "9223372036854775802"), tick(2, "1", 2, "10.5")},
			want: Summary{Open: 2, High: 2, Low: 2, Close: 2, Volume: "9223372036854775812.5", VWAP: 2,
				Trades: 2, FirstMillis: 1, LastMillis: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := summarize(tt.ticks)
			if !ok {
				t.Fatal("Summary reported no ticks")
			}
			assertSummary(t, got, tt.want)

			// The result must not depend on the order of the input, to the
			// last bit.
			r := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				shuffled := slices.Clone(tt.ticks)
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				if again, _ := summarize(shuffled); again != got {
					t.Fatalf("shuffled: %+v, in order: %+v", again, got)
				}
			}
		})
	}
}

func assertSummary(t *testing.T, got, want Summary) {
	t.Helper()
	if math.Abs(got.VWAP-want.VWAP) > 1e-12*math.Abs(want.VWAP) {
		t.Errorf("VWAP = %.17g, want %.17g", got.VWAP, want.VWAP)
	}
	// The exact sums are checked against big.Rat in TestAccumulatorMatchesNaive.
	got.VWAP, want.VWAP = 0, 0
	got.PV, got.Prices, want.PV, want.Prices = "", "", "", ""
	if got != want {
		t.Errorf("Summary = %+v, want %+v", got, want)
	}
}

func TestAccumulatorEmpty(t *testing.T) {
	var a Accumulator
	if s, ok := a.Summary(); ok || a.p.Trades != 0 {
		t.Fatalf("empty Accumulator: %+v, %v, %d ticks", s, ok, a.p.Trades)
	}
	if _, ok := summarize(nil); ok {
		t.Fatal("zero Accumulator is not empty")
	}
}

// TestAccumulatorMatchesNaive cross-checks the accumulator against a direct,
// sort-based computation over random windows with many same-millisecond ties.
func TestAccumulatorMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for round := range 200 {
		n := 1 + r.IntN(300)
		ticks := randomTicks(r, n, 1_700_000_000_000, 50)
		got, _ := summarize(ticks)

		sorted := slices.Clone(ticks)
		slices.SortFunc(sorted, func(a, b Tick) int {
			return cmp.Or(cmp.Compare(a.Millis, b.Millis), cmp.Compare(a.Disc, b.Disc))
		})
		want := Summary{Open: sorted[0].Price, Close: sorted[n-1].Price, High: sorted[0].Price, Low: sorted[0].Price,
			Trades: int64(n), FirstMillis: sorted[0].Millis, LastMillis: sorted[n-1].Millis}
		var pv, sumP float64
		exactPV, exactP, vol := new(big.Rat), new(big.Rat), new(big.Rat)
		for _, tk := range sorted {
			want.High = max(want.High, tk.Price)
			want.Low = min(want.Low, tk.Price)
			v, _ := new(big.Rat).SetString(tk.Volume.String())
			vol.Add(vol, v)
			vf, _ := v.Float64()
			pv += tk.Price * vf
			sumP += tk.Price
			price := new(big.Rat).SetFloat64(tk.Price)
			exactP.Add(exactP, price)
			exactPV.Add(exactPV, price.Mul(price, v))
		}
		want.Volume = marketdata.Decimal(strings.TrimSuffix(strings.TrimRight(vol.FloatString(marketdata.MaxDecimalScale), "0"), "."))
		// The sums the aggregate stores for interval merges are exact.
		for _, s := range []struct {
			name, text string
			want       *big.Rat
		}{{"pv", got.PV, exactPV}, {"prices", got.Prices, exactP}} {
			// "<dyadic>*1e-S" is the dyadic × 10^-S (fractional volumes).
			text, scale, _ := strings.Cut(s.text, "*1e-")
			f, ok := new(big.Float).SetPrec(4096).SetString(text)
			if !ok {
				t.Fatalf("round %d: %s %q does not parse", round, s.name, s.text)
			}
			r, _ := f.Rat(nil)
			if scale != "" {
				n, _ := strconv.Atoi(scale)
				r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)))
			}
			if r.Cmp(s.want) != 0 {
				t.Fatalf("round %d: %s %s, want exactly %s", round, s.name, s.text, s.want.FloatString(30))
			}
		}
		got.PV, got.Prices = "", ""
		if vol.Sign() > 0 {
			want.VWAP, _ = new(big.Rat).Quo(exactPV, vol).Float64()
		} else {
			want.VWAP = sumP / float64(n)
		}
		if math.Abs(got.VWAP-want.VWAP) > 1e-9*want.VWAP {
			t.Fatalf("round %d: VWAP %v, want %v", round, got.VWAP, want.VWAP)
		}
		got.VWAP, want.VWAP = 0, 0
		if got != want {
			t.Fatalf("round %d: %+v, want %+v", round, got, want)
		}
	}
}

// randomTicks returns n ticks over spanMs milliseconds (so many share a
// millisecond) with random 18-digit discriminators, a price random walk and
// some zero volumes.
func randomTicks(r *rand.Rand, n int, startMs, spanMs int64) []Tick {
	ticks := make([]Tick, n)
	price := 100.0
	for i := range ticks {
		ms := startMs + r.Int64N(spanMs)
		price = math.Max(0.01, price+r.NormFloat64()*0.05)
		vol := marketdata.Units(r.Uint64N(500))
		switch r.IntN(10) {
		case 0:
			vol = "0"
		case 1, 2: // a crypto size, 8 decimals
			vol = marketdata.Decimal(strconv.FormatUint(r.Uint64N(5), 10) + "." + strconv.FormatUint(1e7+r.Uint64N(8e7), 10) + "1")
		}
		ticks[i] = Tick{Millis: ms, Disc: 1 + r.Uint64N(999_999_999_999_999_999), Price: math.Round(price*100) / 100, Volume: vol}
	}
	return ticks
}

// BenchmarkAggregate measures the pure aggregation math over a window of
// points in range-key order, as a Query returns them (with ~4 points per
// millisecond, so ties are exercised). Target: >= 10,000,000 points/s.
func BenchmarkAggregate(b *testing.B) {
	const n = 100_000
	ticks := randomTicks(rand.New(rand.NewPCG(3, 4)), n, 1_700_000_000_000, n/4)
	slices.SortFunc(ticks, func(a, b Tick) int {
		return cmp.Or(cmp.Compare(a.Millis, b.Millis), cmp.Compare(a.Disc, b.Disc))
	})
	b.ReportAllocs()
	var sink Summary
	var rounds int
	for b.Loop() {
		var a Accumulator
		for i := range ticks {
			if err := a.Add(ticks[i]); err != nil {
				b.Fatal(err)
			}
		}
		sink, _ = a.Summary()
		rounds++
	}
	if sink.Trades != n {
		b.Fatalf("trades %d, want %d", sink.Trades, n)
	}
	b.ReportMetric(float64(rounds)*n/b.Elapsed().Seconds(), "points/s")
}

// TestMergeEqualsAdd: a window merged from partials (the processor's, one
// per message, through their items) in any order is the window folded point
// by point, to the last bit: the aggregator's two paths agree.
func TestMergeEqualsAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		ticks := randomTicks(r, 1+r.IntN(400), 1_700_000_000_000, 300_000)
		for i := range ticks { // mixed sale conditions
			ticks[i].Conditions = []string{"", "", "37", "2", "33", "14,37", "15", "38"}[r.IntN(8)]
		}
		want, _ := summarize(ticks)
		var parts []*marketdata.Partial
		for lo := 0; lo < len(ticks); {
			hi := min(len(ticks), lo+1+r.IntN(60))
			var p marketdata.Partial
			for _, tk := range ticks[lo:hi] {
				eff, err := conditions.Of(tk.Conditions)
				if err != nil {
					t.Fatal(err)
				}
				p.AddEffect(tk.Millis, tk.Disc, tk.Price, tk.Volume, eff)
			}
			back, err := p.Item("AAPL", "1.5", 1).Partial()
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, back)
			lo = hi
		}
		r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		var a Accumulator
		for _, p := range parts {
			a.Merge(p)
		}
		got, _ := a.Summary()
		if got != want {
			t.Fatalf("round %d: merged %+v, point by point %+v", round, got, want)
		}
	}
}

// TestAccumulatorConditions: each tick updates the summary only as its
// sale conditions allow; a window whose ticks are all excluded from the
// price fields has none, and unknown conditions are refused.
func TestAccumulatorConditions(t *testing.T) {
	tests := []struct {
		name  string
		ticks []Tick
		want  Summary
	}{
		{"odd lot after a regular trade: volume only",
			[]Tick{tick(1000, "1", 10, "100"), {Millis: 2000, Disc: 1, Price: 20, Volume: "7", Conditions: "37"}},
			Summary{Open: 10, High: 10, Low: 10, Close: 10, Volume: "107", VWAP: (10*100 + 20*7) / 107.0, Trades: 2, Excluded: 1, FirstMillis: 1000, LastMillis: 1000}},
		{"out of sequence: high, not close",
			[]Tick{tick(1000, "1", 10, "100"), {Millis: 2000, Disc: 1, Price: 20, Volume: "100", Conditions: "33"}},
			Summary{Open: 10, High: 20, Low: 10, Close: 10, Volume: "200", VWAP: 15, Trades: 2, FirstMillis: 1000, LastMillis: 1000}},
		{"average-price trades only: no price fields",
			[]Tick{{Millis: 1000, Disc: 1, Price: 10, Volume: "1", Conditions: "2"}, {Millis: 2000, Disc: 1, Price: 30, Volume: "3", Conditions: "2"}},
			Summary{Volume: "4", VWAP: 25, Trades: 2, Excluded: 2}},
		{"official close only: no volume either; VWAP the mean price",
			[]Tick{{Millis: 1000, Disc: 1, Price: 10, Volume: "5", Conditions: "15"}},
			Summary{Volume: "0", VWAP: 10, Trades: 1, Excluded: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := summarize(tc.ticks)
			if !ok {
				t.Fatal("empty")
			}
			if tc.want.VWAP == 0 {
				tc.want.VWAP = 10
			}
			got.PV, got.Prices = "", ""
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	var a Accumulator
	if err := a.Add(Tick{Millis: 1, Disc: 1, Price: 1, Volume: "1", Conditions: "6"}); err == nil {
		t.Error("unknown condition 6 accepted")
	}
	if _, ok := a.Summary(); ok {
		t.Error("a refused tick was folded in")
	}
}
