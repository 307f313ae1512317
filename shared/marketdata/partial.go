package marketdata

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"

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
// its points folded one by one. Every float64 is a dyadic rational m×2^e and
// a volume a decimal c×10^-s (Decimal), so a product is m×c×2^e×10^-s: the
// sums are kept exactly, Σ volume and Σ price×volume scaled by 10^S, S the
// largest scale of the partial's volumes (0 for whole units, so those sums
// are the plain integers and dyadics they always were). Add, run per point,
// adds integer mantissas into a few fixed-width accumulators, one per binary
// exponent and decimal scale (dyadicSum; a symbol's prices span few binades,
// its sizes few scales), and Merge and the items use math/big. Each sum is
// rounded once, when the aggregate is computed (see VWAP).
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
	// The exact texts of the open, close, high and low (Point.PriceText):
	// empty when the float says the price. High and low compare exactly
	// (ComparePrices).
	OpenText, CloseText, HighText, LowText string
	// Bars counts the bars folded in (AddBar; their trades are in
	// Trades), NoVWAP those of them that gave neither a VWAP nor a
	// Σ price×volume: their volume is in the volume sum but their
	// price×volume is unknown, so the VWAP of any partial holding one is
	// unknown too (VWAPKnown), never invented.
	Bars, NoVWAP int64

	// Each sum is the fast part, which Add adds to, plus the big part,
	// which Merge and the items' text add to.
	vol        []volTerm // Σ volume of Add: a 128-bit coefficient per scale
	pv, prices dyadicSum // Σ price×volume and Σ price of Add
	scale      int       // the big part's decimal scale S
	volume     big.Int   // Σ volume of Merge × 10^S
	pvBig      big.Float // Σ price×volume of Merge × 10^S
	pricesBig  big.Float
}

// volTerm is the sum of the volumes of one scale: (hi, lo) × 10^-scale.
type volTerm struct {
	scale  int
	hi, lo uint64
}

// exactPrec is a precision at which every sum of a Partial is exact: a
// float64 has bits from 2^-1074 to 2^1023, a product with a volume scaled by
// 10^18 (< 2^124) up to 2^1148, and a sum of 2^63 of those up to 2^1211;
// big.Float keeps only the mantissa words a value needs, so the precision
// costs nothing by itself.
const exactPrec = 2432

// dyadicSum is an exact sum of terms m×2^exp×10^-scale (m < 2^128): one
// 192-bit accumulator per exponent and scale, which holds 2^64 such terms.
type dyadicSum struct{ terms []dyadicTerm }

type dyadicTerm struct {
	exp, scale int
	hi, mi, lo uint64
}

func (s *dyadicSum) add(hi, lo uint64, exp, scale int) {
	for i := range s.terms {
		t := &s.terms[i]
		if t.exp == exp && t.scale == scale {
			var c uint64
			t.lo, c = bits.Add64(t.lo, lo, 0)
			t.mi, c = bits.Add64(t.mi, hi, c)
			t.hi += c
			return
		}
	}
	s.terms = append(s.terms, dyadicTerm{exp: exp, scale: scale, mi: hi, lo: lo})
}

// addTo adds the sum × 10^scale to dst (precision exactPrec) exactly; scale
// is at least every term's.
func (s *dyadicSum) addTo(dst *big.Float, scale int) {
	var m big.Int
	var f big.Float
	for _, t := range s.terms {
		m.SetBits([]big.Word{big.Word(t.lo), big.Word(t.mi), big.Word(t.hi)})
		if t.scale < scale {
			m.Mul(&m, pow10Int(scale-t.scale))
		}
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
// key (ParseSortKey), its price (> 0, finite) and volume (valid, as
// Point.Validate checks). The order of the calls does not change the result.
func (p *Partial) Add(ms int64, disc uint64, price float64, volume Decimal) {
	p.AddEffect(ms, disc, price, volume, conditions.All)
}

// AddEffect folds one trade in as its conditions' effect e allows (see
// Partial).
func (p *Partial) AddEffect(ms int64, disc uint64, price float64, volume Decimal, eff conditions.Effect) {
	p.AddExact(ms, disc, price, "", volume, eff)
}

// AddExact is AddEffect for a price with its exact text (Point.PriceText,
// "" when the float says it). The sums take the price's float64 (see VWAP).
func (p *Partial) AddExact(ms int64, disc uint64, price float64, text string, volume Decimal, eff conditions.Effect) {
	if eff.OpenClose {
		p.openClose(ms, disc, price, text, ms, disc, price, text)
	}
	if eff.HighLow {
		p.highLow(price, text, price, text)
	} else if !eff.OpenClose {
		p.Excluded++
	}
	if !eff.Volume {
		volume = "0"
	}
	p.Trades++
	m, e := mantExp(price)
	p.prices.add(0, m, e, 0)
	coef, scale, ok := volume.parts()
	if !ok { // more than 19 digits: rare, through math/big
		c, s := volume.bigParts()
		p.init()
		p.rescale(s)
		c.Mul(c, pow10Int(p.scale-s))
		p.volume.Add(&p.volume, c)
		f := new(big.Float).SetPrec(exactPrec).SetInt(c)
		p.pvBig.Add(&p.pvBig, f.Mul(f, new(big.Float).SetFloat64(price)))
		return
	}
	p.addVolume(coef, scale)
	if coef > 0 {
		hi, lo := bits.Mul64(m, coef)
		p.pv.add(hi, lo, e, scale)
	}
}

// AddBar folds one bar in (see Bar), ms and disc from its range key
// (BarSortKey: ms is its start): its open at its start, its close at its
// last millisecond (so bars and trades of one window order by time), its
// high, low, volume and trades; its Σ price×volume is its PV, or VWAP ×
// volume, or unknown (NoVWAP). Sale conditions do not apply to a bar.
// Σ price, which only the mean price of a window without volume uses,
// counts the bar as its trades at its close (a bar has volume: Validate).
// b must be valid. An empty bar (Bar.Empty) folds nothing: it carries no
// trade, so no price, volume or count of any window.
func (p *Partial) AddBar(ms int64, disc uint64, b Bar) {
	if b.Empty() {
		return
	}
	// A bar's prices come with their exact texts, as a trade's (the sums
	// below take the floats, see VWAP).
	p.openClose(ms, disc, b.Open, b.OpenText, ms+b.Length-1, disc, b.Close, b.CloseText)
	p.highLow(b.High, b.HighText, b.Low, b.LowText)
	p.Trades += b.Trades
	p.Bars++
	m, e := mantExp(b.Close)
	hi, lo := bits.Mul64(m, uint64(b.Trades))
	p.prices.add(hi, lo, e, 0)
	coef, scale, ok := b.Volume.parts()
	if ok {
		p.addVolume(coef, scale)
	} else {
		c, s := b.Volume.bigParts()
		p.init()
		p.rescale(s)
		c.Mul(c, pow10Int(p.scale-s))
		p.volume.Add(&p.volume, c)
	}
	switch {
	case b.PV != "":
		if c, s, ok := b.PV.parts(); ok {
			p.pv.add(0, c, 0, s)
			break
		}
		c, s := b.PV.bigParts()
		p.init()
		p.rescale(s)
		c.Mul(c, pow10Int(p.scale-s))
		p.pvBig.Add(&p.pvBig, new(big.Float).SetPrec(exactPrec).SetInt(c))
	case b.VWAP > 0:
		m, e := mantExp(b.VWAP)
		if ok {
			hi, lo := bits.Mul64(m, coef)
			p.pv.add(hi, lo, e, scale)
			break
		}
		c, s := b.Volume.bigParts()
		c.Mul(c, pow10Int(p.scale-s)) // rescaled above
		f := new(big.Float).SetPrec(exactPrec).SetInt(c)
		p.pvBig.Add(&p.pvBig, f.Mul(f, new(big.Float).SetFloat64(b.VWAP)))
	default:
		p.NoVWAP++
	}
}

// VWAPKnown reports whether p's VWAP is known: false when it holds a bar
// that gave no VWAP (NoVWAP).
func (p *Partial) VWAPKnown() bool { return p.NoVWAP == 0 }

func (p *Partial) addVolume(coef uint64, scale int) {
	for i := range p.vol {
		t := &p.vol[i]
		if t.scale == scale {
			var c uint64
			t.lo, c = bits.Add64(t.lo, coef, 0)
			t.hi += c
			return
		}
	}
	p.vol = append(p.vol, volTerm{scale: scale, lo: coef})
}

// rescale raises the big part's scale to at least s (init must have run).
func (p *Partial) rescale(s int) {
	if s <= p.scale {
		return
	}
	k := pow10Int(s - p.scale)
	p.volume.Mul(&p.volume, k)
	p.pvBig.Mul(&p.pvBig, new(big.Float).SetPrec(exactPrec).SetInt(k))
	p.scale = s
}

// openClose moves the open and close to cover another set of points.
func (p *Partial) openClose(oMs int64, oDisc uint64, open float64, openText string, cMs int64, cDisc uint64, close float64, closeText string) {
	if p.Open == 0 || before(oMs, oDisc, p.OpenMillis, p.OpenDisc) {
		p.OpenMillis, p.OpenDisc, p.Open, p.OpenText = oMs, oDisc, open, openText
	}
	if p.Close == 0 || before(p.CloseMillis, p.CloseDisc, cMs, cDisc) {
		p.CloseMillis, p.CloseDisc, p.Close, p.CloseText = cMs, cDisc, close, closeText
	}
}

// highLow moves the high and low to cover another set of points. The
// floats decide unless they are equal and a text is involved (rare): then
// the exact decimals do, so the result does not depend on the order.
func (p *Partial) highLow(high float64, highText string, low float64, lowText string) {
	if p.High == 0 {
		p.High, p.HighText, p.Low, p.LowText = high, highText, low, lowText
		return
	}
	if high > p.High || high == p.High && highText != p.HighText && ComparePrices(high, highText, p.High, p.HighText) > 0 {
		p.High, p.HighText = high, highText
	}
	if low < p.Low || low == p.Low && lowText != p.LowText && ComparePrices(low, lowText, p.Low, p.LowText) < 0 {
		p.Low, p.LowText = low, lowText
	}
}

// sums returns the exact totals of the three sums, Σ volume and
// Σ price×volume multiplied by 10^scale, scale the largest of the volumes'.
func (p *Partial) sums() (volume *big.Int, pv, prices *big.Float, scale int) {
	scale = p.scale
	for _, t := range p.vol {
		scale = max(scale, t.scale)
	}
	for _, t := range p.pv.terms { // a bar's PV may have more digits than the volumes
		scale = max(scale, t.scale)
	}
	volume = new(big.Int).Set(&p.volume)
	if scale > p.scale {
		volume.Mul(volume, pow10Int(scale-p.scale))
	}
	var c big.Int
	for _, t := range p.vol {
		c.SetBits([]big.Word{big.Word(t.lo), big.Word(t.hi)})
		if t.scale < scale {
			c.Mul(&c, pow10Int(scale-t.scale))
		}
		volume.Add(volume, &c)
	}
	pv, prices = new(big.Float).SetPrec(exactPrec), new(big.Float).SetPrec(exactPrec)
	p.init()
	pv.Add(pv, &p.pvBig)
	if scale > p.scale {
		pv.Mul(pv, new(big.Float).SetPrec(exactPrec).SetInt(pow10Int(scale-p.scale)))
	}
	prices.Add(prices, &p.pricesBig)
	p.pv.addTo(pv, scale)
	p.prices.addTo(prices, 0)
	return volume, pv, prices, scale
}

// Merge folds q into p. Merging is associative and commutative: any grouping
// of the same points into partials merges into the same Partial.
func (p *Partial) Merge(q *Partial) {
	if q.Trades == 0 {
		return
	}
	p.init()
	if q.Open > 0 {
		p.openClose(q.OpenMillis, q.OpenDisc, q.Open, q.OpenText, q.CloseMillis, q.CloseDisc, q.Close, q.CloseText)
	}
	if q.High > 0 {
		p.highLow(q.High, q.HighText, q.Low, q.LowText)
	}
	p.Trades += q.Trades
	p.Excluded += q.Excluded
	p.Bars += q.Bars
	p.NoVWAP += q.NoVWAP
	v, pv, prices, s := q.sums()
	p.rescale(s)
	if s < p.scale {
		k := pow10Int(p.scale - s)
		v.Mul(v, k)
		pv.Mul(pv, new(big.Float).SetPrec(exactPrec).SetInt(k))
	}
	p.volume.Add(&p.volume, v)
	p.pvBig.Add(&p.pvBig, pv)
	p.pricesBig.Add(&p.pricesBig, prices)
}

// Volume returns Σ volume, exactly.
func (p *Partial) Volume() Decimal {
	v, _, _, s := p.sums()
	return decimalOf(v, s)
}

// VWAP returns Σ price×volume / Σ volume, the exact quotient rounded once to
// the nearest float64; when every point has volume 0, the mean price instead
// (a window of quotes only still has a meaningful average price).
// Zero-volume points never weigh in a VWAP whose total volume is positive.
// 0 when p is empty, or when its VWAP is unknown (VWAPKnown).
func (p *Partial) VWAP() float64 {
	if p.Trades == 0 || !p.VWAPKnown() {
		return 0
	}
	volume, pv, prices, _ := p.sums() // both scaled by 10^S: the quotient is not
	if volume.Sign() > 0 {
		v := new(big.Float).SetPrec(exactPrec).SetInt(volume)
		q, _ := new(big.Float).SetPrec(53).Quo(pv, v).Float64()
		return q
	}
	s, _ := prices.Float64()
	return s / float64(p.Trades)
}

// Sums returns the exact Σ price×volume and Σ price as text (the form
// PartialItem and Aggregate store them in).
func (p *Partial) Sums() (pv, prices string) {
	_, s, q, scale := p.sums()
	return sumText(s) + scaleSuffix(scale), sumText(q)
}

// scaleMark introduces the decimal scale of a Σ price×volume of fractional
// volumes: "<dyadic>*1e-8" is the dyadic × 10^-8 (a decimal fraction has no
// exact binary text). A sum of whole units has none, as before fractions.
const scaleMark = "*1e-"

func scaleSuffix(scale int) string {
	if scale == 0 {
		return ""
	}
	return scaleMark + strconv.Itoa(scale)
}

// parseScaledSum reads a Σ price×volume text: its dyadic part into dst and
// its scale.
func parseScaledSum(dst *big.Float, s string) (int, error) {
	text, sc, found := strings.Cut(s, scaleMark)
	scale := 0
	if found {
		n, err := strconv.Atoi(sc)
		if err != nil || n < 1 || n > MaxDecimalScale || strconv.Itoa(n) != sc {
			return 0, fmt.Errorf("%w: pv %q has no valid scale", ErrPartial, clip(s))
		}
		scale = n
	}
	return scale, parseSum(dst, text, "pv")
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
		Bars: p.Bars, NoVWAP: p.NoVWAP,
		High: p.High, Low: p.Low, HighText: p.HighText, LowText: p.LowText,
		ExpiresAt: expiresAt,
	}
	if p.Open > 0 {
		it.OpenKey, it.Open, it.OpenText = FormatSortKey(p.OpenMillis, p.OpenDisc), p.Open, p.OpenText
		it.CloseKey, it.Close, it.CloseText = FormatSortKey(p.CloseMillis, p.CloseDisc), p.Close, p.CloseText
	}
	if p.Trades == 1 && p.Bars == 0 && p.Open > 0 && len(p.vol) == 1 && p.vol[0].hi == 0 && p.volume.Sign() == 0 && p.scale == 0 {
		// The common case of sparse data, without math/big.
		it.Volume = string(appendUnits(nil, p.vol[0].lo, p.vol[0].scale))
		return it
	}
	volume, pv, prices, scale := p.sums()
	it.Volume = string(decimalOf(volume, scale))
	if p.Trades > 1 || p.Open == 0 || p.Bars > 0 {
		it.PV, it.Prices = sumText(pv)+scaleSuffix(scale), sumText(prices)
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
	if it.Bars < 0 || it.Bars > it.Trades || it.NoVWAP < 0 || it.NoVWAP > it.Bars {
		return nil, fmt.Errorf("%w: %d bars (%d without VWAP) of %d trades", ErrPartial, it.Bars, it.NoVWAP, it.Trades)
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
	for _, t := range [...]struct {
		text string
		v    float64
	}{{it.OpenText, it.Open}, {it.CloseText, it.Close}, {it.HighText, it.High}, {it.LowText, it.Low}} {
		if why := checkPriceText(t.text, t.v); why != "" {
			return nil, fmt.Errorf("%w: price %v: %s", ErrPartial, t.v, why)
		}
	}
	p.Trades, p.Excluded, p.Open, p.Close, p.High, p.Low = it.Trades, it.Excluded, it.Open, it.Close, it.High, it.Low
	p.OpenText, p.CloseText, p.HighText, p.LowText = it.OpenText, it.CloseText, it.HighText, it.LowText
	p.Bars, p.NoVWAP = it.Bars, it.NoVWAP
	vol, err := ParseSum(it.Volume)
	if err != nil {
		return nil, fmt.Errorf("%w: volume %q is not a decimal >= 0", ErrPartial, clip(it.Volume))
	}
	coef, scale := vol.bigParts()
	p.volume.Set(coef)
	p.scale = scale
	if it.Trades == 1 && it.Bars == 0 && it.PV == "" && it.Prices == "" && hasOC {
		p.pricesBig.SetFloat64(it.Open)
		p.pvBig.Mul(&p.pricesBig, new(big.Float).SetInt(&p.volume))
		return &p, nil
	}
	pvScale, err := parseScaledSum(&p.pvBig, it.PV)
	if err != nil {
		return nil, err
	}
	if pvScale > p.scale { // e.g. 0.5 + 0.5: volume "1", pv at scale 1
		p.volume.Mul(&p.volume, pow10Int(pvScale-p.scale))
		p.scale = pvScale
	} else if pvScale < p.scale {
		return nil, fmt.Errorf("%w: pv %q has a smaller scale than volume %q", ErrPartial, clip(it.PV), clip(it.Volume))
	}
	if err := parseSum(&p.pricesBig, it.Prices, "prices"); err != nil {
		return nil, err
	}
	return &p, nil
}

// String is for test failures and logs.
func (p *Partial) String() string {
	volume, pv, prices, scale := p.sums()
	return "Partial{trades " + strconv.FormatInt(p.Trades, 10) + ", excluded " + strconv.FormatInt(p.Excluded, 10) +
		", bars " + strconv.FormatInt(p.Bars, 10) + ", noVWAP " + strconv.FormatInt(p.NoVWAP, 10) +
		", open " + FormatSortKey(p.OpenMillis, p.OpenDisc) + " " + PriceText(p.Open, p.OpenText) +
		", close " + FormatSortKey(p.CloseMillis, p.CloseDisc) + " " + PriceText(p.Close, p.CloseText) +
		", high " + PriceText(p.High, p.HighText) + ", low " + PriceText(p.Low, p.LowText) +
		", volume " + decimalOf(volume, scale).String() + ", pv " + sumText(pv) + scaleSuffix(scale) + ", prices " + sumText(prices) + "}"
}
