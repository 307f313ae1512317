package marketdata

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestParseSortKey(t *testing.T) {
	tests := []struct {
		key  string
		ms   int64
		disc uint64
	}{
		{"1709649000000.5", 1709649000000, 500_000_000_000_000_000},
		{"1709649000000.05", 1709649000000, 50_000_000_000_000_000},
		{"1709649000000.000000000000000001", 1709649000000, 1},
		{"1709649000000.999999999999999999", 1709649000000, 999_999_999_999_999_999},
		{"1709649000000", 1709649000000, 0},
		{"0.1", 0, 100_000_000_000_000_000},
	}
	for _, tt := range tests {
		ms, disc, err := ParseSortKey(tt.key)
		if err != nil || ms != tt.ms || disc != tt.disc {
			t.Errorf("ParseSortKey(%q) = %d, %d, %v; want %d, %d", tt.key, ms, disc, err, tt.ms, tt.disc)
		}
	}
	for _, bad := range []string{"", ".5", "-1.5", "+1.5", "1.5e3", "1.x", "1.0000000000000000001", "abc", "1..2"} {
		if _, _, err := ParseSortKey(bad); !errors.Is(err, ErrSortKey) {
			t.Errorf("ParseSortKey(%q) err = %v, want ErrSortKey", bad, err)
		}
	}
}

// TestParseSortKeyOrder checks that (ms, disc) orders SortKey keys as their
// exact decimal values do.
func TestParseSortKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	keys := make([]string, 2000)
	for i := range keys {
		p := Point{Symbol: "AAPL", Timestamp: 1709649000000 + r.Int64N(3), Price: 1, Volume: r.Int64N(5)}
		keys[i] = SortKey(p, "o", r.Int64())
	}
	rat := func(s string) *big.Rat { v, _ := new(big.Rat).SetString(s); return v }
	for i := 0; i+1 < len(keys); i++ {
		a, b := keys[i], keys[i+1]
		ams, ad, err1 := ParseSortKey(a)
		bms, bd, err2 := ParseSortKey(b)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		got := 0
		switch {
		case ams < bms || ams == bms && ad < bd:
			got = -1
		case ams > bms || ams == bms && ad > bd:
			got = 1
		}
		if want := rat(a).Cmp(rat(b)); got != want {
			t.Fatalf("order of %s and %s: %d, want %d", a, b, got, want)
		}
		if strconv.FormatInt(ams, 10) != a[:len(strconv.FormatInt(ams, 10))] {
			t.Fatalf("ms of %s: %d", a, ams)
		}
	}
}
