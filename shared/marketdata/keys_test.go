package marketdata

import (
	"strings"
	"testing"
)

func TestSortKeyIdentity(t *testing.T) {
	p := Point{Symbol: "AAPL", Timestamp: 1772463600123, Price: 187.25, Volume: 100}
	const origin = "s3://market-data-dev/2026/03/02/ticks.csv#v1"
	cases := []struct {
		name     string
		a, b     func() string
		wantSame bool
	}{
		{"re-delivery of the same point from the same place", func() string { return SortKey(p, origin, 7) },
			func() string { return SortKey(p, origin, 7) }, true},
		{"identical trades on two lines of one file", func() string { return SortKey(p, origin, 7) },
			func() string { return SortKey(p, origin, 8) }, false},
		{"same line of another object version", func() string { return SortKey(p, origin, 7) },
			func() string { return SortKey(p, origin+"2", 7) }, false},
		{"different price, same millisecond", func() string { return SortKey(p, origin, 7) },
			func() string { q := p; q.Price = 187.26; return SortKey(q, origin, 7) }, false},
		{"different volume, same millisecond", func() string { return SortKey(p, origin, 7) },
			func() string { q := p; q.Volume = 101; return SortKey(q, origin, 7) }, false},
		{"different exchange, same millisecond", func() string { return SortKey(p, origin, 7) },
			func() string { q := p; q.Exchange = "NYSE"; return SortKey(q, origin, 7) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := c.a(), c.b()
			if (a == b) != c.wantSame {
				t.Errorf("keys %s and %s: same=%v, want %v", a, b, a == b, c.wantSame)
			}
		})
	}
}

func TestSortKeyForm(t *testing.T) {
	// Many points in one millisecond: every key starts with the millisecond,
	// is in canonical DynamoDB number form, fits 38 digits, and is unique.
	seen := map[string]bool{}
	for i := int64(0); i < 100000; i++ {
		p := Point{Symbol: "MSFT", Timestamp: 1772463600123, Price: 410.5, Volume: 10}
		k := SortKey(p, "api:0f3a", i)
		if seen[k] {
			t.Fatalf("duplicate key %s at ordinal %d", k, i)
		}
		seen[k] = true
		ms, err := SortKeyMillis(k)
		if err != nil || ms != p.Timestamp {
			t.Fatalf("SortKeyMillis(%s) = %d, %v", k, ms, err)
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

func TestWindows(t *testing.T) {
	cases := []struct{ ms, start int64 }{
		{0, 0},
		{299_999, 0},
		{300_000, 300_000},
		{1772463600123, 1772463600000},
		{1772463899999, 1772463600000},
	}
	for _, c := range cases {
		if got := WindowStart(c.ms); got != c.start {
			t.Errorf("WindowStart(%d) = %d, want %d", c.ms, got, c.start)
		}
		if got := WindowEnd(c.start); got != c.start+300_000 {
			t.Errorf("WindowEnd(%d) = %d", c.start, got)
		}
	}
}

func TestKeyPatternsCannotCollideWithSymbols(t *testing.T) {
	report, _ := ReportKey("market-data-dev", "ticks.csv", "v1")
	for _, k := range []string{StateKey("AAPL"), AggregateKey("AAPL"), ActiveWindows, report} {
		if ValidSymbol(k) {
			t.Errorf("item hash key %q is a valid symbol: a ticker could collide with it", k)
		}
	}
}
