package marketdata

import (
	"fmt"
	"strings"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
)

// Interval is a width the API serves aggregates at. Only 5-minute windows
// are stored; a larger interval is merged on read from the windows it
// covers (RollUp), so no interval costs a write.
type Interval struct {
	// Name is how the API names it, e.g. "1h".
	Name  string
	Width time.Duration
}

// Intervals are the widths the API serves, narrowest first. Each is a
// multiple of limits.AggregationWindow and divides a day, so its buckets,
// counted from the Unix epoch, start on UTC boundaries (Unix time has no
// leap seconds: every UTC day is 86,400,000 ms).
var Intervals = []Interval{
	{"5m", limits.AggregationWindow},
	{"15m", 15 * time.Minute},
	{"1h", time.Hour},
	{"1d", 24 * time.Hour},
}

// DefaultInterval is served when a request names none: the stored windows.
var DefaultInterval = Intervals[0]

// IntervalNames lists the names of Intervals, e.g. for an error message.
func IntervalNames() []string {
	names := make([]string, len(Intervals))
	for i, iv := range Intervals {
		names[i] = iv.Name
	}
	return names
}

// ErrInterval means an interval name is not one of Intervals.
var ErrInterval = fmt.Errorf("unknown interval; want one of %s", strings.Join(IntervalNames(), ", "))

// ParseInterval returns the interval named s.
func ParseInterval(s string) (Interval, error) {
	for _, iv := range Intervals {
		if iv.Name == s {
			return iv, nil
		}
	}
	return Interval{}, fmt.Errorf("%q: %w", clip(s), ErrInterval)
}

// Start returns the start (epoch ms) of the bucket of this interval holding ms.
func (iv Interval) Start(ms int64) int64 {
	w := iv.Width.Milliseconds()
	return ms - ms%w
}

// End returns the exclusive end (epoch ms) of the bucket starting at start.
func (iv Interval) End(start int64) int64 { return start + iv.Width.Milliseconds() }

// Rollup merges aggregates of windows into the aggregate of their union.
// Merging is associative and commutative (up to the rounding of the float
// sums): open is the first point's, close the last point's (by their
// timestamps), high and low the extremes, volume and trades the sums, and
// VWAP Σ price·volume / Σ volume, where each window contributes its
// VWAP × volume (its own Σ price·volume); when no window has volume, the
// mean price, each window weighing by its trades, as ohlcv defines a
// zero-volume window's VWAP. The zero value is empty.
//
// When every window carries its exact sums (Aggregate.PV and Prices, kept
// since the partial aggregates), the windows are merged as Partials instead
// and VWAP is rounded once, so a bucket equals the aggregate of its points
// to the last digit; one window without them makes the bucket use the
// float sums above.
type Rollup struct {
	agg     Aggregate
	pv      float64 // Σ price·volume of the windows with volume
	volumeF float64 // Σ volume as a float (never saturates)
	prices  float64 // Σ price over every point: VWAP × trades of zero-volume windows
	exact   *Partial
	inexact bool // a window came without exact sums
	unknown bool // a window's VWAP is unknown (Aggregate.VWAPUnknown)
}

// saturatedVolume is the volume of a window written while volumes were
// int64 sums saturated at math.MaxInt64: not its exact sum.
const saturatedVolume = Decimal("9223372036854775807")

// partial returns a window's aggregate as a Partial, when it carries its
// exact sums and its volume did not saturate. Windows do not overlap, so the
// range keys' discriminators (0 here) never decide an open or a close.
func (a Aggregate) partial() (*Partial, bool) {
	if a.PV == "" || a.Prices == "" || a.Volume == saturatedVolume {
		return nil, false
	}
	it := PartialItem{
		Trades: a.Trades, Excluded: a.Excluded,
		High: a.High, Low: a.Low,
		Volume: a.Volume.String(), PV: a.PV, Prices: a.Prices,
	}
	it.HighText, it.LowText = a.HighText, a.LowText
	if a.Open > 0 {
		it.OpenKey, it.Open, it.OpenText = FormatSortKey(a.FirstTs, 0), a.Open, a.OpenText
		it.CloseKey, it.Close, it.CloseText = FormatSortKey(a.LastTs, 0), a.Close, a.CloseText
	}
	if a.VWAPUnknown { // carried as a bar without VWAP
		it.Bars, it.NoVWAP = 1, 1
	}
	p, err := it.Partial()
	return p, err == nil
}

// Add merges one window's aggregate in.
func (r *Rollup) Add(a Aggregate) {
	// A volume that is no decimal (a corrupt item) makes Volume's Add
	// below keep a canonical text: it counts as 0, and the bucket as inexact.
	vol, err := ParseSum(a.Volume.String())
	a.Volume = vol
	one := Rollup{agg: a}
	one.volumeF, _ = vol.Float64()
	one.exact, _ = a.partial()
	one.inexact = one.exact == nil || err != nil
	one.unknown = a.VWAPUnknown
	if one.volumeF > 0 {
		one.pv = a.VWAP * one.volumeF
	} else {
		one.prices = a.VWAP * float64(a.Trades)
	}
	r.Merge(one)
}

// Merge merges o into r: the one merge function of aggregates.
func (r *Rollup) Merge(o Rollup) {
	if o.agg.Trades == 0 {
		return
	}
	if r.agg.Trades == 0 {
		*r = o
		if o.exact != nil { // r merges into its own copy, never into o's
			r.exact = new(Partial)
			r.exact.Merge(o.exact)
		}
		return
	}
	a, b := &r.agg, o.agg
	// A window without open (or high) has none to give (see Aggregate).
	if b.Open > 0 && (a.Open == 0 || b.FirstTs < a.FirstTs) {
		a.FirstTs, a.Open, a.OpenText = b.FirstTs, b.Open, b.OpenText
	}
	if b.Close > 0 && (a.Close == 0 || b.LastTs > a.LastTs) {
		a.LastTs, a.Close, a.CloseText = b.LastTs, b.Close, b.CloseText
	}
	if b.High > 0 { // compared exactly, as Partial does
		if a.High == 0 || ComparePrices(b.High, b.HighText, a.High, a.HighText) > 0 {
			a.High, a.HighText = b.High, b.HighText
		}
		if a.Low == 0 || ComparePrices(b.Low, b.LowText, a.Low, a.LowText) < 0 {
			a.Low, a.LowText = b.Low, b.LowText
		}
	}
	a.Excluded += b.Excluded
	a.Volume = a.Volume.Add(b.Volume)
	a.Trades += b.Trades
	a.UpdatedAt = max(a.UpdatedAt, b.UpdatedAt)
	r.pv += o.pv
	r.volumeF += o.volumeF
	r.prices += o.prices
	r.inexact = r.inexact || o.inexact
	r.unknown = r.unknown || o.unknown
	if !r.inexact {
		r.exact.Merge(o.exact)
	}
}

// Aggregate returns the merged aggregate as the window [start, end), and
// false when nothing was merged.
func (r *Rollup) Aggregate(start, end int64) (Aggregate, bool) {
	if r.agg.Trades == 0 {
		return Aggregate{}, false
	}
	a := r.agg
	a.WindowStart, a.WindowEnd = start, end
	a.PV, a.Prices = "", ""
	a.VWAPUnknown = r.unknown
	switch {
	case r.unknown:
		a.VWAP = 0
		if !r.inexact && r.exact != nil {
			a.PV, a.Prices = r.exact.Sums()
		}
	case !r.inexact && r.exact != nil:
		a.VWAP = r.exact.VWAP()
		a.PV, a.Prices = r.exact.Sums()
	case r.volumeF > 0:
		a.VWAP = r.pv / r.volumeF
	default:
		a.VWAP = r.prices / float64(a.Trades)
	}
	return a, true
}

// RollUp merges windows (one symbol's aggregates in window order, as the
// table returns them) into the buckets of iv they fall in, in order. At the
// stored width it returns windows unchanged.
func RollUp(windows []Aggregate, iv Interval) []Aggregate {
	if iv.Width == limits.AggregationWindow {
		return windows
	}
	out := []Aggregate{}
	var (
		r     Rollup
		start int64
	)
	flush := func() {
		if a, ok := r.Aggregate(start, iv.End(start)); ok {
			out = append(out, a)
		}
		r = Rollup{}
	}
	for _, w := range windows {
		if s := iv.Start(w.WindowStart); s != start {
			flush()
			start = s
		}
		r.Add(w)
	}
	flush()
	return out
}
