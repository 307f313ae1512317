package smoke

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// ExpectedWindows computes each 5-minute window's OHLCV, VWAP and trade count
// from pts, independently of the aggregator (a plain sort and sums, none of
// its code), keyed by window start. Open and close are the earliest and
// latest trade by timestamp; callers give the first and last millisecond of
// a window one trade each (the aggregator breaks ties in a millisecond by a
// hash no caller can predict).
//
// A point's sale conditions (Point.Conditions, Polygon ids) are applied
// here from the rows of conditions.Table itself, not through the
// services' code: a trade may be the open or close, set the high or low,
// and count in the volume (and VWAP) only if every one of its conditions
// allows it; it always counts in the trades, and in excludedTrades when it
// sets no price field. A window without a trade that may set them has no
// open and close (nor their times), or no high and low (0). VWAP is
// Σ price×volume / Σ volume over the volume-eligible trades, or the mean
// price of all trades when that volume is 0.
func ExpectedWindows(pts []marketdata.Point) map[int64]marketdata.Aggregate {
	byWin := map[int64][]marketdata.Point{}
	for _, p := range pts {
		w := marketdata.WindowStart(p.Timestamp)
		byWin[w] = append(byWin[w], p)
	}
	out := make(map[int64]marketdata.Aggregate, len(byWin))
	for w, ps := range byWin {
		// By time to the nanosecond a point keeps (its range key's order);
		// points of one instant in the order given.
		sort.SliceStable(ps, func(i, j int) bool {
			return ps[i].Timestamp < ps[j].Timestamp || ps[i].Timestamp == ps[j].Timestamp && ps[i].SubMilliNanos < ps[j].SubMilliNanos
		})
		a := marketdata.Aggregate{Symbol: ps[0].Symbol, WindowStart: w, WindowEnd: marketdata.WindowEnd(w),
			Trades: int64(len(ps))}
		var pv, vol, prices float64
		a.Volume = "0"
		for _, p := range ps {
			openClose, highLow, volume := tableEffect(p.Conditions)
			if openClose {
				if a.Open == 0 {
					a.Open, a.FirstTs = p.Price, p.Timestamp
				}
				a.Close, a.LastTs = p.Price, p.Timestamp
			}
			if highLow {
				if a.High == 0 {
					a.High, a.Low = p.Price, p.Price
				}
				a.High, a.Low = math.Max(a.High, p.Price), math.Min(a.Low, p.Price)
			}
			if !openClose && !highLow {
				a.Excluded++
			}
			if volume {
				a.Volume = a.Volume.Add(p.Volume) // exact: decimals
				v, _ := p.Volume.Float64()
				pv += p.Price * v
				vol += v
			}
			prices += p.Price
		}
		if vol > 0 {
			a.VWAP = pv / vol
		} else {
			a.VWAP = prices / float64(len(ps))
		}
		out[w] = a
	}
	return out
}

// tableEffect reads what a trade with conditions (Polygon ids, comma-
// separated) updates off the rows of conditions.Table. It panics on an id
// the table lacks: the pipeline refuses such trades, so a test expecting
// them stored is wrong.
func tableEffect(conds string) (openClose, highLow, volume bool) {
	openClose, highLow, volume = true, true, true
	if conds == "" {
		return
	}
	for _, c := range strings.Split(conds, ",") {
		id, err := strconv.Atoi(c)
		if err != nil {
			panic(fmt.Sprintf("condition %q is not a Polygon id", c))
		}
		i := slices.IndexFunc(conditions.Table, func(r conditions.Rule) bool { return r.ID == id })
		if i < 0 {
			panic(fmt.Sprintf("condition %d is not in the table", id))
		}
		r := conditions.Table[i]
		openClose, highLow, volume = openClose && r.OpenClose, highLow && r.HighLow, volume && r.Volume
	}
	return
}

// CompareWindows checks the windows got (as GET /aggregates or the table
// serve them) against want, window by window and field by field: the window
// bounds, the first and last trade's timestamps, open, high, low, close,
// volume, VWAP and trades. Prices and VWAP must agree within relTol relative
// to the expected value; 0 asks for equality (the smoke test's trades are
// chosen so that every sum is exact in float64, whatever the order). The
// error names each window and field that differs, with what was expected and
// what was seen, and every window missing or not expected.
func CompareWindows(got []marketdata.Aggregate, want map[int64]marketdata.Aggregate, relTol float64) error {
	var diffs []string
	seen := map[int64]bool{}
	for _, g := range got {
		w, ok := want[g.WindowStart]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("window %s: not expected, saw %s", windowName(g.WindowStart), describe(g)))
			continue
		}
		if seen[g.WindowStart] {
			diffs = append(diffs, fmt.Sprintf("window %s: served twice", windowName(g.WindowStart)))
			continue
		}
		seen[g.WindowStart] = true
		var fields []string
		ints := []struct {
			name      string
			want, got int64
		}{
			{"windowEnd", w.WindowEnd, g.WindowEnd}, {"firstTimestamp", w.FirstTs, g.FirstTs},
			{"lastTimestamp", w.LastTs, g.LastTs}, {"trades", w.Trades, g.Trades},
			{"excludedTrades", w.Excluded, g.Excluded},
		}
		for _, f := range ints {
			if f.want != f.got {
				fields = append(fields, fmt.Sprintf("%s: expected %d, saw %d", f.name, f.want, f.got))
			}
		}
		if w.Volume.String() != g.Volume.String() { // exact decimals: equal digits
			fields = append(fields, fmt.Sprintf("volume: expected %s, saw %s", w.Volume, g.Volume))
		}
		floats := []struct {
			name      string
			want, got float64
		}{
			{"open", w.Open, g.Open}, {"high", w.High, g.High}, {"low", w.Low, g.Low},
			{"close", w.Close, g.Close}, {"vwap", w.VWAP, g.VWAP},
		}
		for _, f := range floats {
			if !within(f.got, f.want, relTol) {
				fields = append(fields, fmt.Sprintf("%s: expected %v, saw %v", f.name, f.want, f.got))
			}
		}
		if len(fields) > 0 {
			diffs = append(diffs, fmt.Sprintf("window %s: %s", windowName(g.WindowStart), strings.Join(fields, "; ")))
		}
	}
	starts := make([]int64, 0, len(want))
	for s := range want {
		starts = append(starts, s)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	for _, s := range starts {
		if !seen[s] {
			diffs = append(diffs, fmt.Sprintf("window %s: expected %s, not served", windowName(s), describe(want[s])))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d expected windows served, %d differences:\n  %s",
		len(seen), len(want), len(diffs), strings.Join(diffs, "\n  "))
}

func within(got, want, relTol float64) bool {
	if relTol == 0 {
		return got == want
	}
	return math.Abs(got-want) <= relTol*math.Max(1, math.Abs(want))
}

// windowName shows a window start as epoch ms and UTC time.
func windowName(start int64) string {
	return fmt.Sprintf("%d (%s)", start, time.UnixMilli(start).UTC().Format(time.RFC3339))
}

func describe(a marketdata.Aggregate) string {
	return fmt.Sprintf("open %v high %v low %v close %v volume %s vwap %v trades %d",
		a.Open, a.High, a.Low, a.Close, a.Volume, a.VWAP, a.Trades)
}
