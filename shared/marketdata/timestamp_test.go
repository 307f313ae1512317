package marketdata

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestEpochMillis(t *testing.T) {
	march1 := time.Date(2024, 3, 1, 14, 30, 0, 0, time.UTC)
	cases := []struct {
		n    int64
		ms   int64
		sub  int32  // nanoseconds within the millisecond
		unit string // "" fits none
	}{
		{march1.Unix(), march1.UnixMilli(), 0, "s"},
		{march1.UnixMilli(), march1.UnixMilli(), 0, "ms"},
		{march1.UnixMicro() + 999, march1.UnixMilli(), 999_000, "us"},
		{march1.UnixMicro() + 1, march1.UnixMilli(), 1_000, "us"},
		{march1.UnixNano() + 999_999, march1.UnixMilli(), 999_999, "ns"},
		{march1.UnixNano() + 1, march1.UnixMilli(), 1, "ns"},
		{march1.UnixNano() + 1_000_000, march1.UnixMilli() + 1, 0, "ns"},
		{1e8 - 1, 0, 0, ""},
		{1e10, 0, 0, ""},
		{1e11 - 1, 0, 0, ""},
		{1e13, 0, 0, ""},
		{1e14 - 1, 0, 0, ""},
		{1e16, 0, 0, ""},
		{1e17 - 1, 0, 0, ""},
		{0, 0, 0, ""},
		{-1, 0, 0, ""},
	}
	for _, tc := range cases {
		ms, sub, unit, ok := EpochMillis(tc.n)
		if ok != (tc.unit != "") || unit != tc.unit || ms != tc.ms || sub != tc.sub {
			t.Errorf("EpochMillis(%d) = %d+%dns %q %v, want %d+%dns %q", tc.n, ms, sub, unit, ok, tc.ms, tc.sub, tc.unit)
		}
	}
}

// The units do not overlap, each covers every plausible market date, and
// no unit can be mistaken for another by a factor of 10.
func TestTimestampUnitsTable(t *testing.T) {
	plausibleFrom, plausibleTo := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, u := range TimestampUnits {
		if u.Min > u.Max {
			t.Fatalf("%s: empty range", u.Name)
		}
		if i > 0 && TimestampUnits[i-1].Max*10 >= u.Min {
			t.Errorf("%s and %s are less than a factor of 10 apart", TimestampUnits[i-1].Name, u.Name)
		}
		first, last := u.Span()
		if first.After(plausibleFrom) || last.Before(plausibleTo) {
			t.Errorf("%s spans %s..%s, want at least %s..%s", u.Name, first, last, plausibleFrom, plausibleTo)
		}
	}
}

// The README's data contract states the ranges as the table has them.
func TestTimestampUnitsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range TimestampUnitsTable() {
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md does not hold the row %q", row)
		}
	}
}
