package parse

import (
	"bytes"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// fastCompact parses raw when it is a point record (not a bar) as the
// vendors' and our own writers write one: a compact object (no white
// space) whose names are Alpaca's one-character ones or the columns the
// previous record had at their positions (fastName's guess), each value
// of the kind its field takes (a non-empty plain string for the symbol,
// exchange and tape; an RFC 3339 string or an epoch integer for the time;
// a plain number for the prices and size; a flat array for Alpaca's
// conditions), every member valid. It converts each member as member does,
// without member's general dispatch (kinds, escapes, empty strings, null),
// which costs more than the conversion, and finishes the record as
// fastPoint does. It returns false at the first thing it does not take as
// above (bad values too), having set only parts of p.rec.Point and
// p.rec.TimestampUnit, which the caller clears: fastPoint or the slow path
// then read the record from scratch and say what is wrong with it. A test
// compares it with the slow path on mutations of such records.
func (p *Parser) fastCompact(raw []byte) bool {
	n := len(raw)
	if n < 2 || raw[0] != '{' || raw[n-1] != '}' {
		return false
	}
	prof := p.prof
	pt := &p.rec.Point
	m := members{plain: true}
	// Every index read below is < n-1: raw[n-1] is the closing brace, so a
	// member that runs into it stops there.
	for i, pos := 1, 0; ; pos++ {
		// The name, then ':'.
		if i+4 >= n || raw[i] != '"' {
			return false
		}
		var f int
		if raw[i+2] == '"' && prof != native {
			if !plainString[raw[i+1]] {
				return false
			}
			f = int(prof.oneChar[raw[i+1]])
			i += 3
		} else {
			end, field, ok := p.fastName(raw, i, pos)
			if !ok {
				return false
			}
			f, i = field, end
		}
		if raw[i] != ':' {
			return false
		}
		i++
		if f == ignoredField {
			if !prof.ignoreOthers {
				return false // the general path refuses the name
			}
		} else {
			if m.seen&(1<<f) != 0 {
				return false // a repeated field: the general path refuses it
			}
			m.seen |= 1 << f
			m.present |= 1 << f
		}
		var j int
		var ok bool
		switch f {
		case fieldTimestamp:
			if raw[i] != '"' {
				// A number (an epoch integer), read as setField does.
				if j, ok = fastNumber(raw, i); !ok {
					return false
				}
				ms, sub, unit, rerr := parseTimestampWith(raw[i:j], p.units, &p.minute)
				if rerr != nil {
					return false
				}
				pt.Timestamp, pt.SubMilliNanos, p.rec.TimestampUnit = ms, sub, unit
				break
			}
			// An RFC 3339 string: the time's own reading checks each of
			// its bytes (digits and RFC 3339's separators), so a time it
			// reads was a plain string and needs no scan as one first;
			// parseTimestampWith reads a text of 20 bytes or more with
			// it too.
			q := bytes.IndexByte(raw[i+1:n-1], '"')
			if q < 0 {
				return false
			}
			ms, sub, tok := fastRFC3339In(raw[i+1:i+1+q], &p.minute)
			if !tok {
				return false
			}
			pt.Timestamp, pt.SubMilliNanos, p.rec.TimestampUnit = ms, sub, UnitRFC3339
			j = i + q + 2
		case fieldPrice, fieldBid, fieldAsk:
			// parseDecimal's fast case; a text of at most
			// FloatExactDigits+1 bytes needs no exact text (setField).
			if raw[i]-'0' > 9 || f == fieldPrice && prof.scaledPrice {
				return false
			}
			if j, ok = fastNumber(raw, i); !ok || j-i > marketdata.FloatExactDigits+1 {
				return false
			}
			x, ok := fastDecimal(raw[i:j])
			if !ok {
				return false
			}
			setPrice(pt, f, x)
		case fieldVolume:
			if j, ok = fastNumber(raw, i); !ok || !canonicalCount(raw[i:j]) {
				return false
			}
			pt.Volume = marketdata.Decimal(p.vols.get(raw[i:j]))
		case fieldSymbol, fieldExchange, fieldTape:
			if j, ok = fastString(raw, i); !ok || j == i+2 {
				return false // not a plain string, or "" (absent)
			}
			v := raw[i+1 : j-1]
			switch f {
			case fieldSymbol:
				pt.Symbol = p.strs.get(v)
			case fieldExchange:
				pt.Exchange = p.strs.get(v) // plain: ASCII
			default:
				m.tape = string(v) // one byte when valid: no allocation
			}
		case fieldConditions:
			if !prof.sipConditions {
				// Polygon's ids, "14,37": read as setField does.
				if j, ok = fastString(raw, i); !ok || j == i+2 {
					return false
				}
				c, err := p.conditionIDs(raw[i+1 : j-1])
				if err != nil {
					return false
				}
				pt.Conditions = c
				break
			}
			if raw[i] != '[' {
				return false
			}
			if j, ok = fastArray(raw, i); !ok {
				return false
			}
			m.sip = raw[i:j]
		case ignoredField:
			// A member a vendor adds (Alpaca's T, i, ...): ignored, but
			// well-formed.
			switch c := raw[i]; {
			case c == '"':
				j, ok = fastString(raw, i)
			case c == '[':
				j, ok = fastArray(raw, i)
			default:
				j, ok = fastNumber(raw, i)
			}
			if !ok {
				return false
			}
		default:
			return false
		}
		switch {
		case j >= n:
			return false
		case raw[j] == ',':
			i = j + 1
			continue
		case j == n-1: // the closing brace
		default:
			return false
		}
		break
	}
	p.finish(&m)
	return true
}
