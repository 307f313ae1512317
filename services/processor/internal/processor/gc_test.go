package processor

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	share := MemoryLimitShare // a variable: the products below are not whole numbers
	for _, tc := range []struct {
		env       string
		wantLimit int64
	}{
		{"3072", int64(float64(3072<<20) * share)},
		{"128", int64(float64(128<<20) * share)},
		{"", 0}, {"lots", 0}, {"-5", 0},
	} {
		debug.SetMemoryLimit(math.MaxInt64)
		debug.SetGCPercent(100)
		if got := TuneGC(tc.env); got != tc.wantLimit {
			t.Errorf("TuneGC(%q) = %d, want %d", tc.env, got, tc.wantLimit)
		}
		if p := debug.SetGCPercent(100); p != GCPercent {
			t.Errorf("TuneGC(%q): GOGC %d, want %d", tc.env, p, GCPercent)
		}
		want := tc.wantLimit
		if want == 0 {
			want = math.MaxInt64 // untouched
		}
		if l := debug.SetMemoryLimit(-1); l != want {
			t.Errorf("TuneGC(%q): memory limit %d, want %d", tc.env, l, want)
		}
	}
}
