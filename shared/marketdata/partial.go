package marketdata

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/marketanalytics/pipeline/shared/conditions"
)

// Partial is the mergeable summary of some points of one symbol in one
// aggregation window: first and last point (by range key, as DynamoDB orders
// them), high, low, trade count and three sums. The processor stores one per
// message and window (PartialItem); the aggregator merges a window's
// partials into its aggregate, and its from-raw repair path folds raw points
// into one Partial the same way, so both paths share this code.
//
// A trade's sale conditions (conditions.Effect) decide what it updates: it
// may be the open or close only if its effect allows OpenClose, set the
// high or low only if it allows HighLow, and its size counts in the volume
// sums only if it allows Volume (otherwise it counts as a point of volume
// 0: it weighs nothing in the VWAP, as the tape excludes it from volume).
// Every trade counts in Trades and in Σ price (the mean price of a window
// without volume); Excluded counts the trades that set no price field. A
// partial whose trades all lack OpenClose has no open or close (Open 0),
// one whose trades all lack HighLow no high or low (High 0): prices are
// > 0, so 0 means absent.
//
// The sums (Σ volume, Σ price×volume, Σ price) are exact, not float64: a
// float sum depends on the order it is added in, and a window merged from
// partials in any order must give the same aggregate, to the last digit, as
// its points folded one by one. Every float64 and every product of a float64
// with an int64 is a dyadic rational m×2^e, so the sums are kept exactly:
// Add, run per point, adds integer mantissas into a few fixed-width
// accumulators, one per binary exponent (dyadicSum; a symbol's prices span
// few binades), and Merge and the items use math/big. Each sum is rounded
// once, when the aggregate is computed (see VWAP).
//
// The zero value is empty. A Partial holds big numbers: use it through a
// pointer, never copy one that is in use.
type Partial struct {
	Trades int64
	// Excluded counts the trades whose conditions exclude them from open,
	// close, high and low (conditions.Effect.PriceExcluded).
	Excluded    int64
	OpenMillis  int64
	OpenDisc    uint64 // the range key's discriminator, as ParseSortKey returns it
	Open        float64
	CloseMillis int64
	CloseDisc   uint64
	Close       float64
	High, Low   float64

	// Each sum is the fast part, which Add adds to, plus the big part,
	// which Merge and the items' text add to.
	volHi, volLo uint64    // Σ volume of Add, 128 bits
	volume       big.Int   // Σ volume of Merge
	pv, prices   dyadicSum // Σ price×volume and Σ price of Add
	pvBig        big.Float // of Merge
	pricesBig    big.Float
}

// exactPrec is a precision at which every sum of a Partial is exact: a
// float64 has bits from 2^-1074 to 2^1023, a product with an int64 up to
// 2^1087, and a sum of 2^63 of those up to 2^1150; big.Float keeps only the
// mantissa words a value needs, so the precision costs nothing by itself.
const exactPrec = 2304

// dyadicSum is an exact sum of terms m×2^exp (m < 2^128): one 192-bit
// accumulator per exponent, which holds 2^64 such terms.
type dyadicSum struct{ terms []dyadicTerm }

type dyadicTerm struct {
	exp        int
	hi, mi, lo uint64
}

func (s *dyadicSum) add(hi, lo uint64, exp int) {
	for i := range s.terms {
		t := &s.terms[i]
		if t.exp == exp {
			var c uint64
			t.lo, c = bits.Add64(t.lo, lo, 0)
			t.mi, c = bits.Add64(t.mi, hi, c)
			t.hi += c
			return
		}
	}
	s.terms = append(s.terms, dyadicTerm{exp: exp, mi: hi, lo: lo})
}

// addTo adds the sum to dst (precision exactPrec) exactly.
func (s *dyadicSum) addTo(dst *big.Float) {
	var m big.Int
	var f big.Float
	for _, t := range s.terms {
		m.SetBits([]big.Word{big.Word(t.lo), big.Word(t.mi), big.Word(t.hi)})
		f.SetPrec(exactPrec).SetInt(&m)
		f.SetMantExp(&f, t.exp)
		dst.Add(dst, &f)
	}
}

// mantExp splits v > 0 (finite) into m×2^exp, m < 2^53.
func mantExp(v float64) (uint64, int) {
	frac, exp := math.Frexp(v) // v = frac × 2^exp, frac in [0.5, 1)
	return uint64(math.Ldexp(frac, 53)), exp - 53
}

func (p *Partial) init() {
	if p.pvBig.Prec() == 0 {
		p.pvBig.SetPrec(exactPrec)
		p.pricesBig.SetPrec(exactPrec)
	}
}

// before reports whether (aMs, aDisc) orders before (bMs, bDisc): earlier
// millisecond first, ties broken by range-key order.
func before(aMs int64, aDisc uint64, bMs int64, bDisc uint64) bool {
	return aMs < bMs || aMs == bMs && aDisc < bDisc
}

// Add folds one point without conditions in: ms and disc from its range
// key (ParseSortKey), its price (> 0, finite) and volume (>= 0). The order
// of the calls does not change the result.
func (p *Partial) Add(ms int64, disc uint64, price float64, volume int64) {
	p.AddEffect(ms, disc, price, volume, conditions.All)
}

// AddEffect folds one trade in as its conditions' effect e allows (see
// Partial).
func (p *Partial) AddEffect(ms int64, disc uint64, price float64, volume int64, eff conditions.Effect) {
	if eff.OpenClose {
		p.openClose(ms, disc, price, ms, disc, price)
	}
	if eff.HighLow {
		p.highLow(price, price)
	} else if !eff.OpenClose {
		p.Excluded++
	}
	if !eff.Volume {
		volume = 0
	}
	p.Trades++
	var c uint64
	p.volLo, c = bits.Add64(p.volLo, uint64(volume), 0)
	p.volHi += c
	m, e := mantExp(price)
	p.prices.add(0, m, e)
	if volume > 0 {
		hi, lo := bits.Mul64(m, uint64(volume))
		p.pv.add(hi, lo, e)
	}
}

// openClose moves the open and close to cover another set of points.
func (p *Partial) openClose(oMs int64, oDisc uint64, open float64, cMs int64, cDisc uint64, close float64) {
	if p.Open == 0 || before(oMs, oDisc, p.OpenMillis, p.OpenDisc) {
		p.OpenMillis, p.OpenDisc, p.Open = oMs, oDisc, open
	}
	if p.Close == 0 || before(p.CloseMillis, p.CloseDisc, cMs, cDisc) {
		p.CloseMillis, p.CloseDisc, p.Close = cMs, cDisc, close
	}
}

// highLow moves the high and low to cover another set of points.
func (p *Partial) highLow(high, low float64) {
	if p.High == 0 {
		p.High, p.Low = high, low
		return
	}
	p.High = max(p.High, high)
	p.Low = min(p.Low, low)
}

// sums returns the exact totals of the three sums.
func (p *Partial) sums() (volume *big.Int, pv, prices *big.Float) {
	volume = new(big.Int).SetBits([]big.Word{big.Word(p.volLo), big.Word(p.volHi)})
	volume.Add(volume, &p.volume)
	pv, prices = new(big.Float).SetPrec(exactPrec), new(big.Float).SetPrec(exactPrec)
	p.init()
	pv.Add(pv, &p.pvBig)
	prices.Add(prices, &p.pricesBig)
	p.pv.addTo(pv)
	p.prices.addTo(prices)
	return volume, pv, prices
}

// Merge folds q into p. Merging is associative and commutative: any grouping
// of the same points into partials merges into the same Partial.
func (p *Partial) Merge(q *Partial) {
	if q.Trades == 0 {
		return
	}
	p.init()
	if q.Open > 0 {
		p.openClose(q.OpenMillis, q.OpenDisc, q.Open, q.CloseMillis, q.CloseDisc, q.Close)
	}
	if q.High > 0 {
		p.highLow(q.High, q.Low)
	}
	p.Trades += q.Trades
	p.Excluded += q.Excluded
	v, pv, prices := q.sums()
	p.volume.Add(&p.volume, v)
	p.pvBig.Add(&p.pvBig, pv)
	p.pricesBig.Add(&p.pricesBig, prices)
}

// Volume returns Σ volume, saturated at math.MaxInt64.
func (p *Partial) Volume() int64 {
	v, _, _ := p.sums()
	if !v.IsInt64() {
		return math.MaxInt64
	}
	return v.Int64()
}

// VWAP returns Σ price×volume / Σ volume, each sum rounded once to the
// nearest float64; when every point has volume 0, the mean price instead
// (a window of quotes only still has a meaningful average price).
// Zero-volume points never weigh in a VWAP whose total volume is positive.
// 0 when p is empty.
func (p *Partial) VWAP() float64 {
	if p.Trades == 0 {
		return 0
	}
	volume, pv, prices := p.sums()
	if volume.Sign() > 0 {
		a, _ := pv.Float64()
		b, _ := new(big.Float).SetInt(volume).Float64()
		return a / b
	}
	s, _ := prices.Float64()
	return s / float64(p.Trades)
}

// Sums returns the exact Σ price×volume and Σ price as text (the form
// PartialItem and Aggregate store them in).
func (p *Partial) Sums() (pv, prices string) {
	_, s, q := p.sums()
	return sumText(s), sumText(q)
}

// ErrPartial means a partial item's sums cannot be read.
var ErrPartial = errors.New("invalid partial")

// sumText is the exact text of a sum: big.Float's hexadecimal mantissa and
// binary exponent, which reads back as the same value.
func sumText(f *big.Float) string { return f.Text('p', 0) }

func parseSum(dst *big.Float, s, name string) error {
	dst.SetPrec(exactPrec)
	if _, ok := dst.SetString(s); !ok || dst.IsInf() || dst.Sign() < 0 {
		return fmt.Errorf("%w: %s %q is not an exact non-negative sum", ErrPartial, name, clip(s))
	}
	return nil
}

// Item returns p as the item of the partial aggregate with range key rng.
// A partial of one point with an open leaves its price and price×volume
// sums out: they are its open and open×volume (its volume counted only if
// its conditions allow), so it is hardly larger than the raw point. A
// partial without open and close leaves their attributes out, one without
// high and low theirs.
func (p *Partial) Item(symbol, rng string, expiresAt int64) PartialItem {
	it := PartialItem{
		Key: PartialKey(symbol), Range: rng,
		Trades: p.Trades, Excluded: p.Excluded,
		High: p.High, Low: p.Low,
		ExpiresAt: expiresAt,
	}
	if p.Open > 0 {
		it.OpenKey, it.Open = FormatSortKey(p.OpenMillis, p.OpenDisc), p.Open
		it.CloseKey, it.Close = FormatSortKey(p.CloseMillis, p.CloseDisc), p.Close
	}
	if p.Trades == 1 && p.Open > 0 && p.volHi == 0 && p.volume.Sign() == 0 {
		// The common case of sparse data, without math/big.
		it.Volume = strconv.FormatUint(p.volLo, 10)
		return it
	}
	volume, pv, prices := p.sums()
	it.Volume = volume.String()
	if p.Trades > 1 || p.Open == 0 {
		it.PV, it.Prices = sumText(pv), sumText(prices)
	}
	return it
}

// Partial reads the partial an item holds back.
func (it PartialItem) Partial() (*Partial, error) {
	var p Partial
	p.init()
	if it.Trades < 1 {
		return nil, fmt.Errorf("%w: %d trades", ErrPartial, it.Trades)
	}
	if it.Excluded < 0 || it.Excluded > it.Trades {
		return nil, fmt.Errorf("%w: %d excluded of %d trades", ErrPartial, it.Excluded, it.Trades)
	}
	// Open and close come together, as do high and low; some price is
	// there exactly when some trade was not excluded from them.
	hasOC := it.Open != 0 || it.Close != 0 || it.OpenKey != "" || it.CloseKey != ""
	hasHL := it.High != 0 || it.Low != 0
	if (hasOC || hasHL) != (it.Excluded < it.Trades) {
		return nil, fmt.Errorf("%w: %d excluded of %d trades, but open %v and high %v", ErrPartial, it.Excluded, it.Trades, it.Open, it.High)
	}
	var prices []float64
	if hasOC {
		var err error
		if p.OpenMillis, p.OpenDisc, err = ParseSortKey(it.OpenKey); err != nil {
			return nil, fmt.Errorf("%w: open key: %w", ErrPartial, err)
		}
		if p.CloseMillis, p.CloseDisc, err = ParseSortKey(it.CloseKey); err != nil {
			return nil, fmt.Errorf("%w: close key: %w", ErrPartial, err)
		}
		prices = append(prices, it.Open, it.Close)
	}
	if hasHL {
		prices = append(prices, it.High, it.Low)
	}
	for _, v := range prices {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: price %v is not a finite number > 0", ErrPartial, v)
		}
	}
	p.Trades, p.Excluded, p.Open, p.Close, p.High, p.Low = it.Trades, it.Excluded, it.Open, it.Close, it.High, it.Low
	if _, ok := p.volume.SetString(it.Volume, 10); !ok || p.volume.Sign() < 0 {
		return nil, fmt.Errorf("%w: volume %q is not an integer >= 0", ErrPartial, clip(it.Volume))
	}
	if it.Trades == 1 && it.PV == "" && it.Prices == "" && hasOC {
		p.pricesBig.SetFloat64(it.Open)
		p.pvBig.Mul(&p.pricesBig, new(big.Float).SetInt(&p.volume))
		return &p, nil
	}
	if err := parseSum(&p.pvBig, it.PV, "pv"); err != nil {
		return nil, err
	}
	if err := parseSum(&p.pricesBig, it.Prices, "prices"); err != nil {
		return nil, err
	}
	return &p, nil
}

// String is for test failures and logs.
func (p *Partial) String() string {
	volume, pv, prices := p.sums()
	return "Partial{trades " + strconv.FormatInt(p.Trades, 10) + ", excluded " + strconv.FormatInt(p.Excluded, 10) +
		", open " + FormatSortKey(p.OpenMillis, p.OpenDisc) + " " + strconv.FormatFloat(p.Open, 'g', -1, 64) +
		", close " + FormatSortKey(p.CloseMillis, p.CloseDisc) + " " + strconv.FormatFloat(p.Close, 'g', -1, 64) +
		", high " + strconv.FormatFloat(p.High, 'g', -1, 64) + ", low " + strconv.FormatFloat(p.Low, 'g', -1, 64) +
		", volume " + volume.String() + ", pv " + sumText(pv) + ", prices " + sumText(prices) + "}"
}
