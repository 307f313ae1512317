package marketdata

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// messageTail closes a message body: the points array, then the object.
const messageTail = "]}"

// ErrPointTooLarge is returned by MessageEncoder.Add when a single point does
// not fit into an empty message.
var ErrPointTooLarge = errors.New("point does not fit into an empty message")

// MessageEncoder renders queue message bodies incrementally: points are
// appended one by one to a single reused buffer, each with its range key
// (AppendSortKey of the point, the encoder's origin and the given ordinal), until
// the next one would make the body exceed the size limit. The body is the
// JSON of a Message, which DecodeMessage reads; for ASCII strings it is byte
// for byte what EncodeMessage produces. Strings are written as ASCII (every
// other character as a \u escape), so a body only holds characters SQS
// accepts, whatever a point's exchange or an object key contains.
//
// Packing this way fills messages to within one point of the limit, and it
// costs no allocation per point, unlike building a Message and marshalling it.
type MessageEncoder struct {
	max        int
	buf        []byte
	prefix     int // length of the opening, up to and including '['
	points     int
	originHash uint64
	// bars: the current message holds bars (a version 2 message whose
	// opening is barsOpening, with no points), not points. One message
	// holds one kind: an object is of one profile.
	bars        bool
	opening     []byte // the points' opening
	barsOpening []byte
}

// NewMessageEncoder returns an encoder of messages of origin whose bodies stay
// within maxBytes. It fails when maxBytes leaves no room for a point.
func NewMessageEncoder(origin string, maxBytes int) (*MessageEncoder, error) {
	e := &MessageEncoder{max: maxBytes, originHash: fnvString(fnvOffset64, origin)}
	b := make([]byte, 0, 256)
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, MessageVersion, 10)
	b = append(b, `,"origin":`...)
	b = appendJSONString(b, origin)
	b = append(b, `,"points":[`...)
	// A point takes at most a few hundred bytes; demand room for a kilobyte.
	if len(b)+len(messageTail)+1024 > maxBytes {
		return nil, fmt.Errorf("message limit %d bytes leaves no room for points of origin %q", maxBytes, origin)
	}
	e.prefix = len(b)
	e.opening = b
	bb := make([]byte, 0, len(b)+16)
	bb = append(bb, `{"v":`...)
	bb = strconv.AppendInt(bb, MessageVersionBars, 10)
	bb = append(bb, `,"origin":`...)
	bb = appendJSONString(bb, origin)
	e.barsOpening = append(bb, `,"points":null,"bars":[`...)
	e.buf = make([]byte, 0, maxBytes+len(messageTail)+512)
	e.buf = append(e.buf, b...)
	return e, nil
}

// AddBar appends bar b, keyed by its ordinal (line or index) in the origin,
// as Add appends a point: false when it does not fit, or when the current
// message holds points (the caller then takes Bytes, Resets and adds again).
func (e *MessageEncoder) AddBar(bar Bar, ordinal int64) (bool, error) {
	if !e.bars && !e.holds(true) {
		return false, nil // a message of points: the caller starts a new one
	}
	b, start := e.open()
	b = appendBarKey(b, bar, e.originHash, ordinal)
	b = append(b, `","symbol":`...)
	b = appendJSONString(b, bar.Symbol)
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, bar.Start, 10)
	b = append(b, `,"length":`...)
	b = strconv.AppendInt(b, bar.Length, 10)
	for _, f := range [...]struct {
		name string
		v    float64
	}{{`,"open":`, bar.Open}, {`,"high":`, bar.High}, {`,"low":`, bar.Low}, {`,"close":`, bar.Close}} {
		b = append(b, f.name...)
		b = appendJSONFloat(b, f.v)
	}
	for _, f := range [...]struct{ name, t string }{ // rare: see Bar.OpenText
		{`,"ot":`, bar.OpenText}, {`,"ht":`, bar.HighText}, {`,"lt":`, bar.LowText}, {`,"ct":`, bar.CloseText}, {`,"vt":`, bar.VWAPText}} {
		b = appendStringMember(b, f.name, f.t)
	}
	b = append(b, `,"volume":`...)
	b = append(b, bar.Volume.String()...) // canonical: Validate checked it
	b = appendFloatMember(b, `,"vwap":`, bar.VWAP)
	if bar.PV != "" {
		b = append(b, `,"pv":`...)
		b = append(b, bar.PV...)
	}
	b = append(b, `,"trades":`...)
	b = strconv.AppendInt(b, bar.Trades, 10)
	return e.close(b, start)
}

// Add appends p, keyed by its ordinal (line or index) in the origin. It
// returns false, leaving the message unchanged, when p does not fit; the
// caller then takes Bytes, Resets and adds p again. Adding to an empty
// message only fails with ErrPointTooLarge.
func (e *MessageEncoder) Add(p Point, ordinal int64) (bool, error) {
	if e.bars && !e.holds(false) {
		return false, nil // a message of bars: the caller starts a new one
	}
	b, start := e.open()
	b = appendSortKey(b, p, e.originHash, ordinal)
	b = append(b, `","symbol":`...)
	b = appendJSONString(b, p.Symbol)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, p.Timestamp, 10)
	b = append(b, `,"price":`...)
	b = appendJSONFloat(b, p.Price)
	b = append(b, `,"volume":`...)
	b = append(b, p.Volume.String()...) // canonical: Validate checked it
	b = appendFloatMember(b, `,"bid":`, p.Bid)
	b = appendFloatMember(b, `,"ask":`, p.Ask)
	b = appendStringMember(b, `,"exchange":`, p.Exchange)
	b = appendStringMember(b, `,"conditions":`, p.Conditions)
	if t := p.PriceTexts; t != nil { // rare: see Point.PriceTexts
		b = appendStringMember(b, `,"pt":`, t.Price)
		b = appendStringMember(b, `,"bt":`, t.Bid)
		b = appendStringMember(b, `,"at":`, t.Ask)
	}
	return e.close(b, start)
}

// Points is the number of points (or bars) in the current message.
func (e *MessageEncoder) Points() int { return e.points }

// Len is the length of the body Bytes would return.
func (e *MessageEncoder) Len() int { return len(e.buf) + len(messageTail) }

// Bytes returns the finished body of the current message. It is valid until
// the next Add or Reset.
func (e *MessageEncoder) Bytes() []byte { return append(e.buf, messageTail...) }

// Reset starts a new, empty message of the same origin.
func (e *MessageEncoder) Reset() {
	e.points = 0
	e.holds(false)
	e.buf = e.buf[:e.prefix]
}

// holds makes the current message one of bars (or of points), starting it
// with that kind's opening when it is empty. It returns false, changing
// nothing, when the message already holds records of the other kind.
func (e *MessageEncoder) holds(bars bool) bool {
	if e.bars == bars {
		return true
	}
	if e.points > 0 {
		return false
	}
	e.bars = bars
	opening := e.opening
	if bars {
		opening = e.barsOpening
	}
	e.buf = append(e.buf[:0], opening...)
	e.prefix = len(e.buf)
	return true
}

// open begins a record (a point or a bar) at the end of the message, up to
// the opening quote of its key; start is where it begins, for close.
func (e *MessageEncoder) open() (b []byte, start int) {
	start = len(e.buf)
	b = e.buf
	if e.points > 0 {
		b = append(b, ',')
	}
	return append(b, `{"k":"`...), start
}

// close ends the record b holds from start on and keeps it when the message
// still fits within e.max; otherwise it drops the record, leaving the message
// as it was, and reports false (with ErrPointTooLarge when the message was
// empty, so that no message could take it).
func (e *MessageEncoder) close(b []byte, start int) (bool, error) {
	b = append(b, '}')
	if len(b)+len(messageTail) > e.max {
		e.buf = b[:start]
		if e.points == 0 {
			return false, ErrPointTooLarge
		}
		return false, nil
	}
	e.buf = b
	e.points++
	return true, nil
}

// appendJSONFloat formats f as encoding/json does: the shortest decimal that
// reads back as f, in exponent form only for very small or large magnitudes.
// appendFloatMember appends member (`,"name":`) and f, unless f is 0: the
// omitempty of the point's and bar's optional numbers.
func appendFloatMember(b []byte, member string, f float64) []byte {
	if f == 0 {
		return b
	}
	return appendJSONFloat(append(b, member...), f)
}

// appendStringMember appends member (`,"name":`) and s as a JSON string,
// unless s is empty: the omitempty of the optional strings.
func appendStringMember(b []byte, member, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, member...), s)
}

func appendJSONFloat(b []byte, f float64) []byte {
	if out, ok := appendShortDecimal(b, f); ok {
		return out
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as in encoding/json.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// appendShortDecimal writes f quickly when it is a decimal with at most 8
// fractional digits and fewer than 16 significant ones, as prices are: it
// finds the smallest k such that m = round(f·10^k) gives back f as m/10^k.
// Both m (< 2^53) and 10^k are exact, so that division is correctly rounded
// and parsing the written "m·10^-k" yields f again; with the smallest k the
// digits are those strconv's shortest formatting writes (a test compares
// them). ok is false for anything else.
func appendShortDecimal(b []byte, f float64) ([]byte, bool) {
	if !(f >= 1e-6 && f < 1e15) {
		return b, false
	}
	for k, p := range pow10 {
		m := math.Round(f * p)
		if m >= 1<<53 {
			return b, false
		}
		if m/p != f {
			continue
		}
		u := uint64(m)
		ip, fp := u, uint64(0)
		if k > 0 {
			d := uint64(p)
			ip, fp = u/d, u%d
		}
		b = strconv.AppendUint(b, ip, 10)
		if k > 0 {
			b = append(b, '.')
			var digits [8]byte
			for i := k - 1; i >= 0; i-- {
				digits[i] = byte('0' + fp%10)
				fp /= 10
			}
			b = append(b, digits[:k]...)
		}
		return b, true
	}
	return b, false
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string of ASCII characters only: the
// escapes encoding/json uses for ASCII (including its HTML-safe ones), and a
// \u escape (a surrogate pair beyond the BMP) for every other character.
// Invalid UTF-8 becomes \ufffd, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = appendUnicodeEscape(b, rune(c))
			}
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			hi := 0xD800 + (r-0x10000)>>10
			lo := 0xDC00 + (r-0x10000)&0x3FF
			b = appendUnicodeEscape(b, hi)
			b = appendUnicodeEscape(b, lo)
		} else {
			b = appendUnicodeEscape(b, r) // RuneError for invalid UTF-8
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendUnicodeEscape(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}
