package marketdata

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

type testPoint struct {
	ms     int64
	disc   uint64
	price  float64
	volume Decimal
}

// randomPoints are points whose float sums depend on their order: cent
// prices (not exact in binary) of very different magnitudes, ties in the
// millisecond, zero volumes, volumes near the int64 limit, and fractional
// volumes of several scales (crypto sizes), some with more than 19 digits.
func randomPoints(r *rand.Rand, n int, huge bool) []testPoint {
	pts := make([]testPoint, n)
	for i := range pts {
		price := math.Round(r.Float64()*1e6) / 100
		if r.IntN(5) == 0 {
			price = r.Float64() * math.Pow(10, float64(r.IntN(20)-8))
		}
		if price <= 0 {
			price = 0.01
		}
		vol := Units(r.Uint64N(10_000))
		switch {
		case r.IntN(7) == 0:
			vol = "0"
		case huge && r.IntN(3) == 0:
			vol = Units(math.MaxInt64 - r.Uint64N(1000))
		case huge && r.IntN(5) == 0: // 19 integer and 18 fraction digits
			vol = Decimal(strconv.FormatUint(math.MaxInt64-r.Uint64N(1000), 10) + "." + strconv.FormatUint(1e16+r.Uint64N(8e16), 10) + "1")
		case r.IntN(3) == 0:
			vol = Decimal(appendUnits(nil, r.Uint64N(1e12), []int{1, 3, 8, 18}[r.IntN(4)]))
		}
		pts[i] = testPoint{ms: 1_700_000_000_000 + r.Int64N(50), disc: 1 + r.Uint64N(999_999_999_999_999_999), price: price, volume: vol}
	}
	return pts
}

// oracle computes the expected partial with big.Rat, independently of
// Partial's big.Float sums.
func oracle(pts []testPoint) (open, close, high, low float64, trades int64, volume *big.Rat, vwap float64) {
	volume = new(big.Rat)
	pv, prices := new(big.Rat), new(big.Rat)
	first, last := pts[0], pts[0]
	high, low = pts[0].price, pts[0].price
	for _, p := range pts {
		if p.ms < first.ms || p.ms == first.ms && p.disc < first.disc {
			first = p
		}
		if p.ms > last.ms || p.ms == last.ms && p.disc > last.disc {
			last = p
		}
		high, low = max(high, p.price), min(low, p.price)
		v := volumeRat(p.volume)
		volume.Add(volume, v)
		pr := new(big.Rat).SetFloat64(p.price)
		pv.Add(pv, new(big.Rat).Mul(pr, v))
		prices.Add(prices, pr)
	}
	if volume.Sign() > 0 {
		vwap, _ = new(big.Rat).Quo(pv, volume).Float64() // rounded once
	} else {
		a, _ := prices.Float64()
		vwap = a / float64(len(pts))
	}
	return first.price, last.price, high, low, int64(len(pts)), volume, vwap
}

func checkPartial(t *testing.T, what string, p *Partial, pts []testPoint) {
	t.Helper()
	open, close, high, low, trades, volume, vwap := oracle(pts)
	want := ratDecimal(volume)
	if p.Open != open || p.Close != close || p.High != high || p.Low != low || p.Trades != trades ||
		p.Volume() != want || p.VWAP() != vwap {
		t.Fatalf("%s: got %v (volume %s, vwap %v), want open %v close %v high %v low %v trades %d volume %s vwap %v",
			what, p, p.Volume(), p.VWAP(), open, close, high, low, trades, want, vwap)
	}
}

// mergedInGroups cuts points 0..n-1 into consecutive groups of 1 to
// maxGroup (drawn from r), folds each group into a partial with add, sends
// each partial through its item and back (as the processor stores it and
// the aggregator reads it), and merges them in an order drawn from r.
func mergedInGroups(t testing.TB, r *rand.Rand, n, maxGroup int, add func(q *Partial, i int)) *Partial {
	t.Helper()
	var parts []*Partial
	for lo := 0; lo < n; {
		hi := min(n, lo+1+r.IntN(maxGroup))
		var q Partial
		for i := lo; i < hi; i++ {
			add(&q, i)
		}
		back, err := q.Item("AAPL", "1.5", 99).Partial()
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, back)
		lo = hi
	}
	r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	merged := new(Partial)
	for _, q := range parts {
		merged.Merge(q)
	}
	return merged
}

// A window's partial is the same, to the last bit, however its points are
// grouped into partials and in whatever order those are merged, and after
// the partials went through their items.
func TestPartialMergeIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for round := range 200 {
		pts := randomPoints(r, 1+r.IntN(300), round%4 == 0)
		var whole Partial
		for _, p := range pts {
			whole.Add(p.ms, p.disc, p.price, p.volume)
		}
		checkPartial(t, "points one by one", &whole, pts)

		// Random groups (as messages would make), merged in random order.
		merged := mergedInGroups(t, r, len(pts), 40, func(q *Partial, i int) {
			q.Add(pts[i].ms, pts[i].disc, pts[i].price, pts[i].volume)
		})
		checkPartial(t, "partials merged", merged, pts)
		if merged.String() != whole.String() {
			t.Fatalf("merged %v, one by one %v", merged, &whole)
		}
	}
}

// The float sums of today's points change with their order: the exact sums
// are what make the merge order-free (a regression guard for a float
// "optimisation").
func TestFloatSumsWouldDependOnOrder(t *testing.T) {
	pts := []testPoint{{1, 1, 0.1, "1"}, {2, 1, 0.2, "1"}, {3, 1, 0.3, "1"}}
	fwd, rev := 0.0, 0.0
	for i := range pts {
		fwd += pts[i].price * 1
		rev += pts[len(pts)-1-i].price * 1
	}
	if fwd == rev {
		t.Fatal("the example no longer shows order dependence")
	}
	var a, b Partial
	for i := range pts {
		a.Add(pts[i].ms, pts[i].disc, pts[i].price, pts[i].volume)
		q := pts[len(pts)-1-i]
		b.Add(q.ms, q.disc, q.price, q.volume)
	}
	if a.VWAP() != b.VWAP() {
		t.Fatalf("VWAP %v forward, %v reversed", a.VWAP(), b.VWAP())
	}
}

func TestPartialItemSinglePointIsACopy(t *testing.T) {
	var p Partial
	p.Add(1_700_000_000_123, 420_000_000_000_000_000, 190.12, "300")
	it := p.Item("AAPL", PartialSortKey(WindowStart(1_700_000_000_123), "o", "AAPL", []string{"1700000000123.42"}), 5)
	if it.PV != "" || it.Prices != "" {
		t.Fatalf("single-point partial carries its sums: %+v", it)
	}
	if it.OpenKey != "1700000000123.42" || it.CloseKey != it.OpenKey || it.Volume != "300" {
		t.Fatalf("item %+v", it)
	}
	back, err := it.Partial()
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != p.String() {
		t.Fatalf("read back %v, want %v", back, &p)
	}
}

func TestPartialItemErrors(t *testing.T) {
	var p Partial
	p.Add(10, 1, 2, "3")
	p.Add(11, 1, 4, "5.25")
	good := p.Item("AAPL", "0.1", 1)
	for name, mut := range map[string]func(*PartialItem){
		"no trades":               func(it *PartialItem) { it.Trades = 0 },
		"open key":                func(it *PartialItem) { it.OpenKey = "10" },
		"close key":               func(it *PartialItem) { it.CloseKey = "x" },
		"price":                   func(it *PartialItem) { it.High = 0 },
		"volume":                  func(it *PartialItem) { it.Volume = "-1" },
		"pv":                      func(it *PartialItem) { it.PV = "nope" },
		"prices":                  func(it *PartialItem) { it.Prices = "" },
		"negative sum":            func(it *PartialItem) { it.PV = "-0x1p+3" },
		"pv scale":                func(it *PartialItem) { it.PV = "0x1p+3*1e-19" },
		"pv scale text":           func(it *PartialItem) { it.PV = "0x1p+3*1e-02" },
		"pv scale below volume's": func(it *PartialItem) { it.PV = "0x1p+3" },
		"fractional volume":       func(it *PartialItem) { it.Volume = "1.x" },
	} {
		it := good
		mut(&it)
		if _, err := it.Partial(); err == nil {
			t.Errorf("%s: no error for %+v", name, it)
		}
	}
}

func TestPartialSortKey(t *testing.T) {
	start := int64(1_700_000_100_000)
	k1 := PartialSortKey(start, "s3://b/k#v1", "AAPL", []string{"1700000100001.5", "1700000100002.7"})
	if again := PartialSortKey(start, "s3://b/k#v1", "AAPL", []string{"1700000100001.5", "1700000100002.7"}); again != k1 {
		t.Fatalf("same message, different keys %s %s", k1, again)
	}
	lo, hi := PartialRange(start)
	for _, k := range []string{
		k1,
		PartialSortKey(start, "s3://b/k#v2", "AAPL", []string{"1700000100001.5", "1700000100002.7"}),
		PartialSortKey(start, "s3://b/k#v1", "AAPL", []string{"1700000100001.5"}),
		PartialSortKey(start, "s3://b/k#v1", "MSFT", []string{"1700000100001.5", "1700000100002.7"}),
	} {
		ms, _, err := ParseSortKey(k)
		if err != nil || ms != start {
			t.Fatalf("key %s: %d, %v", k, ms, err)
		}
		if k != k1 && k == PartialSortKey(start, "s3://b/k#v1", "AAPL", []string{"1700000100001.5", "1700000100002.7"}) {
			t.Fatalf("distinct messages share key %s", k)
		}
		f, _ := strconv.ParseFloat(k, 64)
		l, _ := strconv.ParseFloat(lo, 64)
		if f < l || hi != strconv.FormatInt(start, 10)+".999999999999999999" {
			t.Fatalf("key %s outside [%s, %s]", k, lo, hi)
		}
	}
	for _, c := range []struct {
		ms   int64
		disc uint64
	}{{5, 1}, {5, 420_000_000_000_000_000}, {1_772_463_600_123, 482_137_904_120_000_000}} {
		key := FormatSortKey(c.ms, c.disc)
		ms, disc, err := ParseSortKey(key)
		if err != nil || ms != c.ms || disc != c.disc {
			t.Errorf("FormatSortKey(%d, %d) = %s, parses to %d %d %v", c.ms, c.disc, key, ms, disc, err)
		}
	}
}

func BenchmarkPartialAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	pts := randomPoints(r, 1024, false)
	var p Partial
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q := pts[i%len(pts)]
		p.Add(q.ms, q.disc, q.price, q.volume)
	}
}

func BenchmarkPartialAddCents(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	pts := make([]testPoint, 1024)
	for i := range pts {
		pts[i] = testPoint{ms: int64(i), disc: 1, price: math.Round((100+r.Float64()*100)*100) / 100, volume: Units(r.Uint64N(1000))}
	}
	var p Partial
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q := pts[i%len(pts)]
		p.Add(q.ms, q.disc, q.price, q.volume)
	}
}
