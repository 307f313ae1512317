package parse

import (
	"bytes"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// alpacaTradesProfile is the profile fastAlpacaTrade reads.
var alpacaTradesProfile = profileNamed(marketdata.ProfileAlpacaTrades)

// fastAlpacaTrade parses raw when it is an Alpaca trade as Alpaca writes
// one: a compact object ({"T":"t","S":"AAPL","i":1,...}, no white space) of
// one-character names, each value of the kind its field takes (a non-empty
// plain string for S, x, z; an RFC 3339 string for t; a plain number for p
// and s; a flat array for c), every member valid. It converts each member
// as member does, where member's general dispatch (kinds, escapes, empty
// strings, null) costs more than the conversion, and then finishes the
// record as fastPoint does. It returns false at the first thing it does
// not take as above (bad values too), having set only parts of p.rec.Point
// and p.rec.TimestampUnit, which the caller clears: fastPoint or the slow
// path then read the record from scratch and say what is wrong with it. A
// test compares it with the slow path on mutations of such records.
func (p *Parser) fastAlpacaTrade(raw []byte) bool {
	n := len(raw)
	if n < 2 || raw[0] != '{' || raw[n-1] != '}' {
		return false
	}
	pt := &p.rec.Point
	one := &alpacaTradesProfile.oneChar
	m := members{plain: true}
	// Every index read below is < n-1: raw[n-1] is the closing brace, so a
	// member that runs into it stops there.
	for i := 1; ; {
		// "X": a one-character plain name.
		if i+4 >= n || raw[i] != '"' || raw[i+2] != '"' || raw[i+3] != ':' || !plainString[raw[i+1]] {
			return false
		}
		f := int(one[raw[i+1]])
		i += 4
		var j int
		var ok bool
		switch f {
		case fieldTimestamp:
			// The time's own reading checks each of its bytes (digits and
			// the separators of RFC 3339), so a time it reads was a plain
			// string: no scan of it as a string first.
			if raw[i] != '"' {
				return false
			}
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
		case fieldPrice:
			// parseDecimal's fast case; a text of at most
			// FloatExactDigits+1 bytes needs no exact text (setField).
			if raw[i]-'0' > 9 {
				return false
			}
			if j, ok = fastNumber(raw, i); !ok || j-i > marketdata.FloatExactDigits+1 {
				return false
			}
			if pt.Price, ok = fastDecimal(raw[i:j]); !ok {
				return false
			}
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
			if raw[i] != '[' {
				return false
			}
			if j, ok = fastArray(raw, i); !ok {
				return false
			}
			m.sip = raw[i:j]
		case ignoredField:
			// A member Alpaca adds (T, i, ...): ignored, but well-formed.
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
		if f >= 0 {
			if m.seen&(1<<f) != 0 {
				return false // a repeated field: the general path refuses it
			}
			m.seen |= 1 << f
			m.present |= 1 << f
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
