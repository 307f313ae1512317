package marketdata

import (
	"errors"
	"testing"
)

func TestCheckSortKey(t *testing.T) {
	p := Point{Symbol: "AAPL", Timestamp: 1772463600123, Price: 187.25, Volume: 100}
	tests := []struct {
		name string
		key  string
		ms   int64
		ok   bool
	}{
		{"SortKey's own output", SortKey(p, "o", 1), p.Timestamp, true},
		{"one digit", "1772463600123.5", 1772463600123, true},
		{"eighteen digits", "0.123456789012345678", 0, true},
		{"another millisecond", SortKey(p, "o", 1), p.Timestamp + 1, false},
		{"a prefix of the millisecond", "177246360012.5", 1772463600123, false},
		{"no fraction", "1772463600123", 1772463600123, false},
		{"empty fraction", "1772463600123.", 1772463600123, false},
		{"trailing zero", "1772463600123.50", 1772463600123, false},
		{"nineteen digits", "0.1234567890123456789", 0, false},
		{"exponent", "1772463600123.5e0", 1772463600123, false},
		{"letters", "1772463600123.abc", 1772463600123, false},
		{"leading zero", "01772463600123.5", 1772463600123, false},
		{"sign", "+1772463600123.5", 1772463600123, false},
		{"empty", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSortKey(tc.key, tc.ms)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckSortKey(%q, %d) = %v, want ok=%v", tc.key, tc.ms, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrSortKey) {
				t.Fatalf("error %v does not wrap ErrSortKey", err)
			}
		})
	}
}
