// Package ohlcv computes the summary of one aggregation window (open, high,
// low, close, volume, VWAP, trade count, first and last timestamp) from its
// points. It is pure: no I/O, no clock, no allocation per point.
package ohlcv

import (
	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Tick is the part of a raw point the aggregation needs.
type Tick struct {
	// Millis is the point's epoch milliseconds.
	Millis int64
	// Disc orders the points of one millisecond: the range key's
	// discriminator as marketdata.ParseSortKey returns it, so (Millis, Disc)
	// orders ticks exactly as DynamoDB orders their keys.
	Disc  uint64
	Price float64
	// PriceText is the price's exact text when its float does not say it
	// (marketdata.Point.PriceText), else "".
	PriceText string
	Volume    marketdata.Decimal
	// Conditions are the point's sale conditions (marketdata.Point's
	// normal form; "" for none), which decide what it updates.
	Conditions string
}

// Summary is the aggregate of a non-empty set of ticks.
type Summary struct {
	// Open and Close (with FirstMillis and LastMillis, their times), High
	// and Low are 0 when no tick's conditions let it set them.
	Open, High, Low, Close float64
	// Their exact texts (marketdata.Point.PriceText), "" when the floats
	// say the prices.
	OpenText, HighText, LowText, CloseText string
	// Volume is the exact sum of the volumes.
	Volume marketdata.Decimal
	// VWAP is Σ price×volume / Σ volume (each sum exact, rounded once);
	// when every point has volume 0 it is
	// the arithmetic mean of the prices instead (a window of quotes only
	// still has a meaningful average price). Zero-volume points never weigh
	// in a VWAP whose total volume is positive.
	VWAP float64
	// VWAPUnknown: the window holds a bar that gave no VWAP, so VWAP is
	// unknown (0), never invented (marketdata.Partial.VWAPKnown).
	VWAPUnknown bool
	// Trades counts every point, zero-volume ones included.
	Trades int64
	// Excluded counts the points whose conditions exclude them from every
	// price field.
	Excluded int64
	// PV and Prices are the exact sums behind VWAP (Partial.Sums).
	PV, Prices  string
	FirstMillis int64
	LastMillis  int64
}

// Accumulator folds ticks, and partials (marketdata.Partial) of other ticks,
// into a Summary in any order and grouping; the result does not depend on
// either, to the last bit (the partial's sums are exact). The zero value is
// empty.
type Accumulator struct {
	p marketdata.Partial
}

// Add folds one tick in, as its conditions allow (conditions.Of); unknown
// conditions are an error and leave the accumulator as it was.
func (a *Accumulator) Add(t Tick) error {
	eff, err := conditions.Of(t.Conditions)
	if err != nil {
		return err
	}
	a.p.AddExact(t.Millis, t.Disc, t.Price, t.PriceText, t.Volume, eff)
	return nil
}

// AddBar folds one raw bar in (marketdata.Partial.AddBar), ms and disc
// from its range key.
func (a *Accumulator) AddBar(ms int64, disc uint64, b marketdata.Bar) { a.p.AddBar(ms, disc, b) }

// Merge folds the ticks of a partial in.
func (a *Accumulator) Merge(p *marketdata.Partial) { a.p.Merge(p) }

// Summary returns the aggregate, and false when nothing was added.
func (a *Accumulator) Summary() (Summary, bool) {
	p := &a.p
	if p.Trades == 0 {
		return Summary{}, false
	}
	pv, prices := p.Sums()
	return Summary{
		Open: p.Open, High: p.High, Low: p.Low, Close: p.Close,
		OpenText: p.OpenText, HighText: p.HighText, LowText: p.LowText, CloseText: p.CloseText,
		Volume: p.Volume(), VWAP: p.VWAP(), VWAPUnknown: !p.VWAPKnown(), Trades: p.Trades, Excluded: p.Excluded,
		PV: pv, Prices: prices,
		FirstMillis: p.OpenMillis, LastMillis: p.CloseMillis,
	}, true
}
