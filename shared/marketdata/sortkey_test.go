package marketdata

import (
	"encoding/binary"
	"errors"
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
// hash/fnv and string padding: the differential tests hold the inlined,
// allocation-free AppendSortKey to it.
func referenceSortKey(p Point, origin string, ordinal int64) string {
	h := fnv.New64a()
	var buf [8]byte
	h.Write([]byte(origin))
	binary.LittleEndian.PutUint64(buf[:], uint64(ordinal))
	h.Write(buf[:])
	h.Write([]byte(p.Symbol))
	for _, v := range [...]uint64{uint64(p.Timestamp), math.Float64bits(p.Price), uint64(p.Volume),
		math.Float64bits(p.Bid), math.Float64bits(p.Ask)} {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	h.Write([]byte(p.Exchange))
	d := h.Sum64() % 1_000_000_000_000_000_000
	if d == 0 {
		d = 1
	}
	frac := strconv.FormatUint(d, 10)
	frac = strings.TrimRight(strings.Repeat("0", 18-len(frac))+frac, "0")
	return strconv.FormatInt(p.Timestamp, 10) + "." + frac
}

func TestAppendSortKeyMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	origins := []string{"", "s3://b/k#v1", "api:0123456789abcdef", strings.Repeat("ö", 300)}
	for i := 0; i < 20000; i++ {
		p := randomPoint(r)
		origin := origins[i%len(origins)]
		ordinal := r.Int64N(1<<40) - 5
		if got, want := sortKey(p, origin, ordinal), referenceSortKey(p, origin, ordinal); got != want {
			t.Fatalf("AppendSortKey(%+v, %q, %d) = %q, reference %q", p, origin, ordinal, got, want)
		}
	}
}

func TestAppendSortKeyNoAlloc(t *testing.T) {
	p := Point{Symbol: "AAPL", Timestamp: 1_700_000_000_000, Price: 1.5, Volume: 3}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendSortKey(buf[:0], p, "s3://b/k#v", 7) }); n != 0 {
		t.Fatalf("AppendSortKey allocates %v times per call", n)
	}
}

func TestSortKeyIdentity(t *testing.T) {
	p := Point{Symbol: "AAPL", Timestamp: 1772463600123, Price: 187.25, Volume: 100}
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
		{"different volume, same millisecond", with(func(q *Point) { q.Volume = 101 }), origin, 7, false},
		{"different exchange, same millisecond", with(func(q *Point) { q.Exchange = "NYSE" }), origin, 7, false},
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
	// Many points in one millisecond: every key parses back to the
	// millisecond, is in canonical DynamoDB number form, fits 38 digits,
	// lies inside MillisRange and is unique.
	seen := map[string]bool{}
	for i := int64(0); i < 100000; i++ {
		p := Point{Symbol: "MSFT", Timestamp: 1772463600123, Price: 410.5, Volume: 10}
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
	p := Point{Symbol: "AAPL", Timestamp: 1772463600123, Price: 187.25, Volume: 100}
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

// TestParseSortKeyOrder checks that (ms, disc) orders keys as their exact
// decimal values (DynamoDB's number order) do.
func TestParseSortKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	keys := make([]string, 2000)
	for i := range keys {
		p := Point{Symbol: "AAPL", Timestamp: 1709649000000 + r.Int64N(3), Price: 1, Volume: r.Int64N(5)}
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
	f.Add("AAPL", int64(1772463600123), 187.25, int64(100), 0.0, 0.0, "", "s3://b/k#v", int64(7), int64(1772463600123), 187.5)
	f.Add("BRK.B", int64(0), 1e-12, int64(0), 1.0, 2.0, "XNYS", "", int64(-1), int64(1), 1e15)
	f.Fuzz(func(t *testing.T, sym string, ms int64, price float64, vol int64, bid, ask float64, exch, origin string, ordinal, ms2 int64, price2 float64) {
		if ms < 0 || ms2 < 0 {
			t.Skip() // Point.Validate refuses them; no key is ever made for one
		}
		p := Point{Symbol: sym, Timestamp: ms, Price: price, Volume: vol, Bid: bid, Ask: ask, Exchange: exch}
		k := sortKey(p, origin, ordinal)
		if want := referenceSortKey(p, origin, ordinal); k != want {
			t.Fatalf("AppendSortKey = %q, reference %q", k, want)
		}
		got, _, err := ParseSortKey(k)
		if err != nil || got != ms {
			t.Fatalf("ParseSortKey(%q) = %d, %v; want %d", k, got, err, ms)
		}
		q := p
		q.Timestamp, q.Price = ms2, price2
		k2 := sortKey(q, origin, ordinal)
		if c, want := compareParsed(t, k, k2), compareDecimal(k, k2); c != want {
			t.Fatalf("order of %s and %s: %d, want %d", k, k2, c, want)
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
