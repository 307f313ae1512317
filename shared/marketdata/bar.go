package marketdata

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
)

// Bar is one OHLCV bar of a vendor's aggregates (Polygon minute aggregates,
// Alpaca bars, Binance klines): the summary of the trades of Length
// milliseconds from Start. The pipeline stores it as it stores a point (a
// raw bar item, see RawBarItem) and folds it into its 5-minute window as one
// more partial (Partial.AddBar): its open at Start, its close at the bar's
// last millisecond, so bars and trades of one window merge in time order.
// Sale conditions do not apply to a bar: its vendor applied them.
type Bar struct {
	// Symbol is not stored as such: a raw bar item's hash key is
	// BarKey(Symbol) (see RawBarItem).
	Symbol string `json:"symbol" dynamodbav:"-"`
	// Start is the bar's first millisecond (epoch ms, UTC), a multiple of
	// Length.
	Start int64 `json:"start" dynamodbav:"ms"`
	// Length is the bar's duration in ms: one of BarLengths (it must divide
	// the 5-minute window, so a window holds whole bars).
	Length int64 `json:"length" dynamodbav:"length"`
	// Open, High, Low and Close are the bar's prices, kept as a trade's
	// price is (see AppendExactPrice): the float, plus its exact text
	// (OpenText...) only when the float's shortest text is another number.
	Open  float64 `json:"open" dynamodbav:"open"`
	High  float64 `json:"high" dynamodbav:"high"`
	Low   float64 `json:"low" dynamodbav:"low"`
	Close float64 `json:"close" dynamodbav:"close"`
	// The exact texts of Open, High, Low and Close, "" when the float says
	// the price: the queue message carries them as "ot", "ht", "lt" and
	// "ct"; the raw bar item stores each as its number (RawBarItem's
	// ExactPrices). Plain strings, not a pointer as Point.PriceTexts: bars
	// are few (one a minute per symbol), so 64 bytes each cost nothing.
	OpenText  string `json:"ot,omitempty" dynamodbav:"-"`
	HighText  string `json:"ht,omitempty" dynamodbav:"-"`
	LowText   string `json:"lt,omitempty" dynamodbav:"-"`
	CloseText string `json:"ct,omitempty" dynamodbav:"-"`
	// Volume is the bar's traded volume, > 0, or 0 in an empty bar (no
	// trades, see Empty).
	Volume Decimal `json:"volume" dynamodbav:"volume"`
	// VWAP is the vendor's volume-weighted average price (Alpaca's vw), 0
	// when not given; the bar's Σ price×volume is then VWAP×Volume (the
	// float's: see Partial.AddBar). VWAPText is its exact text as the
	// prices': the raw bar item keeps the VWAP as given ("vt" in the
	// message).
	VWAP     float64 `json:"vwap,omitempty" dynamodbav:"vwap,omitempty"`
	VWAPText string  `json:"vt,omitempty" dynamodbav:"-"`
	// PV is the bar's exact Σ price×volume when the vendor gives it
	// (Binance's quote asset volume), "" when not. At most one of VWAP and
	// PV is given; with neither, the bar's VWAP is unknown, and so is its
	// window's (Partial.VWAPKnown): none is invented.
	PV Decimal `json:"pv,omitempty" dynamodbav:"pv,omitempty"`
	// Trades is the bar's number of trades, >= 1, or 0 in an empty bar.
	Trades int64 `json:"trades" dynamodbav:"trades"`
}

// The fields of a Bar as BarError names them (a parser maps them to its
// vendor's columns).
const (
	BarFieldSymbol = "symbol"
	BarFieldStart  = "start"
	BarFieldLength = "length"
	BarFieldOpen   = "open"
	BarFieldHigh   = "high"
	BarFieldLow    = "low"
	BarFieldClose  = "close"
	BarFieldVolume = "volume"
	BarFieldVWAP   = "vwap"
	BarFieldPV     = "pv"
	BarFieldTrades = "trades"
)

// Bar validation errors besides the point's (ErrSymbol, ErrPrice,
// ErrVolume, ErrTimestamp).
var (
	// ErrBarLength: a bar longer than the window, or one not dividing it.
	ErrBarLength = errors.New("invalid bar length")
	// ErrBarTrades: a bar without a valid trade count.
	ErrBarTrades = errors.New("invalid trade count")
	// ErrBarVWAP: a VWAP or Σ price×volume that cannot be the bar's.
	ErrBarVWAP = errors.New("invalid vwap")
)

// BarError is why a bar is refused: the field (a BarField* name) and the
// reason, which wraps one of the Err* sentinels.
type BarError struct {
	Field string
	Err   error
}

func (e *BarError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *BarError) Unwrap() error { return e.Err }

// BarLength is one bar length the pipeline accepts: the names vendors give
// it (Binance's interval, Alpaca's timeframe) and its milliseconds.
type BarLength struct {
	Names  []string
	Millis int64
}

// BarLengths are the accepted bar lengths: those that divide the 5-minute
// aggregation window (limits.AggregationWindow), so that a window holds
// whole bars. 3 minutes does not divide it (a 3-minute bar would straddle
// two windows) and is refused, as is anything longer than 5 minutes.
var BarLengths = []BarLength{
	{Names: []string{"1s", "1Sec"}, Millis: 1000},
	{Names: []string{"1m", "1Min"}, Millis: 60_000},
	{Names: []string{"5m", "5Min"}, Millis: 300_000},
}

// Where a bar length is given for bars that do not carry theirs (Alpaca's):
// the S3 metadata key (x-amz-meta-timeframe) and POST /ingest's query
// parameter. Without either, DefaultBarLength applies.
const (
	MetadataTimeframe = "timeframe"
	APIQueryTimeframe = "timeframe"
)

// DefaultBarLength is the length of bars that carry none and were not given
// one (Alpaca's default timeframe): 1 minute.
const DefaultBarLength = "1Min"

// ParseBarLength returns the milliseconds of a bar length named name (a
// BarLengths name); the error says why another is refused: any length a
// vendor can name (vendorLength) by its milliseconds (longer than 5
// minutes, or not dividing the window), anything else by the accepted names.
func ParseBarLength(name string) (int64, error) {
	for _, l := range BarLengths {
		for _, n := range l.Names {
			if n == name {
				return l.Millis, nil
			}
		}
	}
	if ms, ok := vendorLength(name); ok {
		if err := lengthError(ms); err != nil {
			return 0, err
		}
	}
	var names []string
	for _, l := range BarLengths {
		names = append(names, l.Names...)
	}
	return 0, fmt.Errorf("%w %q: want one of %s", ErrBarLength, clip(name), strings.Join(names, ", "))
}

// lengthUnits are the units of the bar lengths vendors name, in ms:
// Binance's intervals (1s, 15m, 1h, 1d, 1w, 1M; 1mo in data.binance.vision's
// file names) and Alpaca's timeframes (15Min or 15T, 1Hour or 1H, 1Day or
// 1D, 1Week or 1W, 1Month). A month counts as 30 days: it only has to be
// longer than the window.
var lengthUnits = map[string]int64{
	"s": 1000, "Sec": 1000,
	"m": 60_000, "Min": 60_000, "T": 60_000,
	"h": 3_600_000, "H": 3_600_000, "Hour": 3_600_000,
	"d": 86_400_000, "D": 86_400_000, "Day": 86_400_000,
	"w": 604_800_000, "W": 604_800_000, "Week": 604_800_000,
	"M": 2_592_000_000, "mo": 2_592_000_000, "Month": 2_592_000_000,
}

// vendorLength reads a vendor's bar length, a count of at most 3 digits and
// a lengthUnits unit, as milliseconds.
func vendorLength(name string) (int64, bool) {
	i := 0
	for i < len(name) && i < 4 && name[i] >= '0' && name[i] <= '9' {
		i++
	}
	if i == 0 || i > 3 {
		return 0, false
	}
	n, err := strconv.ParseInt(name[:i], 10, 64)
	unit, ok := lengthUnits[name[i:]]
	if err != nil || !ok {
		return 0, false
	}
	return n * unit, true
}

// lengthError says why a bar of ms milliseconds is refused, or nil.
func lengthError(ms int64) error {
	w := limits.AggregationWindow.Milliseconds()
	switch {
	case ms <= 0:
		return fmt.Errorf("%w %d ms: want > 0", ErrBarLength, ms)
	case ms > w:
		return fmt.Errorf("%w %s: longer than %s, the aggregation window", ErrBarLength, time.Duration(ms)*time.Millisecond, limits.AggregationWindow)
	case w%ms != 0:
		return fmt.Errorf("%w %s: does not divide the %s window, so a bar would straddle two windows", ErrBarLength, time.Duration(ms)*time.Millisecond, limits.AggregationWindow)
	}
	return nil
}

// End returns the bar's last millisecond (its close's time).
func (b Bar) End() int64 { return b.Start + b.Length - 1 }

// Validate checks b against the contract at time now. The error is a
// *BarError naming the field; its reason wraps one of the Err* sentinels.
func (b Bar) Validate(now time.Time) error {
	bad := func(field string, err error) error { return &BarError{Field: field, Err: err} }
	if !ValidSymbol(b.Symbol) {
		return bad(BarFieldSymbol, fmt.Errorf("%w %q: want 1-%d of A-Z 0-9 . -", ErrSymbol, clip(b.Symbol), limits.MaxSymbolLen))
	}
	if err := lengthError(b.Length); err != nil {
		return bad(BarFieldLength, err)
	}
	if b.Start < 0 {
		return bad(BarFieldStart, fmt.Errorf("%w %d: before 1970", ErrTimestamp, b.Start))
	}
	if b.Start%b.Length != 0 {
		return bad(BarFieldStart, fmt.Errorf("%w %d: not a multiple of the bar length %s (a misaligned bar)", ErrTimestamp, b.Start, time.Duration(b.Length)*time.Millisecond))
	}
	if max := now.Add(limits.MaxFutureSkew).UnixMilli(); b.Start > max {
		return bad(BarFieldStart, fmt.Errorf("%w %d: more than %s in the future", ErrTimestamp, b.Start, limits.MaxFutureSkew))
	}
	for _, f := range [...]struct {
		name string
		v    float64
		t    string
	}{{BarFieldOpen, b.Open, b.OpenText}, {BarFieldHigh, b.High, b.HighText}, {BarFieldLow, b.Low, b.LowText}, {BarFieldClose, b.Close, b.CloseText}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v <= 0 {
			return bad(f.name, fmt.Errorf("%w: %s %v: want a finite number > 0", ErrPrice, f.name, f.v))
		}
		if why := checkPriceText(f.t, f.v); why != "" {
			return bad(f.name, fmt.Errorf("%w: %s %v: %s", ErrPrice, f.name, f.v, why))
		}
		if !PriceInRange(f.v, f.t) {
			return bad(f.name, fmt.Errorf("%w: %s %s: outside the storable range [%g, %g]", ErrPrice, f.name, PriceText(f.v, f.t), MinPrice, MaxPrice))
		}
	}
	// The order of the prices compares them exactly (ComparePrices): equal
	// floats may differ by their texts. The texts of a refusal are
	// formatted only then: formatting four floats per valid bar would cost
	// more than the rest of its checks.
	high, low := func() string { return PriceText(b.High, b.HighText) }, func() string { return PriceText(b.Low, b.LowText) }
	if ComparePrices(b.High, b.HighText, b.Low, b.LowText) < 0 {
		return bad(BarFieldHigh, fmt.Errorf("%w: high %s < low %s", ErrPrice, high(), low()))
	}
	if ComparePrices(b.Open, b.OpenText, b.Low, b.LowText) < 0 || ComparePrices(b.Open, b.OpenText, b.High, b.HighText) > 0 {
		return bad(BarFieldOpen, fmt.Errorf("%w: open %s outside [low %s, high %s]", ErrPrice, PriceText(b.Open, b.OpenText), low(), high()))
	}
	if ComparePrices(b.Close, b.CloseText, b.Low, b.LowText) < 0 || ComparePrices(b.Close, b.CloseText, b.High, b.HighText) > 0 {
		return bad(BarFieldClose, fmt.Errorf("%w: close %s outside [low %s, high %s]", ErrPrice, PriceText(b.Close, b.CloseText), low(), high()))
	}
	if why := b.Volume.check(); why != "" {
		return bad(BarFieldVolume, fmt.Errorf("%w %q: %s", ErrVolume, clip(string(b.Volume)), why))
	}
	if b.Volume == "" {
		return bad(BarFieldVolume, fmt.Errorf("%w: missing", ErrVolume))
	}
	if b.Empty() {
		return b.validateEmpty()
	}
	if b.Volume.IsZero() {
		return bad(BarFieldVolume, fmt.Errorf("%w 0 with %d trades: a bar with trades cannot be without volume", ErrVolume, b.Trades))
	}
	if b.Trades < 1 {
		return bad(BarFieldTrades, fmt.Errorf("%w %d: want >= 1 (a bar with volume has trades)", ErrBarTrades, b.Trades))
	}
	if b.VWAP != 0 && b.PV != "" {
		return bad(BarFieldVWAP, fmt.Errorf("%w: both a VWAP and a price×volume sum; give one", ErrBarVWAP))
	}
	// A volume-weighted average lies within [low, high]. The check is in
	// float64 with a relative slack of 1e-9: vendors round their VWAP.
	const slack = 1e-9
	lo, hi := b.Low*(1-slack), b.High*(1+slack)
	if b.VWAP != 0 {
		if math.IsNaN(b.VWAP) || math.IsInf(b.VWAP, 0) || b.VWAP < lo || b.VWAP > hi {
			return bad(BarFieldVWAP, fmt.Errorf("%w %v: outside [low %v, high %v]", ErrBarVWAP, b.VWAP, b.Low, b.High))
		}
	}
	if why := checkPriceText(b.VWAPText, b.VWAP); why != "" {
		return bad(BarFieldVWAP, fmt.Errorf("%w %v: %s", ErrBarVWAP, b.VWAP, why))
	}
	if b.PV != "" {
		if why := b.PV.check(); why != "" {
			return bad(BarFieldPV, fmt.Errorf("%w: price×volume sum %q: %s", ErrBarVWAP, clip(string(b.PV)), why))
		}
		pv, _ := b.PV.Float64()
		v, _ := b.Volume.Float64()
		if avg := pv / v; avg < lo || avg > hi {
			return bad(BarFieldPV, fmt.Errorf("%w: price×volume sum %s / volume %s = %v, outside [low %v, high %v]", ErrBarVWAP, b.PV, b.Volume, avg, b.Low, b.High))
		}
	}
	return nil
}

// Empty reports whether b is an empty bar: no volume and no trades, as
// Binance writes a kline of an interval without trades (1-second klines
// above all), every price the previous close. It is a valid vendor record
// that carries no trade: stored as sent (a raw bar item, so re-ingesting
// stays idempotent and nothing is lost), folded into no window
// (Partial.AddBar) and not the latest state. A bar with trades but no
// volume, or volume but no trades, is refused (Validate).
func (b Bar) Empty() bool { return b.Trades == 0 && b.Volume != "" && b.Volume.IsZero() }

// validateEmpty checks what is left of an empty bar once its symbol,
// length, start, prices and their order are valid: one price (open = high = low = close,
// the previous close) and no VWAP or Σ price×volume other than 0.
func (b Bar) validateEmpty() error {
	// Validate has put open and close within [low, high]: low = high
	// (exactly, texts included) is one price.
	if ComparePrices(b.Low, b.LowText, b.High, b.HighText) != 0 {
		return &BarError{Field: BarFieldVolume, Err: fmt.Errorf(
			"%w 0: a bar without volume or trades has one price (open = high = low = close, the previous close), not low %s, high %s",
			ErrVolume, PriceText(b.Low, b.LowText), PriceText(b.High, b.HighText))}
	}
	if b.VWAP != 0 {
		return &BarError{Field: BarFieldVWAP, Err: fmt.Errorf("%w %v: a bar without volume has no VWAP", ErrBarVWAP, b.VWAP)}
	}
	if why := b.PV.check(); b.PV != "" && (why != "" || !b.PV.IsZero()) {
		return &BarError{Field: BarFieldPV, Err: fmt.Errorf("%w: price×volume sum %q: a bar without volume has 0", ErrBarVWAP, clip(string(b.PV)))}
	}
	return nil
}

// appendBarKey appends the range key of bar b, read at position ordinal of
// the origin hashed into h: <start ms>.<discriminator>, the raw point's form
// (see AppendSortKey), the discriminator a hash of the bar's content, origin
// and position, so that re-ingesting the same file overwrites its bars
// instead of counting them twice.
func appendBarKey(dst []byte, b Bar, h uint64, ordinal int64) []byte {
	h = fnvUint64(h, uint64(ordinal))
	h = fnvString(h, b.Symbol)
	h = fnvUint64(h, uint64(b.Start))
	h = fnvUint64(h, uint64(b.Length))
	for _, v := range [...]float64{b.Open, b.High, b.Low, b.Close, b.VWAP} {
		h = fnvUint64(h, math.Float64bits(v))
	}
	// The exact texts, when there are any (rare): bars that differ only
	// in them are two bars. Without texts the key is the floats' alone.
	for i, t := range [...]string{b.OpenText, b.HighText, b.LowText, b.CloseText, b.VWAPText} {
		if t != "" {
			h = fnvString(fnvUint64(h, uint64(i)), t)
		}
	}
	h = fnvString(h, string(b.Volume))
	h = fnvString(h, string(b.PV))
	h = fnvUint64(h, uint64(b.Trades))
	return appendKey(dst, b.Start, h%hashModulus)
}

// BarSortKey returns the range key of bar b read at position ordinal of
// origin (what MessageEncoder.AddBar writes).
func BarSortKey(b Bar, origin string, ordinal int64) string {
	return string(appendBarKey(nil, b, fnvString(fnvOffset64, origin), ordinal))
}

// QueuedBar is a validated bar with the range key ingestion assigned to it.
type QueuedBar struct {
	Key string `json:"k"`
	Bar
}

// BarPrefix tags the hash key of a symbol's raw bar items (see BarKey).
const BarPrefix = "BAR#"

// BarKey is the hash key of a symbol's raw bars: kept apart from its raw
// points (whose readers expect a price), range key the bar's (BarSortKey),
// so a window's bars are the BETWEEN of MillisRange, as its points are.
// They expire with the raw points; the from-raw repair path reads both.
func BarKey(symbol string) string { return BarPrefix + symbol }

// RawBarItem is a raw bar's item (hash BarKey(symbol), range its key); the
// processor builds it with attributevalue (bars are few: one a minute).
type RawBarItem struct {
	Hash string `dynamodbav:"symbol"`
	Key  string `dynamodbav:"timestamp"` // N: the range key, read as its text
	Bar
	Origin    string `dynamodbav:"origin,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// ExactPrices lists the raw bar's open, high, low, close and VWAP: the
// item stores each exact text as its number (see PriceField).
func (it *RawBarItem) ExactPrices() []PriceField {
	return []PriceField{{AttrOpen, &it.Open, &it.OpenText}, {AttrHigh, &it.High, &it.HighText},
		{AttrLow, &it.Low, &it.LowText}, {AttrClose, &it.Close, &it.CloseText}, {AttrBarVWAP, &it.VWAP, &it.VWAPText}}
}

// AttrBarVWAP is a raw bar item's VWAP attribute (Bar.VWAP's tag).
const AttrBarVWAP = "vwap"
