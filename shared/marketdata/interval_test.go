package marketdata

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
)

func TestIntervalsAlignOnUTCBoundaries(t *testing.T) {
	day := 24 * time.Hour
	for _, iv := range Intervals {
		if iv.Width%limits.AggregationWindow != 0 || day%iv.Width != 0 {
			t.Errorf("%s (%s) is not a multiple of the stored window that divides a day", iv.Name, iv.Width)
		}
		// A bucket starts at the UTC boundary of its width.
		at := time.Date(2024, 3, 1, 14, 37, 12, 0, time.UTC)
		start := time.UnixMilli(iv.Start(at.UnixMilli())).UTC()
		if want := at.Truncate(iv.Width); !start.Equal(want) {
			t.Errorf("%s: bucket of %s starts at %s, want %s", iv.Name, at, start, want)
		}
		if got := iv.End(start.UnixMilli()) - start.UnixMilli(); got != iv.Width.Milliseconds() {
			t.Errorf("%s: bucket is %d ms wide", iv.Name, got)
		}
		if got, err := ParseInterval(iv.Name); err != nil || got != iv {
			t.Errorf("ParseInterval(%q) = %v, %v", iv.Name, got, err)
		}
	}
	if DefaultInterval.Width != limits.AggregationWindow {
		t.Errorf("default interval %s is not the stored window", DefaultInterval.Name)
	}
	for _, bad := range []string{"", "5M", "2h", "1w", "300000"} {
		if _, err := ParseInterval(bad); !errors.Is(err, ErrInterval) {
			t.Errorf("ParseInterval(%q) = %v, want ErrInterval", bad, err)
		}
	}
}

// tick is a point as the test computes aggregates from: its own
// computation, independent of Rollup.
type tick struct {
	ms     int64
	price  float64
	volume Decimal
}

// ratDecimal is the exact decimal of r (at most MaxDecimalScale fraction
// digits), from math/big alone.
func ratDecimal(r *big.Rat) Decimal {
	d, err := ParseSum(r.FloatString(MaxDecimalScale))
	if err != nil {
		panic(err)
	}
	return d
}

// volumeRat is v as a big.Rat, read with math/big alone.
func volumeRat(v Decimal) *big.Rat {
	r, ok := new(big.Rat).SetString(v.String())
	if !ok {
		panic(v)
	}
	return r
}

// direct computes the aggregate of ticks (sorted by time) as [start, end).
func direct(ticks []tick, start, end int64) Aggregate {
	a := Aggregate{WindowStart: start, WindowEnd: end, Open: ticks[0].price, Close: ticks[len(ticks)-1].price,
		High: ticks[0].price, Low: ticks[0].price, FirstTs: ticks[0].ms, LastTs: ticks[len(ticks)-1].ms}
	var pv, vol, sum float64
	volume := new(big.Rat)
	for _, tk := range ticks {
		a.High, a.Low = max(a.High, tk.price), min(a.Low, tk.price)
		volume.Add(volume, volumeRat(tk.volume))
		a.Trades++
		v, _ := volumeRat(tk.volume).Float64()
		pv += tk.price * v
		vol += v
		sum += tk.price
	}
	a.Volume = ratDecimal(volume)
	if vol > 0 {
		a.VWAP = pv / vol
	} else {
		a.VWAP = sum / float64(a.Trades)
	}
	return a
}

// bucketed groups sorted ticks by the buckets of iv and computes each directly.
func bucketed(ticks []tick, iv Interval) []Aggregate {
	var out []Aggregate
	for i := 0; i < len(ticks); {
		s := iv.Start(ticks[i].ms)
		j := i
		for j < len(ticks) && iv.Start(ticks[j].ms) == s {
			j++
		}
		out = append(out, direct(ticks[i:j], s, iv.End(s)))
		i = j
	}
	return out
}

func close12(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b)) }

func sameAggregate(t *testing.T, what string, got, want Aggregate) {
	t.Helper()
	g, w := got, want
	g.VWAP, w.VWAP = 0, 0
	if g != w || !close12(got.VWAP, want.VWAP) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// randomTicks are points over about three days, some windows empty, some
// without volume, prices on a random walk; timestamps distinct.
func randomTicks(rng *rand.Rand) []tick {
	base := time.Date(2024, 3, 1, 22, 0, 0, 0, time.UTC).UnixMilli() + rng.Int64N(86_400_000)
	var ticks []tick
	price := 100 + rng.Float64()*50
	ms := base
	quoteOnly := false
	for range 200 + rng.IntN(2000) {
		ms += 1 + rng.Int64N(5*60_000)
		if rng.IntN(50) == 0 {
			ms += rng.Int64N(6 * 3_600_000) // a gap: empty windows and hours
		}
		if rng.IntN(20) == 0 {
			quoteOnly = !quoteOnly
		}
		price = math.Max(0.01, price*(1+(rng.Float64()-0.5)/50))
		v := Decimal("0")
		switch {
		case quoteOnly:
		case rng.IntN(3) == 0: // a crypto size: up to 8 or 18 decimals
			v = appendUnitsDecimal(rng.Uint64N(1_000_000_000_000), []int{3, 8, 18}[rng.IntN(3)])
		default:
			v = Units(rng.Uint64N(10_000))
		}
		ticks = append(ticks, tick{ms, price, v})
	}
	return ticks
}

// TestRollUpEqualsDirectComputation: merging the stored 5-minute windows
// into an interval gives the aggregate computed from the interval's points.
func TestRollUpEqualsDirectComputation(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 12))
		ticks := randomTicks(rng)
		windows := bucketed(ticks, DefaultInterval)
		for _, iv := range Intervals {
			got := RollUp(windows, iv)
			want := bucketed(ticks, iv)
			if len(got) != len(want) {
				t.Fatalf("seed %d %s: %d buckets, want %d", seed, iv.Name, len(got), len(want))
			}
			for i := range want {
				sameAggregate(t, iv.Name, got[i], want[i])
			}
		}
	}
}

// TestRollupMergeIsAssociative: any grouping and order of the windows
// merges into the same aggregate.
func TestRollupMergeIsAssociative(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 34))
		windows := bucketed(randomTicks(rng), DefaultInterval)
		var whole Rollup
		for _, w := range windows {
			whole.Add(w)
		}
		want, _ := whole.Aggregate(0, 1)

		// Shuffle, cut into random groups, merge each, merge the groups.
		shuffled := slices.Clone(windows)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		var groups []Rollup
		for i := 0; i < len(shuffled); {
			j := min(len(shuffled), i+1+rng.IntN(10))
			var g Rollup
			for _, w := range shuffled[i:j] {
				g.Add(w)
			}
			groups = append(groups, g)
			i = j
		}
		var merged Rollup
		merged.Merge(Rollup{}) // merging nothing changes nothing
		for _, g := range slices.Backward(groups) {
			merged.Merge(g)
		}
		got, ok := merged.Aggregate(0, 1)
		if !ok {
			t.Fatal("merged nothing")
		}
		sameAggregate(t, "regrouped", got, want)
	}
}

func TestRollUpEdges(t *testing.T) {
	if got := RollUp(nil, Intervals[len(Intervals)-1]); got == nil || len(got) != 0 {
		t.Errorf("RollUp(nil) = %#v, want an empty list", got)
	}
	w := []Aggregate{{WindowStart: 0, WindowEnd: 300_000, Open: 1, High: 1, Low: 1, Close: 1, VWAP: 1, Trades: 1}}
	if got := RollUp(w, DefaultInterval); !slices.Equal(got, w) {
		t.Errorf("5m RollUp changed the windows: %+v", got)
	}
	// Volumes beyond int64 sum exactly.
	big := Aggregate{WindowStart: 0, Open: 1, High: 1, Low: 1, Close: 1, VWAP: 1, Trades: 1, Volume: "9223372036854775806"}
	big2 := big
	big2.WindowStart, big2.FirstTs, big2.LastTs = 300_000, 300_000, 300_000
	big2.Volume = "0.000000000000000001"
	if got := RollUp([]Aggregate{big, big2, big}, Intervals[1]); got[0].Volume != "18446744073709551612.000000000000000001" {
		t.Errorf("volume %s, want the exact sum", got[0].Volume)
	}
	var empty Rollup
	if _, ok := empty.Aggregate(0, 1); ok {
		t.Error("an empty rollup has an aggregate")
	}
}

// exactBuckets folds sorted ticks into the buckets of iv point by point as
// the aggregator does (one Partial per bucket), each aggregate with its exact
// sums.
func exactBuckets(ticks []tick, iv Interval) []Aggregate {
	var out []Aggregate
	for i := 0; i < len(ticks); {
		s := iv.Start(ticks[i].ms)
		var p Partial
		for ; i < len(ticks) && iv.Start(ticks[i].ms) == s; i++ {
			p.Add(ticks[i].ms, 0, ticks[i].price, ticks[i].volume)
		}
		pv, prices := p.Sums()
		out = append(out, Aggregate{WindowStart: s, WindowEnd: iv.End(s), Open: p.Open, High: p.High, Low: p.Low,
			Close: p.Close, Volume: p.Volume(), VWAP: p.VWAP(), Trades: p.Trades, FirstTs: p.OpenMillis,
			LastTs: p.CloseMillis, PV: pv, Prices: prices})
	}
	return out
}

// TestRollUpOfExactWindowsIsExact: windows that carry their exact sums
// merge into the aggregate of the bucket's points to the last digit, in any
// grouping; one window without them falls back to the float sums.
func TestRollUpOfExactWindowsIsExact(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 56))
		ticks := randomTicks(rng)
		windows := exactBuckets(ticks, DefaultInterval)
		for _, iv := range Intervals[1:] {
			got, want := RollUp(windows, iv), exactBuckets(ticks, iv)
			if len(got) != len(want) {
				t.Fatalf("seed %d %s: %d buckets, want %d", seed, iv.Name, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("seed %d %s bucket %d:\n got %+v\nwant %+v", seed, iv.Name, i, got[i], want[i])
				}
			}
		}
		// Regrouped in random order: the same, bit for bit.
		shuffled := slices.Clone(windows)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		var merged Rollup
		for i := 0; i < len(shuffled); {
			j := min(len(shuffled), i+1+rng.IntN(10))
			var g Rollup
			for _, w := range shuffled[i:j] {
				g.Add(w)
			}
			merged.Merge(g)
			i = j
		}
		got, _ := merged.Aggregate(0, 1)
		want := exactBuckets(ticks, Interval{Width: 100 * 365 * 24 * time.Hour})[0]
		want.WindowStart, want.WindowEnd = 0, 1
		if got != want {
			t.Fatalf("seed %d regrouped:\n got %+v\nwant %+v", seed, got, want)
		}
		// A window without its sums (stored before they were kept): the
		// float merge, within its rounding, and no sums claimed.
		mixed := slices.Clone(windows)
		mixed[len(mixed)/2].PV, mixed[len(mixed)/2].Prices = "", ""
		all := RollUp(mixed, Intervals[len(Intervals)-1])
		for i, w := range exactBuckets(ticks, Intervals[len(Intervals)-1]) {
			if !close12(all[i].VWAP, w.VWAP) || all[i].Volume != w.Volume || all[i].Trades != w.Trades {
				t.Fatalf("seed %d mixed bucket %d: %+v, want about %+v", seed, i, all[i], w)
			}
			if hasMixed := all[i].WindowStart <= mixed[len(mixed)/2].WindowStart && mixed[len(mixed)/2].WindowStart < all[i].WindowEnd; hasMixed && all[i].PV != "" {
				t.Errorf("seed %d: a bucket merged with a window without sums claims exact sums", seed)
			}
		}
	}
}

// appendUnitsDecimal is coef × 10^-scale as a Decimal.
func appendUnitsDecimal(coef uint64, scale int) Decimal {
	return Decimal(appendUnits(nil, coef, scale))
}
