package marketdata

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// sortKey is AppendSortKey as a string, for tests.
func sortKey(p Point, origin string, ordinal int64) string {
	return string(AppendSortKey(nil, p, origin, ordinal))
}

// referenceSortKey is the key format written the slow, obvious way, with
// hash/fnv, fmt and string padding: the differential tests hold the
// inlined, allocation-free AppendSortKey to it. The discriminator is the
// sub-millisecond nanoseconds in 6 digits, then the hash in 12.
func referenceSortKey(p Point, origin string, ordinal int64) string {
	h := legacyHash(p, origin, ordinal)
	frac := fmt.Sprintf("%06d%012d", p.SubMilliNanos, h%1_000_000_000_000)
	if strings.Trim(frac, "0") == "" {
		frac = "000000000000000001"
	}
	return strconv.FormatInt(p.Timestamp, 10) + "." + strings.TrimRight(frac, "0")
}

// legacySortKey is the key written before the sub-millisecond nanoseconds
// were kept: all 18 digits hashed. Such keys are still in the table.
func legacySortKey(p Point, origin string, ordinal int64) string {
	d := legacyHash(p, origin, ordinal) % 1_000_000_000_000_000_000
	if d == 0 {
		d = 1
	}
	frac := strconv.FormatUint(d, 10)
	frac = strings.TrimRight(strings.Repeat("0", 18-len(frac))+frac, "0")
	return strconv.FormatInt(p.Timestamp, 10) + "." + frac
}

// legacyHash is the FNV-1a hash of the point, origin and ordinal (both
// layouts hash the same inputs).
func legacyHash(p Point, origin string, ordinal int64) uint64 {
	h := fnv.New64a()
	var buf [8]byte
	h.Write([]byte(origin))
	binary.LittleEndian.PutUint64(buf[:], uint64(ordinal))
	h.Write(buf[:])
	h.Write([]byte(p.Symbol))
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	word(uint64(p.Timestamp))
	word(math.Float64bits(p.Price))
	// An integer volume as the int64 it used to be; a fraction as a marker
	// word and its text.
	if n, err := strconv.ParseUint(p.Volume.String(), 10, 64); err == nil {
		word(n)
	} else {
		word(0xfdfdfdfdfdfdfdfd)
		h.Write([]byte(p.Volume))
	}
	word(math.Float64bits(p.Bid))
	word(math.Float64bits(p.Ask))
	h.Write([]byte(p.Exchange))
	h.Write([]byte(p.Conditions))
	return h.Sum64()
}

func TestAppendSortKeyMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	origins := []string{"", "s3://b/k#v1", "api:0123456789abcdef", strings.Repeat("ö", 300)}
	for i := 0; i < 20000; i++ {
		p := randomPoint(r)
		switch i % 3 {
		case 1:
			p.SubMilliNanos = r.Int32N(NanosPerMilli)
		case 2:
			p.SubMilliNanos = NanosPerMilli - 1 - r.Int32N(3)
		}
		origin := origins[i%len(origins)]
		ordinal := r.Int64N(1<<40) - 5
		if got, want := sortKey(p, origin, ordinal), referenceSortKey(p, origin, ordinal); got != want {
			t.Fatalf("AppendSortKey(%+v, %q, %d) = %q, reference %q", p, origin, ordinal, got, want)
		}
	}
}

func TestAppendSortKeyNoAlloc(t *testing.T) {
	p := Point{Symbol: "AAPL", Timestamp: 1_700_000_000_000, Price: 1.5, Volume: "3"}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendSortKey(buf[:0], p, "s3://b/k#v", 7) }); n != 0 {
		t.Fatalf("AppendSortKey allocates %v times per call", n)
	}
}

func TestSortKeyIdentity(t *testing.T) {
	p := Point{Symbol: "AAPL", Timestamp: 1772463600123, Price: 187.25, Volume: "100"}
	const origin = "s3://market-data-dev/2026/03/02/ticks.csv#v1"
	with := func(f func(*Point)) Point { q := p; f(&q); return q }
	cases := []struct {
		name     string
		q        Point
		origin   string
		ordinal  int64
		wantSame bool
	}{
		{"re-delivery of the same point from the same place", p, origin, 7, true},
		{"identical trades on two lines of one file", p, origin, 8, false},
		{"same line of another object version", p, origin + "2", 7, false},
		{"different price, same millisecond", with(func(q *Point) { q.Price = 187.26 }), origin, 7, false},
		{"different volume, same millisecond", with(func(q *Point) { q.Volume = "101" }), origin, 7, false},
		{"different exchange, same millisecond", with(func(q *Point) { q.Exchange = "NYSE" }), origin, 7, false},
		{"one nanosecond later, same millisecond", with(func(q *Point) { q.SubMilliNanos++ }), origin, 7, false},
	}
	a := sortKey(p, origin, 7)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := sortKey(c.q, c.origin, c.ordinal)
			if (a == b) != c.wantSame {
				t.Errorf("keys %s and %s: same=%v, want %v", a, b, a == b, c.wantSame)
			}
		})
	}
}

func TestSortKeyForm(t *testing.T) {
	// Many points in one millisecond, most in one nanosecond (so only the
	// 12 hashed digits tell them apart): every key parses back to the
	// millisecond, is in canonical DynamoDB number form, fits 38 digits,
	// lies inside MillisRange and is unique.
	seen := map[string]bool{}
	for i := int64(0); i < 100000; i++ {
		p := Point{Symbol: "MSFT", Timestamp: 1772463600123, Price: 410.5, Volume: "10"}
		switch i % 10 {
		case 1:
			p.SubMilliNanos = NanosPerMilli - 1
		case 2:
			p.SubMilliNanos = int32(i % NanosPerMilli)
		}
		k := sortKey(p, "api:0f3a", i)
		if seen[k] {
			t.Fatalf("duplicate key %s at ordinal %d", k, i)
		}
		seen[k] = true
		ms, disc, err := ParseSortKey(k)
		if err != nil || ms != p.Timestamp || disc == 0 {
			t.Fatalf("ParseSortKey(%s) = %d, %d, %v", k, ms, disc, err)
		}
		if strings.HasSuffix(k, "0") || strings.HasSuffix(k, ".") {
			t.Fatalf("key %s is not in canonical number form", k)
		}
		if digits := len(strings.Replace(k, ".", "", 1)); digits > 38 {
			t.Fatalf("key %s has %d digits", k, digits)
		}
		lo, hi := MillisRange(p.Timestamp, p.Timestamp+1)
		if !(lo < k && k <= hi) { // same integer part, so string order is numeric order here
			t.Fatalf("key %s outside [%s, %s]", k, lo, hi)
		}
	}
}

func TestParseSortKey(t *testing.T) {
	p := Point{Symbol: "AAPL", Timestamp: 1772463600123, Price: 187.25, Volume: "100"}
	tests := []struct {
		name string
		key  string
		ms   int64
		disc uint64
		ok   bool
	}{
		{"AppendSortKey's own output", sortKey(p, "o", 1), p.Timestamp, 0, true}, // disc checked by the differential tests
		{"one digit", "1709649000000.5", 1709649000000, 500_000_000_000_000_000, true},
		{"leading zero in the fraction", "1709649000000.05", 1709649000000, 50_000_000_000_000_000, true},
		{"smallest discriminator", "1709649000000.000000000000000001", 1709649000000, 1, true},
		{"eighteen nines", "1709649000000.999999999999999999", 1709649000000, 999_999_999_999_999_999, true},
		{"epoch zero", "0.1", 0, 100_000_000_000_000_000, true},
		{"no fraction", "1772463600123", 0, 0, false},
		{"empty fraction", "1772463600123.", 0, 0, false},
		{"trailing zero", "1772463600123.50", 0, 0, false},
		{"nineteen digits", "0.1234567890123456789", 0, 0, false},
		{"exponent", "1772463600123.5e0", 0, 0, false},
		{"letters", "1772463600123.abc", 0, 0, false},
		{"leading zero", "01772463600123.5", 0, 0, false},
		{"plus sign", "+1772463600123.5", 0, 0, false},
		{"negative", "-1.5", 0, 0, false},
		{"no milliseconds", ".5", 0, 0, false},
		{"two points", "1..2", 0, 0, false},
		{"milliseconds overflow", "99999999999999999999.5", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, disc, err := ParseSortKey(tc.key)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseSortKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrSortKey) {
					t.Fatalf("error %v does not wrap ErrSortKey", err)
				}
				return
			}
			if ms != tc.ms || tc.disc != 0 && disc != tc.disc {
				t.Fatalf("ParseSortKey(%q) = %d, %d; want %d, %d", tc.key, ms, disc, tc.ms, tc.disc)
			}
		})
	}
}

// Keys sort by time to the nanosecond: of two points of one millisecond,
// the one with fewer nanoseconds within it has the smaller key, whatever
// the hash of either, and equal nanoseconds order by hash. The cases where
// the hash alone (the old layout) would order them the other way are
// counted, so the test is known to exercise them.
func TestSortKeyOrdersByNanos(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	reversedByHash := 0
	for i := 0; i < 20000; i++ {
		a := Point{Symbol: "AAPL", Timestamp: 1717162202123, Price: 190 + float64(r.IntN(100))/100, Volume: Units(1 + r.Uint64N(500))}
		b := a
		b.Price, b.Volume = 190+float64(r.IntN(100))/100, Units(1+r.Uint64N(500))
		a.SubMilliNanos = r.Int32N(NanosPerMilli - 1)
		b.SubMilliNanos = a.SubMilliNanos + 1 + r.Int32N(NanosPerMilli-1-a.SubMilliNanos)
		if i%4 == 0 {
			b.SubMilliNanos = a.SubMilliNanos + 1 // adjacent nanoseconds
		}
		ka, kb := sortKey(a, "s3://b/polygon.csv#v1", r.Int64N(1e6)), sortKey(b, "s3://b/polygon.csv#v1", r.Int64N(1e6))
		if compareParsed(t, ka, kb) >= 0 || compareDecimal(ka, kb) >= 0 {
			t.Fatalf("%d ns -> %s does not sort before %d ns -> %s", a.SubMilliNanos, ka, b.SubMilliNanos, kb)
		}
		_, da, _ := ParseSortKey(ka)
		_, db, _ := ParseSortKey(kb)
		if int32(da/hashModulus) != a.SubMilliNanos || int32(db/hashModulus) != b.SubMilliNanos {
			t.Fatalf("keys %s, %s do not lead with %06d, %06d", ka, kb, a.SubMilliNanos, b.SubMilliNanos)
		}
		if da%hashModulus > db%hashModulus {
			reversedByHash++
		}
	}
	if reversedByHash < 5000 {
		t.Fatalf("only %d pairs whose hashes order them the other way; the test exercises too few", reversedByHash)
	}
}

// Every key is a function of the point, its origin and ordinal alone: the
// same inputs give the same key (a re-delivery overwrites itself); and
// within one nanosecond of one millisecond, distinct positions give
// distinct keys.
func TestSortKeyIdempotentAndDistinct(t *testing.T) {
	p := Point{Symbol: "BTCUSDT", Timestamp: 1735776000123, SubMilliNanos: 456_000, Price: 94000.1, Volume: "2"}
	seen := make(map[string]int64, 200000)
	for ord := int64(0); ord < 200000; ord++ {
		k := sortKey(p, "s3://b/BTCUSDT-aggTrades-2025-01-02.zip#v1", ord)
		if again := sortKey(p, "s3://b/BTCUSDT-aggTrades-2025-01-02.zip#v1", ord); again != k {
			t.Fatalf("ordinal %d: %s, then %s", ord, k, again)
		}
		if prev, dup := seen[k]; dup {
			t.Fatalf("ordinals %d and %d collide on %s", prev, ord, k)
		}
		seen[k] = ord
		if !strings.HasPrefix(k, "1735776000123.456") {
			t.Fatalf("key %s does not lead with the millisecond and 456000 ns", k)
		}
	}
}

// Keys written before the nanoseconds were kept still parse, to their
// millisecond, and stay inside its MillisRange.
func TestLegacySortKeyParses(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 5000; i++ {
		p := randomPoint(r)
		k := legacySortKey(p, "s3://b/k#v", int64(i))
		ms, disc, err := ParseSortKey(k)
		if err != nil || ms != p.Timestamp || disc == 0 {
			t.Fatalf("ParseSortKey(%s) = %d, %d, %v", k, ms, disc, err)
		}
		if FormatSortKey(ms, disc) != k {
			t.Fatalf("FormatSortKey(ParseSortKey(%s)) = %s", k, FormatSortKey(ms, disc))
		}
		lo, hi := MillisRange(p.Timestamp, p.Timestamp+1)
		if compareDecimal(lo, k) >= 0 || compareDecimal(k, hi) > 0 {
			t.Fatalf("key %s outside [%s, %s]", k, lo, hi)
		}
	}
}

// TestParseSortKeyOrder checks that (ms, disc) orders keys as their exact
// decimal values (DynamoDB's number order) do.
func TestParseSortKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	keys := make([]string, 2000)
	for i := range keys {
		p := Point{Symbol: "AAPL", Timestamp: 1709649000000 + r.Int64N(3), Price: 1, Volume: Units(r.Uint64N(5)),
			SubMilliNanos: r.Int32N(3) * r.Int32N(NanosPerMilli)}
		keys[i] = sortKey(p, "o", r.Int64())
	}
	for i := 0; i+1 < len(keys); i++ {
		if got, want := compareParsed(t, keys[i], keys[i+1]), compareDecimal(keys[i], keys[i+1]); got != want {
			t.Fatalf("order of %s and %s: %d, want %d", keys[i], keys[i+1], got, want)
		}
	}
}

func compareParsed(t testing.TB, a, b string) int {
	ams, ad, err1 := ParseSortKey(a)
	bms, bd, err2 := ParseSortKey(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	switch {
	case ams < bms || ams == bms && ad < bd:
		return -1
	case ams > bms || ams == bms && ad > bd:
		return 1
	}
	return 0
}

func compareDecimal(a, b string) int {
	x, _ := new(big.Rat).SetString(a)
	y, _ := new(big.Rat).SetString(b)
	return x.Cmp(y)
}

// FuzzSortKey holds the fast formatter to the reference one, and the parser
// to the formatter: every key parses back to the point's millisecond and to
// a discriminator that orders it as its decimal value does.
func FuzzSortKey(f *testing.F) {
	f.Add("AAPL", int64(1772463600123), 187.25, "100", 0.0, 0.0, "", "s3://b/k#v", int64(7), int64(1772463600123), 187.5, int32(0), int32(0))
	f.Add("BRK.B", int64(0), 1e-12, "0", 1.0, 2.0, "XNYS", "", int64(-1), int64(1), 1e15, int32(999_999), int32(1))
	f.Add("BTCUSDT", int64(1735776000123), 94000.1, "0.00150000", 0.0, 0.0, "", "o", int64(3), int64(1735776000123), 94000.2, int32(456_000), int32(455_999))
	f.Fuzz(func(t *testing.T, sym string, ms int64, price float64, volText string, bid, ask float64, exch, origin string, ordinal, ms2 int64, price2 float64, ns, ns2 int32) {
		vol, err := ParseDecimal(volText)
		if ms < 0 || ms2 < 0 || ns < 0 || ns >= NanosPerMilli || ns2 < 0 || ns2 >= NanosPerMilli || err != nil {
			t.Skip() // Point.Validate refuses them; no key is ever made for one
		}
		p := Point{Symbol: sym, Timestamp: ms, Price: price, Volume: vol, Bid: bid, Ask: ask, Exchange: exch, SubMilliNanos: ns}
		k := sortKey(p, origin, ordinal)
		if want := referenceSortKey(p, origin, ordinal); k != want {
			t.Fatalf("AppendSortKey = %q, reference %q", k, want)
		}
		got, _, err := ParseSortKey(k)
		if err != nil || got != ms {
			t.Fatalf("ParseSortKey(%q) = %d, %v; want %d", k, got, err, ms)
		}
		q := p
		q.Timestamp, q.Price, q.SubMilliNanos = ms2, price2, ns2
		k2 := sortKey(q, origin, ordinal)
		if c, want := compareParsed(t, k, k2), compareDecimal(k, k2); c != want {
			t.Fatalf("order of %s and %s: %d, want %d", k, k2, c, want)
		}
		// Time orders first, to the nanosecond.
		if t1, t2 := ms*NanosPerMilli+int64(ns), ms2*NanosPerMilli+int64(ns2); ms < 1<<40 && ms2 < 1<<40 && t1 != t2 {
			if (t1 < t2) != (compareParsed(t, k, k2) < 0) {
				t.Fatalf("%d+%dns -> %s and %d+%dns -> %s are out of time order", ms, ns, k, ms2, ns2, k2)
			}
		}
	})
}

// FuzzParseSortKey: whatever ParseSortKey accepts is in canonical form, i.e.
// formatting its parts again gives back the very same string.
func FuzzParseSortKey(f *testing.F) {
	for _, s := range []string{"1772463600123.48213790412", "0.1", "1.50", "01.5", "1.", ".5", "+1.5", "1.5e3", "",
		"999999999999999999.5", "9223372036854775807.5", "9223372036854775808.5", "99999999999999999999.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, disc, err := ParseSortKey(s)
		if err != nil {
			if !errors.Is(err, ErrSortKey) {
				t.Fatalf("error %v does not wrap ErrSortKey", err)
			}
			return
		}
		frac := strconv.FormatUint(disc, 10)
		frac = strings.TrimRight(strings.Repeat("0", sortKeyDigits-len(frac))+frac, "0")
		if back := strconv.FormatInt(ms, 10) + "." + frac; back != s || disc == 0 {
			t.Fatalf("ParseSortKey(%q) = %d, %d, which reads %q", s, ms, disc, back)
		}
	})
}

// Two trades of one millisecond whose hashes order them against their
// nanoseconds: a window's open and close, which break ties by the range
// key's discriminator (Partial), are the earlier and the later trade, in
// either order of arrival. With the old all-hash keys they came out swapped.
func TestOpenCloseFollowNanos(t *testing.T) {
	const origin = "s3://market-data-dev/polygon-trades.csv#v1"
	first := Point{Symbol: "AAPL", Timestamp: 1717162202123, SubMilliNanos: 100_200, Price: 190.01, Volume: "100"}
	last := Point{Symbol: "AAPL", Timestamp: 1717162202123, SubMilliNanos: 100_201, Price: 190.50, Volume: "5"}
	// The first ordinals (lines) for which the hash alone puts last first.
	var ordFirst, ordLast int64
	for ordFirst = 1; ; ordFirst++ {
		ordLast = ordFirst + 1
		if legacySortKey(last, origin, ordLast) < legacySortKey(first, origin, ordFirst) {
			break
		}
	}
	keys := func(key func(Point, string, int64) string) [2]string {
		return [2]string{key(first, origin, ordFirst), key(last, origin, ordLast)}
	}
	openClose := func(k [2]string, order [2]int) (open, close float64) {
		var p Partial
		pts := [2]Point{first, last}
		for _, i := range order {
			ms, disc, err := ParseSortKey(k[i])
			if err != nil {
				t.Fatal(err)
			}
			p.Add(ms, disc, pts[i].Price, pts[i].Volume)
		}
		return p.Open, p.Close
	}
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		if open, close := openClose(keys(sortKey), order); open != first.Price || close != last.Price {
			t.Errorf("arrival %v: open %v close %v, want %v %v (keys %v)", order, open, close, first.Price, last.Price, keys(sortKey))
		}
		if open, close := openClose(keys(legacySortKey), order); open != last.Price || close != first.Price {
			t.Errorf("arrival %v: the all-hash keys %v gave open %v close %v: the case does not test the nanoseconds", order, keys(legacySortKey), open, close)
		}
	}
}
