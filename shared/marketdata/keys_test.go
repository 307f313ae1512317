package marketdata

import (
	"testing"
)

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
	for _, k := range []string{StateKey("AAPL"), AggregateKey("AAPL"), PartialKey("AAPL"), ActiveWindows, report} {
		if ValidSymbol(k) {
			t.Errorf("item hash key %q is a valid symbol: a ticker could collide with it", k)
		}
	}
}

// A report is the content's: the ETag when the event has one, whatever the
// version; the version id only without an ETag.
func TestReportContent(t *testing.T) {
	for _, c := range []struct{ eTag, version, want string }{
		{"e1", "v1", "e1"}, {"e1", "v2", "e1"}, {"e1", "", "e1"}, {"", "v1", "v1"},
	} {
		if got := ReportContent(c.eTag, c.version); got != c.want {
			t.Errorf("ReportContent(%q, %q) = %q, want %q", c.eTag, c.version, got, c.want)
		}
	}
}
