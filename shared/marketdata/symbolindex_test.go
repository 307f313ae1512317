package marketdata

import (
	"math/big"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/limits"
)

func indexKey(t *testing.T, s string) *big.Int {
	t.Helper()
	k, err := SymbolIndexKey(s)
	if err != nil {
		t.Fatalf("SymbolIndexKey(%q): %v", s, err)
	}
	n, ok := new(big.Int).SetString(k, 10)
	if !ok {
		t.Fatalf("SymbolIndexKey(%q) = %q: not an integer", s, k)
	}
	return n
}

func TestSymbolIndexKey(t *testing.T) {
	// Sorted symbols must get strictly increasing keys.
	sorted := []string{"0", "A", "A-B", "A.B", "A0", "AA", "AAPL", "B", "BRK.A", "BRK.B", "BTC-USD", "Z",
		strings.Repeat("Z", limits.MaxSymbolLen)}
	for i := 1; i < len(sorted); i++ {
		if indexKey(t, sorted[i-1]).Cmp(indexKey(t, sorted[i])) >= 0 {
			t.Errorf("key(%q) >= key(%q)", sorted[i-1], sorted[i])
		}
	}
	longest, _ := SymbolIndexKey(strings.Repeat("Z", limits.MaxSymbolLen))
	if len(longest) > 38 {
		t.Errorf("largest key %s has %d digits; DynamoDB keeps 38", longest, len(longest))
	}
	for _, bad := range []string{"", "aapl", "-A", strings.Repeat("A", limits.MaxSymbolLen+1)} {
		if _, err := SymbolIndexKey(bad); err == nil {
			t.Errorf("SymbolIndexKey(%q): no error", bad)
		}
	}
}

// FuzzSymbolIndexKey checks that the key order is the symbol order and that
// distinct symbols never share a key.
func FuzzSymbolIndexKey(f *testing.F) {
	f.Add("AAPL", "AAPL.B")
	f.Add("BTC-USD", "BTC")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !ValidSymbol(a) || !ValidSymbol(b) {
			return
		}
		if got, want := indexKey(t, a).Cmp(indexKey(t, b)), strings.Compare(a, b); got != want {
			t.Errorf("compare keys of %q, %q = %d, symbols compare %d", a, b, got, want)
		}
	})
}
