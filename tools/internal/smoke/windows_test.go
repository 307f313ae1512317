package smoke

import (
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

func TestExpectedWindowsByHand(t *testing.T) {
	const w = 1_700_000_100_000 // a window start (a multiple of 300 000 ms)
	pts := []marketdata.Point{
		{Symbol: "X", Timestamp: w + 5000, Price: 11, Volume: "10"},
		{Symbol: "X", Timestamp: w + 1000, Price: 10, Volume: "30"}, // earliest: open
		{Symbol: "X", Timestamp: w + 9000, Price: 9, Volume: "20"},  // latest: close
		{Symbol: "X", Timestamp: w + 7000, Price: 12, Volume: "40"},
		{Symbol: "X", Timestamp: w + 300_000, Price: 7, Volume: "0"}, // next window, no volume
	}
	got := ExpectedWindows(pts)
	if len(got) != 2 {
		t.Fatalf("%d windows, want 2: %v", len(got), got)
	}
	// By hand: volume 10+30+20+40 = 100; Σ p·v = 110+300+180+480 = 1070.
	want := marketdata.Aggregate{Symbol: "X", WindowStart: w, WindowEnd: w + 300_000, Open: 10, High: 12, Low: 9, Close: 9,
		Volume: "100", VWAP: 10.7, Trades: 4, FirstTs: w + 1000, LastTs: w + 9000}
	if got[w] != want {
		t.Errorf("window %d:\n got %+v\nwant %+v", w, got[w], want)
	}
	next := got[w+300_000]
	// Without volume, VWAP is the mean price, as the aggregator defines it.
	if next.Trades != 1 || next.Open != 7 || next.Close != 7 || next.Volume != "0" || next.VWAP != 7 {
		t.Errorf("one-trade window without volume: %+v", next)
	}
}

// TestExpectedWindowsConditions: sale conditions applied by hand from the
// table: 37 (odd lot) and 2 (average price) count in the volume only, 33
// (sold out of sequence) sets high/low but not open/close, 15 (official
// close) counts nowhere but in the trades.
func TestExpectedWindowsConditions(t *testing.T) {
	const w = 1_700_000_100_000
	pts := []marketdata.Point{
		{Symbol: "X", Timestamp: w + 1000, Price: 10, Volume: "30", Conditions: "37"}, // not the open
		{Symbol: "X", Timestamp: w + 2000, Price: 11, Volume: "10", Conditions: "0"},  // the open
		{Symbol: "X", Timestamp: w + 3000, Price: 15, Volume: "20", Conditions: "33"}, // the high, not the close
		{Symbol: "X", Timestamp: w + 4000, Price: 12, Volume: "40"},                   // the close
		{Symbol: "X", Timestamp: w + 5000, Price: 20, Volume: "50", Conditions: "15"}, // nowhere
		// The next window: average-price trades only, no price fields.
		{Symbol: "X", Timestamp: w + 300_000, Price: 7, Volume: "1", Conditions: "2"},
		{Symbol: "X", Timestamp: w + 300_001, Price: 9, Volume: "3", Conditions: "14,2"},
	}
	got := ExpectedWindows(pts)
	// Volume 30+10+20+40 = 100; Σ p·v = 300+110+300+480 = 1190.
	want := marketdata.Aggregate{Symbol: "X", WindowStart: w, WindowEnd: w + 300_000, Open: 11, High: 15, Low: 11, Close: 12,
		Volume: "100", VWAP: 11.9, Trades: 5, Excluded: 2, FirstTs: w + 2000, LastTs: w + 4000}
	if got[w] != want {
		t.Errorf("window %d:\n got %+v\nwant %+v", w, got[w], want)
	}
	// Volume 4; Σ p·v = 7+27 = 34.
	want = marketdata.Aggregate{Symbol: "X", WindowStart: w + 300_000, WindowEnd: w + 600_000,
		Volume: "4", VWAP: 8.5, Trades: 2, Excluded: 2}
	if got[w+300_000] != want {
		t.Errorf("window without prices:\n got %+v\nwant %+v", got[w+300_000], want)
	}
}

func TestCompareWindows(t *testing.T) {
	const w = 1_700_000_100_000
	base := marketdata.Aggregate{Symbol: "X", WindowStart: w, WindowEnd: w + 300_000, Open: 10, High: 12, Low: 9, Close: 9.5,
		Volume: "100", VWAP: 10.7, Trades: 4, FirstTs: w + 1000, LastTs: w + 9000}
	want := map[int64]marketdata.Aggregate{w: base}
	edit := func(f func(*marketdata.Aggregate)) []marketdata.Aggregate {
		a := base
		f(&a)
		return []marketdata.Aggregate{a}
	}
	tests := []struct {
		name   string
		got    []marketdata.Aggregate
		relTol float64
		// wantErr lists what the message must hold; nil: no error.
		wantErr []string
	}{
		{"equal", []marketdata.Aggregate{base}, 0, nil},
		{"open", edit(func(a *marketdata.Aggregate) { a.Open = 10.25 }), 0, []string{"open: expected 10, saw 10.25"}},
		{"high", edit(func(a *marketdata.Aggregate) { a.High = 11 }), 0, []string{"high: expected 12, saw 11"}},
		{"low", edit(func(a *marketdata.Aggregate) { a.Low = 8 }), 0, []string{"low: expected 9, saw 8"}},
		{"close", edit(func(a *marketdata.Aggregate) { a.Close = 9 }), 0, []string{"close: expected 9.5, saw 9"}},
		{"volume", edit(func(a *marketdata.Aggregate) { a.Volume = "99" }), 0, []string{"volume: expected 100, saw 99"}},
		{"trades", edit(func(a *marketdata.Aggregate) { a.Trades = 3 }), 0, []string{"trades: expected 4, saw 3"}},
		{"excluded trades", edit(func(a *marketdata.Aggregate) { a.Excluded = 1 }), 0, []string{"excludedTrades: expected 0, saw 1"}},
		{"last ulp of vwap is a difference when exact", edit(func(a *marketdata.Aggregate) { a.VWAP = 10.700000000000001 }), 0,
			[]string{"vwap: expected 10.7, saw 10.700000000000001"}},
		{"last ulp of vwap within a tolerance", edit(func(a *marketdata.Aggregate) { a.VWAP = 10.700000000000001 }), 1e-9, nil},
		{"beyond the tolerance", edit(func(a *marketdata.Aggregate) { a.VWAP = 10.71 }), 1e-9, []string{"vwap: expected 10.7, saw 10.71"}},
		{"first timestamp", edit(func(a *marketdata.Aggregate) { a.FirstTs = w + 2000 }), 0, []string{"firstTimestamp: expected 1700000101000, saw 1700000102000"}},
		{"two fields named together", edit(func(a *marketdata.Aggregate) { a.Open, a.Trades = 1, 5 }), 0,
			[]string{"trades: expected 4, saw 5", "open: expected 10, saw 1", "1 differences"}},
		{"missing", nil, 0, []string{"0 of 1 expected windows served", "window 1700000100000 (2023-11-14T22:15:00Z): expected open 10 high 12 low 9 close 9.5 volume 100 vwap 10.7 trades 4, not served"}},
		{"unexpected", []marketdata.Aggregate{base, {WindowStart: w + 300_000, Trades: 1, Open: 3}}, 0, []string{"window 1700000400000", "not expected, saw open 3"}},
		{"twice", []marketdata.Aggregate{base, base}, 0, []string{"served twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CompareWindows(tt.got, want, tt.relTol)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}
