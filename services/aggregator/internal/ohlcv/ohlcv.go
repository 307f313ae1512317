// Package ohlcv computes the summary of one aggregation window (open, high,
// low, close, volume, VWAP, trade count, first and last timestamp) from its
// points. It is pure: no I/O, no clock, no allocation per point.
package ohlcv

import "math"

// Tick is the part of a raw point the aggregation needs.
type Tick struct {
	// Millis is the point's epoch milliseconds.
	Millis int64
	// Disc orders the points of one millisecond: the range key's
	// discriminator as marketdata.ParseSortKey returns it, so (Millis, Disc)
	// orders ticks exactly as DynamoDB orders their keys.
	Disc   uint64
	Price  float64
	Volume int64
}

// before reports whether a comes before b: earlier millisecond first, ties
// broken by range-key order.
func before(aMillis int64, aDisc uint64, bMillis int64, bDisc uint64) bool {
	return aMillis < bMillis || aMillis == bMillis && aDisc < bDisc
}

// Summary is the aggregate of a non-empty set of ticks.
type Summary struct {
	Open, High, Low, Close float64
	// Volume is the sum of the volumes, saturated at math.MaxInt64.
	Volume int64
	// VWAP is Σ price×volume / Σ volume; when every point has volume 0 it is
	// the arithmetic mean of the prices instead (a window of quotes only
	// still has a meaningful average price). Zero-volume points never weigh
	// in a VWAP whose total volume is positive.
	VWAP float64
	// Trades counts every point, zero-volume ones included.
	Trades      int64
	FirstMillis int64
	LastMillis  int64
}

// Accumulator folds ticks into a Summary in any order; the result does not
// depend on the order the ticks are added in. The zero value is empty.
type Accumulator struct {
	n         int64
	openMs    int64
	openDisc  uint64
	open      float64
	closeMs   int64
	closeDisc uint64
	close     float64
	high, low float64
	volume    int64
	volumeF   float64 // Σ volume as a float: the VWAP denominator (never saturates)
	pv        float64 // Σ price×volume
	sumPrice  float64 // Σ price, for the zero-volume fallback
}

// Add folds one tick in.
func (a *Accumulator) Add(t Tick) {
	v := float64(t.Volume)
	if a.n == 0 {
		*a = Accumulator{
			n:      1,
			openMs: t.Millis, openDisc: t.Disc, open: t.Price,
			closeMs: t.Millis, closeDisc: t.Disc, close: t.Price,
			high: t.Price, low: t.Price,
			volume: t.Volume, volumeF: v, pv: t.Price * v, sumPrice: t.Price,
		}
		return
	}
	a.n++
	if before(t.Millis, t.Disc, a.openMs, a.openDisc) {
		a.openMs, a.openDisc, a.open = t.Millis, t.Disc, t.Price
	}
	if before(a.closeMs, a.closeDisc, t.Millis, t.Disc) {
		a.closeMs, a.closeDisc, a.close = t.Millis, t.Disc, t.Price
	}
	if t.Price > a.high {
		a.high = t.Price
	}
	if t.Price < a.low {
		a.low = t.Price
	}
	if t.Volume > math.MaxInt64-a.volume {
		a.volume = math.MaxInt64
	} else {
		a.volume += t.Volume
	}
	a.volumeF += v
	a.pv += t.Price * v
	a.sumPrice += t.Price
}

// Summary returns the aggregate, and false when no tick was added.
func (a *Accumulator) Summary() (Summary, bool) {
	if a.n == 0 {
		return Summary{}, false
	}
	vwap := a.sumPrice / float64(a.n)
	if a.volumeF > 0 {
		vwap = a.pv / a.volumeF
	}
	return Summary{
		Open: a.open, High: a.high, Low: a.low, Close: a.close,
		Volume: a.volume, VWAP: vwap, Trades: a.n,
		FirstMillis: a.openMs, LastMillis: a.closeMs,
	}, true
}
