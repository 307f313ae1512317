package parse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// The fields of a point, as CSV column names and JSON member names.
const (
	fieldSymbol = iota
	fieldTimestamp
	fieldPrice
	fieldVolume
	fieldBid
	fieldAsk
	fieldExchange
	// fieldConditions are the trade's sale conditions: Polygon ids
	// ("14,37") in the native and polygon-trades profiles, an array of SIP
	// codes in alpaca-trades (read with the trade's tape, fieldTape).
	fieldConditions
	// fieldCorrection is Polygon's trade correction indicator
	// (conditions.Correction).
	fieldCorrection
	// fieldTape is Alpaca's tape ("z"): which SIP codes its "c" holds.
	fieldTape
	numFields
)

// nativeFields are the fields the native profile names (fieldNames up to
// it); the others are vendor columns only.
const nativeFields = fieldConditions + 1

var fieldNames = [numFields]string{"symbol", "timestamp", "price", "volume", "bid", "ask", "exchange", "conditions", "correction", "tape"}

// requiredFields are the fields a record must have (bid, ask and exchange are
// optional).
const requiredFields = 1<<fieldSymbol | 1<<fieldTimestamp | 1<<fieldPrice | 1<<fieldVolume

// fieldCategory is the reason category of a bad value of each field.
var fieldCategory = [numFields]string{
	fieldSymbol:     marketdata.ErrSymbol.Error(),
	fieldTimestamp:  marketdata.ErrTimestamp.Error(),
	fieldPrice:      marketdata.ErrPrice.Error(),
	fieldVolume:     marketdata.ErrVolume.Error(),
	fieldBid:        marketdata.ErrQuote.Error(),
	fieldAsk:        marketdata.ErrQuote.Error(),
	fieldExchange:   marketdata.ErrExchange.Error(),
	fieldConditions: marketdata.ErrCondition.Error(),
	fieldCorrection: CategoryCorrection,
	fieldTape:       marketdata.ErrCondition.Error(),
}

// maxExactInt is the largest integer a float64 holds exactly (2^53); an
// integer written in float notation (1e3, 300.0) is accepted up to it.
const maxExactInt = 1 << 53

// str views b as a string without copying. The result must not outlive the
// call it is passed to (strconv's error values would keep it: they are never
// kept here).
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// clip copies at most 40 bytes of b for an error message.
func clip(b []byte) string {
	const n = 40
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

// setField converts the text v of field f (a CSV field, or a JSON number or
// string's content) into p. Empty optional fields mean absent.
func (p *Parser) setField(f int, v []byte) *RecordError {
	pt := &p.rec.Point
	switch f {
	case fieldSymbol:
		pt.Symbol = p.strs.get(v)
	case fieldExchange:
		if !ascii(v) && !utf8.Valid(v) {
			return recordErr(fieldCategory[f], "invalid exchange %s: not valid UTF-8", clip(v))
		}
		pt.Exchange = p.strs.get(v)
	case fieldConditions:
		n, err := p.conditionIDs(v)
		if err != nil {
			return recordErr(fieldCategory[f], "invalid conditions %s: %v", clip(v), err)
		}
		pt.Conditions = n
	case fieldCorrection:
		counts, err := conditions.Correction(str(v))
		if err != nil {
			return recordErr(CategoryCorrection, "invalid correction %s: %v", clip(v), err)
		}
		if !counts {
			return recordErr(CategoryCorrection, "correction %s: the trade was cancelled, in error or superseded by its correction (NYSE TAQ trade correction indicator), so it counts nowhere", clip(v))
		}
	case fieldTimestamp:
		ms, sub, unit, err := parseTimestampWith(v, p.units, &p.minute)
		if err != nil {
			return err
		}
		pt.Timestamp, pt.SubMilliNanos, p.rec.TimestampUnit = ms, sub, unit
	case fieldVolume:
		// A size is a decimal, kept exactly (crypto sizes are fractional:
		// 0.015); its canonical text is what the message, the item and the
		// sums carry, interned apart from the symbols (sizes repeat too).
		dec, why := v, ""
		if !canonicalCount(v) {
			dec, why = marketdata.AppendDecimal(p.vol[:0], v)
			p.vol = dec
		}
		if why == "" && p.prof != nil && p.prof.integerSize && bytes.IndexByte(dec, '.') >= 0 {
			why = "a fractional size; this format's size is an integer count, so the record is refused rather than truncated"
		}
		if why != "" {
			return recordErr(fieldCategory[f], "invalid volume %s: %s", clip(v), why)
		}
		pt.Volume = marketdata.Decimal(p.vols.get(dec))
	case fieldPrice, fieldBid, fieldAsk:
		if f == fieldPrice && p.prof != nil && p.prof.scaledPrice && allDigits(v) {
			if string(v) == undefPrice {
				return recordErr(fieldCategory[f], "invalid price %s: the undefined price (INT64_MAX), not a trade price", clip(v))
			}
			v = p.unscale(v)
		}
		x, why := parseDecimal(v)
		text := ""
		if why == "" {
			text, why = exactText(v, x)
		}
		if why != "" {
			return recordErr(fieldCategory[f], "invalid %s %s: %s", fieldNames[f], clip(v), why)
		}
		setPrice(pt, f, x)
		if text != "" { // rare: the record's point starts without texts
			if pt.PriceTexts == nil {
				pt.PriceTexts = new(marketdata.PriceTexts)
			}
			switch f {
			case fieldPrice:
				pt.PriceTexts.Price = text
			case fieldBid:
				pt.PriceTexts.Bid = text
			default:
				pt.PriceTexts.Ask = text
			}
		}
	}
	return nil
}

// exactText returns the exact text a price (bid, ask, a bar's open, high,
// low, close) read from v as x keeps, "" when the float says it (almost
// always: more digits than a float64 keeps are rare, and a text of at most
// FloatExactDigits+1 bytes never needs one, see AppendExactPrice), or why v
// is refused (more than MaxPriceDigits significant digits, named with the
// limit).
func exactText(v []byte, x float64) (string, string) {
	if len(v) <= marketdata.FloatExactDigits+1 {
		return "", ""
	}
	b, why := marketdata.AppendExactPrice(nil, v, x)
	return string(b), why
}

// parseDecimal parses a decimal number (or NaN/Inf, which validation then
// refuses with a clear reason). Hexadecimal and other Go-only syntaxes are
// refused. why is empty on success.
func parseDecimal(v []byte) (x float64, why string) {
	if len(v) == 0 {
		return 0, "empty"
	}
	i := 0
	if v[0] == '+' || v[0] == '-' {
		i++
	}
	if i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
		if x, ok := fastDecimal(v[i:]); ok {
			if i > 0 && v[0] == '-' {
				x = -x
			}
			return x, ""
		}
		for _, c := range v[i:] {
			if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
				return 0, "not a decimal number"
			}
		}
	}
	x, err := strconv.ParseFloat(str(v), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, "out of range"
		}
		return 0, "not a number"
	}
	return x, ""
}

// parseInteger parses a decimal integer; an integral number in float
// notation (300.0, 1e3) is accepted while it is exact. rangeErr tells an
// out-of-range integer from one that is not an integer.
func parseInteger(v []byte) (n int64, ok, rangeErr bool) {
	// Only a plain integer goes to strconv: its error for anything else
	// (2.00000000, a vendor's integral size) would cost two allocations.
	if plainInteger(v) {
		n, err := strconv.ParseInt(str(v), 10, 64)
		if err == nil {
			return n, true, false
		}
		if err.(*strconv.NumError).Err == strconv.ErrRange {
			return 0, false, true
		}
	}
	x, why := parseDecimal(v)
	if why != "" || x != math.Trunc(x) || math.IsInf(x, 0) {
		return 0, false, why == "out of range"
	}
	if math.Abs(x) > maxExactInt {
		return 0, false, true
	}
	return int64(x), true, false
}

// parseTimestamp reads an integer epoch timestamp in the unit its magnitude
// names (marketdata.TimestampUnits: s, ms, us or ns) or an RFC 3339 time,
// and says which unit it was. The milliseconds are truncated; sub holds the
// nanoseconds within them (marketdata.Point.SubMilliNanos).
func parseTimestamp(v []byte) (ms int64, sub int32, unit string, rerr *RecordError) {
	return parseTimestampIn(v, nil)
}

// parseTimestampIn is parseTimestamp with the integer timestamps limited to
// units (indexes of marketdata.TimestampUnits; nil: any; empty: none, only
// RFC 3339). An integer is still read in the unit its magnitude names, so a
// value outside the ranges of the allowed units is refused, never read in a
// unit it does not look like.
func parseTimestampIn(v []byte, units []int) (ms int64, sub int32, unit string, rerr *RecordError) {
	return parseTimestampWith(v, units, nil)
}

// parseTimestampWith is parseTimestampIn, reading RFC 3339 times with the
// minute cache c (fastRFC3339In; nil: none).
func parseTimestampWith(v []byte, units []int, c *rfcMinute) (ms int64, sub int32, unit string, rerr *RecordError) {
	if len(v) == 0 {
		return 0, 0, "", recordErr(fieldCategory[fieldTimestamp], "invalid timestamp: empty")
	}
	// Fast path: at most 19 plain digits, the usual case (nanoseconds have
	// 19), cannot overflow a uint64; one comparison then tells an int64.
	// Anything else takes parseInteger (signs, float notation, range
	// errors); a test and a fuzz target compare both with a reference.
	if len(v) <= 19 {
		var n uint64
		i := 0
		for ; i+8 <= len(v); i += 8 { // eight digits at a time
			d, ok := digits8(binary.LittleEndian.Uint64(v[i:]))
			if !ok {
				break // the loop below finds the byte that is not a digit
			}
			n = n*1e8 + d
		}
		for ; i < len(v); i++ {
			d := v[i] - '0'
			if d > 9 {
				break
			}
			n = n*10 + uint64(d)
		}
		if i == len(v) && n <= math.MaxInt64 {
			return epochTimestamp(int64(n), v, units)
		}
	}
	if len(v) >= 20 && v[4] == '-' { // an RFC 3339 time, not a number
		if ms, sub, ok := fastRFC3339In(v, c); ok {
			return ms, sub, UnitRFC3339, nil
		}
	}
	if c := v[0]; c >= '0' && c <= '9' || c == '-' || c == '+' {
		if n, ok, rangeErr := parseInteger(v); ok {
			return epochTimestamp(n, v, units)
		} else if rangeErr {
			return 0, 0, "", recordErr(fieldCategory[fieldTimestamp], "invalid timestamp %s: out of range", clip(v))
		}
	}
	t, err := time.Parse(time.RFC3339Nano, str(v))
	if err != nil {
		return 0, 0, "", recordErr(fieldCategory[fieldTimestamp],
			"invalid timestamp %s: want %s, or an RFC 3339 time such as 2024-01-02T15:04:05.123Z", clip(v), unitsHelp(units))
	}
	if y := t.Year(); y < 1 || y > 9999 {
		return 0, 0, "", recordErr(fieldCategory[fieldTimestamp], "invalid timestamp %s: out of range", clip(v))
	}
	return t.UnixMilli(), int32(t.Nanosecond() % marketdata.NanosPerMilli), UnitRFC3339, nil
}

// digits8 reads x, eight bytes in memory order, as an eight-digit decimal
// number; ok is false unless each byte is an ASCII digit. Word arithmetic
// (the digits combined in pairs, then fours, then the eight) instead of a
// loop over the bytes; a test compares it with strconv.
func digits8(x uint64) (n uint64, ok bool) {
	const nibbles, threes = 0xF0F0F0F0F0F0F0F0, 0x3333333333333333
	// Each byte's high nibble is 3, and still 3 once 6 is added (0x30-0x39).
	if x&nibbles|(x+0x0606060606060606)&nibbles>>4 != threes {
		return 0, false
	}
	d := x - 0x3030303030303030
	d = d*10 + d>>8 // each even byte: the pair's number
	d = ((d&0x000000FF000000FF)*(100+1000000<<32) + (d>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
	return d, true
}

// epochTimestamp converts the integer n (whose text is v) by its magnitude,
// allowing only units (nil: any).
func epochTimestamp(n int64, v []byte, units []int) (int64, int32, string, *RecordError) {
	ms, sub, unit, ok := marketdata.EpochMillis(n)
	if ok && units != nil {
		ok = false
		for _, u := range units {
			ok = ok || marketdata.TimestampUnits[u].Name == unit
		}
		if !ok {
			return 0, 0, "", recordErr(fieldCategory[fieldTimestamp], "invalid timestamp %s: reads as %s; want %s", clip(v), unit, unitsHelp(units))
		}
	}
	if ok {
		return ms, sub, unit, nil
	}
	if n < 0 {
		return 0, 0, "", recordErr(fieldCategory[fieldTimestamp], "invalid timestamp %s: before 1970", clip(v))
	}
	return 0, 0, "", recordErr(fieldCategory[fieldTimestamp], "invalid timestamp %s: its magnitude fits no unit; want %s", clip(v), unitsHelp(units))
}

// unitHelp names the accepted integer timestamps, from the units' table.
var unitHelp = marketdata.TimestampUnitsHelp()

// unitsHelp names the integer timestamps units allows (nil: all).
func unitsHelp(units []int) string {
	if units == nil {
		return unitHelp
	}
	if len(units) == 0 {
		return "no epoch integer (this format gives RFC 3339 times)"
	}
	parts := make([]string, len(units))
	for i, u := range units {
		lo, hi := marketdata.TimestampUnits[u].Digits()
		parts[i] = fmt.Sprintf("%s (%d-%d digits)", marketdata.TimestampUnits[u].Name, lo, hi)
	}
	return "an epoch integer in " + strings.Join(parts, " or ")
}

// ascii reports whether b is ASCII (so valid UTF-8): exchange codes are,
// and a loop over four bytes costs less than utf8.Valid's call.
func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// canonicalCount reports whether v is a size already in its canonical text
// (marketdata.AppendDecimal's): 1 to 18 digits without a leading zero, as
// most sizes are, so the volume needs no conversion; a test compares both.
func canonicalCount(v []byte) bool {
	if len(v) == 0 || len(v) > 18 || v[0] == '0' && len(v) > 1 {
		return false
	}
	return allDigits(v)
}

// plainInteger reports whether v is an optional sign and digits.
func plainInteger(v []byte) bool {
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		v = v[1:]
	}
	return allDigits(v)
}

// allDigits reports whether v is a plain unsigned integer.
func allDigits(v []byte) bool {
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(v) > 0
}

// undefPrice is Databento's UNDEF_PRICE, INT64_MAX: "no price", which
// scaled would read as a plausible 9223372036.85.
const undefPrice = "9223372036854775807"

// priceScaleDigits is the number of decimals of a fixed-point integer price
// (Databento: 1 unit = 1e-9).
const priceScaleDigits = 9

// unscale writes the fixed-point integer price v (units of 1e-9) as a
// decimal into p.num (not p.scratch, which may hold the record's other
// fields), so that it converts exactly like the decimal text
// (179660000000 and 179.66 give the same float64).
func (p *Parser) unscale(v []byte) []byte {
	out := p.num[:0]
	if len(v) <= priceScaleDigits {
		out = append(out, '0', '.')
		for range priceScaleDigits - len(v) {
			out = append(out, '0')
		}
		out = append(out, v...)
	} else {
		out = append(out, v[:len(v)-priceScaleDigits]...)
		out = append(out, '.')
		out = append(out, v[len(v)-priceScaleDigits:]...)
	}
	p.num = out
	return out
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastDecimal parses the common plain form digits[.digits] when its digits,
// point left out, make an integer of at most 2^53 and it has at most 19
// digits (no overflow on the way): the mantissa and the power of ten are
// then both exact float64s, so one division is correctly rounded and the
// result equals strconv.ParseFloat's (Clinger's fast path; a test compares
// them). ok is false for anything else, which strconv then parses.
func fastDecimal(v []byte) (x float64, ok bool) {
	var m uint64
	i := 0
	for ; i < len(v) && v[i]-'0' <= 9; i++ {
		m = m*10 + uint64(v[i]-'0')
	}
	frac := 0
	if i < len(v) {
		if v[i] != '.' || i == 0 || i == len(v)-1 {
			return 0, false
		}
		i++
		start := i
		for ; i < len(v) && v[i]-'0' <= 9; i++ {
			m = m*10 + uint64(v[i]-'0')
		}
		if i < len(v) {
			return 0, false
		}
		frac = i - start
	}
	if digits := len(v) - min(frac, 1); digits > 19 || m > 1<<53 { // the point is no digit
		return 0, false
	}
	if frac == 0 {
		return float64(m), true
	}
	return float64(m) / pow10[frac], true
}

// fastRFC3339 reads the common RFC 3339 form YYYY-MM-DDTHH:MM:SS, an
// optional fraction of 1 to 9 digits, and Z or ±HH:MM, into epoch
// milliseconds (truncated, as Time.UnixMilli does) and the nanoseconds
// within them. ok is false for anything else, valid or not, which
// time.Parse then reads; a test and a fuzz target check that both agree.
func fastRFC3339(v []byte) (ms int64, sub int32, ok bool) {
	return fastRFC3339In(v, nil)
}

// rfcMinute remembers the minute of the last RFC 3339 time read (its first
// 16 bytes, YYYY-MM-DDTHH:MM, as two words) and its epoch seconds: a file's
// times share their minute for many records, whose date, hour and minute
// then cost two comparisons.
type rfcMinute struct {
	lo, hi uint64
	secs   int64
	ok     bool
}

// fastRFC3339In is fastRFC3339, reading the minute from c when it is the
// one c holds, and leaving the time's minute in c (c nil: no cache).
func fastRFC3339In(v []byte, c *rfcMinute) (ms int64, sub int32, ok bool) {
	if len(v) < 20 || v[16] != ':' {
		return 0, 0, false
	}
	lo, hi := binary.LittleEndian.Uint64(v), binary.LittleEndian.Uint64(v[8:])
	var base int64
	if c != nil && c.ok && c.lo == lo && c.hi == hi {
		base = c.secs
	} else {
		if base, ok = rfcMinuteSecs(v); !ok {
			return 0, 0, false
		}
		if c != nil {
			*c = rfcMinute{lo, hi, base, true}
		}
	}
	s1, s2 := v[17]-'0', v[18]-'0'
	if s1 > 9 || s2 > 9 {
		return 0, 0, false
	}
	sec := int(s1)*10 + int(s2)
	if sec > 59 {
		return 0, 0, false
	}
	i, nanos := 19, 0
	if v[i] == '.' {
		j := i + 1
		for ; j < len(v); j++ {
			c := v[j] - '0'
			if c > 9 {
				break
			}
			nanos = nanos*10 + int(c)
		}
		digits := j - i - 1
		if digits < 1 || digits > 9 {
			return 0, 0, false
		}
		for range 9 - digits {
			nanos *= 10
		}
		i = j
	}
	offset := 0
	switch rest := v[i:]; {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		a, b, c, d := rest[1]-'0', rest[2]-'0', rest[4]-'0', rest[5]-'0'
		if a > 9 || b > 9 || c > 9 || d > 9 {
			return 0, 0, false
		}
		oh, om := int(a)*10+int(b), int(c)*10+int(d)
		if oh > 23 || om > 59 {
			return 0, 0, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, 0, false
	}
	secs := base + int64(sec-offset)
	return secs*1000 + int64(nanos/1e6), int32(nanos % 1e6), true
}

// rfcMinuteSecs reads the minute YYYY-MM-DDTHH:MM that v starts with (at
// least 16 bytes) into epoch seconds (as UTC), each field by position and
// each digit checked as it is read; ok is false if it is not one.
func rfcMinuteSecs(v []byte) (secs int64, ok bool) {
	if v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' {
		return 0, false
	}
	y1, y2, y3, y4 := v[0]-'0', v[1]-'0', v[2]-'0', v[3]-'0'
	mo1, mo2, d1, d2 := v[5]-'0', v[6]-'0', v[8]-'0', v[9]-'0'
	h1, h2, mi1, mi2 := v[11]-'0', v[12]-'0', v[14]-'0', v[15]-'0'
	if y1 > 9 || y2 > 9 || y3 > 9 || y4 > 9 || mo1 > 9 || mo2 > 9 || d1 > 9 || d2 > 9 ||
		h1 > 9 || h2 > 9 || mi1 > 9 || mi2 > 9 {
		return 0, false
	}
	year := int(y1)*1000 + int(y2)*100 + int(y3)*10 + int(y4)
	month, day := int(mo1)*10+int(mo2), int(d1)*10+int(d2)
	hour, minute := int(h1)*10+int(h2), int(mi1)*10+int(mi2)
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 {
		return 0, false
	}
	return daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60), true
}

// daysIn is the number of days of month in year (proleptic Gregorian).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to the date (Howard
// Hinnant's days_from_civil).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here (year >= 1)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// setPrice sets the price field f (fieldPrice, fieldBid or fieldAsk) of pt
// to x.
func setPrice(pt *marketdata.Point, f int, x float64) {
	switch f {
	case fieldPrice:
		pt.Price = x
	case fieldBid:
		pt.Bid = x
	default:
		pt.Ask = x
	}
}
