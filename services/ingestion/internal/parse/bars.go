package parse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Bars: a bar profile's records are OHLCV bars (marketdata.Bar), delivered
// in Record.Bar instead of Record.Point. A bar profile's columns map to the
// bar fields below (a profile's columns may also name fieldSymbol); its
// parser fills p.bar through setBarField and ends each record with
// finishBar, which validates the bar and names the vendor's column in a
// refusal, as the point profiles do.

// The fields of a bar, after the point's (so that one column table and
// vendorErr serve both).
const (
	// fieldBarStart is the bar's start time (any unit the profile allows;
	// it must fall on a millisecond).
	fieldBarStart = numFields + iota
	fieldOpen
	fieldHigh
	fieldLow
	fieldClose
	fieldBarVolume
	// fieldVWAP is the vendor's VWAP (Alpaca's vw).
	fieldVWAP
	// fieldQuoteVolume is the bar's exact Σ price×volume (Binance's quote
	// asset volume).
	fieldQuoteVolume
	fieldTrades
	// fieldBarEnd is the bar's last time (Binance's close_time): it must be
	// start + length - 1 ms, which checks the length the file name gave.
	fieldBarEnd
	numBarFields
)

// barFieldNames name the bar fields (after the point fields).
var barFieldNames = [numBarFields - numFields]string{"start", "open", "high", "low", "close", "volume", "vwap", "pv", "trades", "end"}

// requiredBarFields are the fields every bar must give (its symbol too,
// unless the object gives it).
const requiredBarFields = 1<<fieldBarStart | 1<<fieldOpen | 1<<fieldHigh | 1<<fieldLow | 1<<fieldClose |
	1<<fieldBarVolume | 1<<fieldTrades

// barFieldOf maps a marketdata.BarError's field to the parser's field (-1:
// none, the reason then names the profile only).
var barFieldOf = map[string]int{
	marketdata.BarFieldSymbol: fieldSymbol, marketdata.BarFieldStart: fieldBarStart,
	marketdata.BarFieldOpen: fieldOpen, marketdata.BarFieldHigh: fieldHigh, marketdata.BarFieldLow: fieldLow,
	marketdata.BarFieldClose: fieldClose, marketdata.BarFieldVolume: fieldBarVolume,
	marketdata.BarFieldVWAP: fieldVWAP, marketdata.BarFieldPV: fieldQuoteVolume,
	marketdata.BarFieldTrades: fieldTrades, marketdata.BarFieldLength: -1,
}

// fieldName names field f of either kind.
func fieldName(f int) string {
	if f >= numFields {
		return barFieldNames[f-numFields]
	}
	return fieldNames[f]
}

// barCategory is the reason category of a bad value of bar field f.
func barCategory(f int) string {
	switch f {
	case fieldSymbol:
		return marketdata.ErrSymbol.Error()
	case fieldBarStart, fieldBarEnd:
		return marketdata.ErrTimestamp.Error()
	case fieldOpen, fieldHigh, fieldLow, fieldClose:
		return marketdata.ErrPrice.Error()
	case fieldBarVolume:
		return marketdata.ErrVolume.Error()
	case fieldVWAP, fieldQuoteVolume:
		return marketdata.ErrBarVWAP.Error()
	case fieldTrades:
		return marketdata.ErrBarTrades.Error()
	}
	return "invalid bar"
}

// startBar resets p.rec for a bar record at index.
func (p *Parser) startBar(index int64) {
	p.rec = Record{Index: index}
	p.bar = marketdata.Bar{}
	p.barEnd = -1
}

// setBarField converts the text v of bar field f (a CSV field, or a JSON
// number or string's content) into p.bar.
func (p *Parser) setBarField(f int, v []byte) *RecordError {
	b := &p.bar
	switch f {
	case fieldSymbol:
		b.Symbol = p.strs.get(v)
	case fieldBarStart, fieldBarEnd:
		if f == fieldBarEnd {
			if n, ok := smallCount(v); ok {
				// A plain integer (Binance's close_time): the bar's last
				// tick in its start's unit, read in that unit once the
				// bar is complete (finishBar), not converted by magnitude.
				p.barEnd, p.barEndRaw, p.barEndPlain = 0, n, true
				break
			}
		}
		ms, sub, unit, err := parseTimestampIn(v, p.units)
		if err != nil {
			return err
		}
		if f == fieldBarEnd {
			// The last tick of the bar, in the start's unit: in µs it is
			// not on a millisecond (finishBar checks it).
			p.barEnd, p.barEndSub, p.barEndPlain = ms, sub, false
			break
		}
		if sub != 0 {
			return recordErr(barCategory(f), "invalid %s %s: not on a millisecond (a misaligned bar)", fieldName(f), clip(v))
		}
		b.Start, p.rec.TimestampUnit = ms, unit
	case fieldOpen, fieldHigh, fieldLow, fieldClose, fieldVWAP:
		x, why := parseDecimal(v)
		text := ""
		if why == "" {
			// Kept as a trade's price is, the VWAP too (the raw bar item
			// stores it as given; the sums take its float).
			text, why = exactText(v, x)
		}
		if why != "" {
			return recordErr(barCategory(f), "invalid %s %s: %s", fieldName(f), clip(v), why)
		}
		switch f {
		case fieldOpen:
			b.Open, b.OpenText = x, text
		case fieldHigh:
			b.High, b.HighText = x, text
		case fieldLow:
			b.Low, b.LowText = x, text
		case fieldClose:
			b.Close, b.CloseText = x, text
		default:
			b.VWAP, b.VWAPText = x, text
		}
	case fieldBarVolume, fieldQuoteVolume:
		dec, why := v, ""
		if c, ok := plainDecimal(v); ok {
			dec = c // the usual plain text: its canonical form is a prefix of it
		} else {
			dec, why = marketdata.AppendDecimal(p.vol[:0], v)
			p.vol = dec
		}
		if why != "" {
			return recordErr(barCategory(f), "invalid %s %s: %s", fieldName(f), clip(v), why)
		}
		if f == fieldBarVolume {
			b.Volume = marketdata.Decimal(p.vols.get(dec))
		} else {
			b.PV = marketdata.Decimal(p.vols.get(dec)) // copied into the interner's arena on a miss
		}
	case fieldTrades:
		n, ok := smallCount(v)
		if !ok {
			n, ok, _ = parseInteger(v)
		}
		if !ok || n < 0 {
			return recordErr(barCategory(f), "invalid trades %s: want an integer >= 1", clip(v))
		}
		b.Trades = n
	}
	return nil
}

// finishBar completes the bar in p.bar (its symbol when the object gives
// it, its length) and validates it, setting p.rec.Bar or p.rec.Err.
func (p *Parser) finishBar() {
	b := &p.bar
	if p.symbol != "" {
		b.Symbol = p.symbol
	}
	b.Length = p.barLength
	if p.barEnd >= 0 && p.barEndPlain {
		p.barEnd, p.barEndSub = endIn(p.barEndRaw, p.rec.TimestampUnit)
	}
	if p.barEnd >= 0 && !p.endFits() {
		u := p.rec.TimestampUnit
		last := map[string]int32{"us": 999_000, "ns": 999_999}[u] // the last tick within the bar's last ms
		p.rec.Err = p.vendorErr(fieldBarEnd, recordErr(marketdata.ErrBarLength.Error(),
			"end %s is not %s, the bar's last %s (start + %s - 1 %s): the bar is not %s long",
			inUnit(p.barEnd, p.barEndSub, u), inUnit(b.End(), last, u), u, p.barLengthName, u, p.barLengthName))
		return
	}
	if err := b.Validate(p.Now); err != nil {
		var be *marketdata.BarError
		f, cat := -1, "invalid bar"
		if errors.As(err, &be) {
			if g, ok := barFieldOf[be.Field]; ok {
				f = g
			}
			cat = sentinelText(be.Err)
		}
		p.rec.Err = p.vendorErr(f, &RecordError{Category: cat, Reason: err.Error()})
		return
	}
	if err := p.dayAggregateErr(b.Start); err != nil {
		p.rec.Err = p.vendorErr(fieldBarStart, err)
		return
	}
	p.rec.Bar = b
}

// endFits reports whether the bar's end time (Binance's close_time) is its
// last tick in the unit of its start: start + length - 1 ms for a start in
// ms, start + length - 1 µs for one in µs (Binance's spot files from 2025).
func (p *Parser) endFits() bool {
	tick := int64(1_000_000) // ns in one unit of the start
	switch p.rec.TimestampUnit {
	case "us":
		tick = 1_000
	case "ns":
		tick = 1
	}
	// In ns from the start: a difference of more than a day cannot fit,
	// and is not multiplied (no overflow).
	d := p.barEnd - p.bar.Start
	if d < 0 || d > 86_400_000 {
		return false
	}
	return d*1_000_000+int64(p.barEndSub) == p.bar.Length*1_000_000-tick
}

// endIn reads the plain integer end time n in unit (the start's: ms, us or
// ns; any other, ms) as milliseconds and nanoseconds within the last.
func endIn(n int64, unit string) (ms int64, sub int32) {
	switch unit {
	case "us":
		return n / 1_000, int32(n%1_000) * 1_000
	case "ns":
		return n / 1_000_000, int32(n % 1_000_000)
	}
	return n, 0
}

// inUnit writes the time ms (and sub ns) as an integer of unit (ms, us or
// ns; rfc3339 and others in ms), as the file would.
func inUnit(ms int64, sub int32, unit string) string {
	switch unit {
	case "us":
		return strconv.FormatInt(ms*1_000+int64(sub)/1_000, 10)
	case "ns":
		return strconv.FormatInt(ms*1_000_000+int64(sub), 10)
	}
	return strconv.FormatInt(ms, 10)
}

// sentinelText is the category of a bar validation error: the text of the
// marketdata sentinel it wraps.
func sentinelText(err error) string {
	for _, s := range []error{marketdata.ErrSymbol, marketdata.ErrPrice, marketdata.ErrVolume, marketdata.ErrTimestamp,
		marketdata.ErrBarLength, marketdata.ErrBarTrades, marketdata.ErrBarVWAP} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "invalid bar"
}

// useBarLength settles the length of the bars of the object: the forced
// timeframe (Options.Timeframe), else def (the profile's, or what the
// object's name says). A length the pipeline refuses refuses the object:
// every bar of it would be.
func (p *Parser) useBarLength(def string) error {
	name := def
	if p.Options.Timeframe != "" {
		name = p.Options.Timeframe
	}
	ms, err := marketdata.ParseBarLength(name)
	if err != nil {
		return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf("%s: %v; bars longer than 5 minutes, or not dividing the 5-minute window, are refused", p.prof.name, err)}
	}
	p.barLength, p.barLengthName = ms, name
	return nil
}

// requiredBar returns the bar fields a record of the current profile must
// give.
func (p *Parser) requiredBar() int {
	if p.symbol != "" {
		return requiredBarFields
	}
	return requiredBarFields | 1<<fieldSymbol
}

// barHeader checks that a bar profile's CSV columns (cols, each a field or
// ignoredField) give every required bar field.
func (p *Parser) barHeader(cols []int) error {
	seen := 0
	for _, f := range cols {
		if f >= 0 {
			seen |= 1 << f
		}
	}
	if missing := p.prof.missingColumns(p.requiredBar(), seen); len(missing) > 0 {
		return &ObjectError{Category: ObjectBadHeader, Reason: fmt.Sprintf(
			"invalid CSV header for the format %s: missing column(s) %s", p.prof.name, strings.Join(missing, ", "))}
	}
	return nil
}

// smallCount reads a plain count of at most 18 digits (a bar's trades, the
// usual case) without strconv; ok is false for anything else, which
// parseInteger then reads.
func smallCount(v []byte) (n int64, ok bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	for _, c := range v {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int64(d)
	}
	return n, true
}
