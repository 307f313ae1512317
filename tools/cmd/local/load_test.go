package main

import (
	"testing"
	"time"
)

func TestReasonClass(t *testing.T) {
	for reason, want := range map[string]string{
		"invalid price -189.5: want a finite number > 0":                   "invalid price",
		"invalid timestamp 1795938572973: more than 24h0m0s in the future": "invalid timestamp",
		`invalid symbol "msft": want 1-16 of A-Z 0-9 . -`:                  "invalid symbol",
		"invalid bid/ask: bid 251.6 > ask 251.3":                           "invalid bid/ask",
		"missing price":                                                    "missing price",
	} {
		if got := reasonClass(reason); got != want {
			t.Errorf("reasonClass(%q) = %q, want %q", reason, got, want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := percentile(ds, .5); p != 50*time.Millisecond {
		t.Errorf("p50 = %s", p)
	}
	if p := percentile(ds, .99); p != 99*time.Millisecond {
		t.Errorf("p99 = %s", p)
	}
	if p := percentile(nil, .5); p != 0 {
		t.Errorf("p50 of nothing = %s", p)
	}
}
