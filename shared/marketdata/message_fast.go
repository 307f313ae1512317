package marketdata

import (
	"encoding/json"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeFast parses body when it has the plain shape EncodeMessage produces: an
// object with the keys "v", "origin" and "points" (each at most once), points
// that are objects with only the keys of QueuedPoint, strings, and numbers.
// It returns ok=false, and nothing else, for anything it does not handle
// (null but for "points", unknown or differently cased keys, a repeated "points", a fraction
// or exponent in an integer, a number out of range, malformed JSON...), and
// DecodeMessage then lets encoding/json decide. When ok is true, m is exactly
// what json.Unmarshal would have produced, which the differential and fuzz
// tests check.
//
// It exists for speed: the processor decodes bodies of up to limits.QueueMaxMessageBytes, and encoding/json's
// reflection costs about 2 µs per point. Every string field is a substring of
// the body, so a point costs no allocation besides its share of the Points
// slice.
func decodeFast(body string) (m Message, ok bool) {
	d := fastDecoder{s: body}
	if !d.message(&m) {
		return Message{}, false
	}
	d.ws()
	if d.i != len(d.s) {
		return Message{}, false
	}
	return m, true
}

type fastDecoder struct {
	s string
	i int
}

func (d *fastDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c.
func (d *fastDecoder) next(c byte) bool {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// member reads the key of the next member of an object and the colon after
// it, leaving the decoder at the value. It reports end at the closing brace.
// first says whether the opening brace was just read.
func (d *fastDecoder) member(first bool) (key string, end, ok bool) {
	if d.next('}') {
		return "", true, true
	}
	if !first && !d.next(',') {
		return "", false, false
	}
	d.ws()
	if key, ok = d.str(); !ok || !d.next(':') {
		return "", false, false
	}
	d.ws()
	return key, false, true
}

func (d *fastDecoder) message(m *Message) bool {
	if !d.next('{') {
		return false
	}
	seenPoints := false
	for first := true; ; first = false {
		key, end, ok := d.member(first)
		if !ok || end {
			return ok
		}
		switch key {
		case "v":
			var v int64
			v, ok = d.integer(strconv.IntSize)
			m.Version = int(v)
		case "origin":
			m.Origin, ok = d.str()
		case "points":
			// encoding/json decodes a repeated array into the existing
			// elements, merging fields; leave that to it.
			if seenPoints {
				return false
			}
			seenPoints = true
			if strings.HasPrefix(d.s[d.i:], "null") {
				// EncodeMessage writes a message without points so.
				d.i += len("null")
				m.Points, ok = nil, true
				break
			}
			m.Points, ok = d.points()
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}

func (d *fastDecoder) points() ([]QueuedPoint, bool) {
	if !d.next('[') {
		return nil, false
	}
	// Room for one point per opening brace left in the body (a string may
	// hold braces too, so at least one per point): the slice is neither
	// regrown, which would dominate the cost for large bodies, nor larger
	// than the message needs (it is zeroed and scanned by the collector).
	// Braces in strings are bounded by the bytes a point takes at least.
	rest := d.s[d.i:]
	pts := make([]QueuedPoint, 0, min(strings.Count(rest, "{"), len(rest)/minPointBytes+1))
	if d.next(']') {
		return pts, true
	}
	for {
		pts = append(pts, QueuedPoint{})
		if !d.point(&pts[len(pts)-1]) {
			return nil, false
		}
		if d.next(',') {
			continue
		}
		return pts, d.next(']')
	}
}

// minPointBytes is the least a point of a valid message (it has a key)
// takes in a body: `{"k":"1.1"},`.
const minPointBytes = len(`{"k":"1.1"},`)

func (d *fastDecoder) point(p *QueuedPoint) bool {
	if !d.next('{') {
		return false
	}
	n, ok := d.encoderOrder(p)
	if !ok {
		return false
	}
	for first := n == 0; ; first = false {
		key, end, ok := d.member(first)
		if !ok || end {
			return ok
		}
		if !d.pointField(p, key) {
			return false
		}
	}
}

// pointMembers are the members of a point in the order MessageEncoder.Add
// writes them (a test keeps the two in step), each as the text before its
// value: `"k":` first, then `,"symbol":` and so on.
var pointMembers = func() (m [12]struct{ key, text string }) {
	for i, key := range [...]string{"k", "symbol", "timestamp", "price", "volume", "bid", "ask", "exchange", "conditions", "pt", "bt", "at"} {
		m[i].key, m[i].text = key, `,"`+key+`":`
		if i == 0 {
			m[i].text = m[i].text[1:]
		}
	}
	return m
}()

// encoderOrder reads the members of a point, just after its opening brace,
// that come in the order and the compact form MessageEncoder writes, any of
// them left out: each key is recognised by comparing its whole text at once
// rather than scanned, unescaped and looked up. It stops at the first
// member it does not expect, and point's general loop reads the rest (any
// order, repeats, white space, keys it does not know), so what it accepts
// is decoded as that loop would. It returns how many members it read.
func (d *fastDecoder) encoderOrder(p *QueuedPoint) (n int, ok bool) {
	for _, m := range &pointMembers {
		if d.i < len(d.s) && d.s[d.i] == '}' {
			break // the point's end: no member left to look for
		}
		text := m.text
		if n == 0 && text[0] == ',' {
			text = text[1:]
		}
		if !strings.HasPrefix(d.s[d.i:], text) {
			continue
		}
		d.i += len(text)
		if !d.pointField(p, m.key) {
			return n, false
		}
		n++
	}
	return n, true
}

// pointField reads the value of the point's member key, the decoder at the
// value.
func (d *fastDecoder) pointField(p *QueuedPoint, key string) (ok bool) {
	switch key {
	case "k":
		p.Key, ok = d.str()
	case "symbol":
		p.Symbol, ok = d.str()
	case "timestamp":
		p.Timestamp, ok = d.integer(64)
	case "price":
		p.Price, ok = d.float()

	case "volume":
		p.Volume, ok = d.decimal()
	case "bid":
		p.Bid, ok = d.float()

	case "ask":
		p.Ask, ok = d.float()

	case "exchange":
		p.Exchange, ok = d.str()
	case "conditions":
		p.Conditions, ok = d.str()
	case "pt", "bt", "at": // exact price texts, rare (Point.PriceTexts)
		if p.PriceTexts == nil { // as encoding/json allocates it
			p.PriceTexts = new(PriceTexts)
		}
		t := &p.PriceTexts.Price
		if key == "bt" {
			t = &p.PriceTexts.Bid
		} else if key == "at" {
			t = &p.PriceTexts.Ask
		}
		*t, ok = d.str()
	}
	return ok
}

// plain marks the bytes that stand for themselves in a JSON string: not the
// quote, the backslash, control characters, nor (to be checked as UTF-8)
// non-ASCII bytes.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str parses a string literal. Plain ASCII literals are returned as
// substrings of the body; literals with escapes or non-ASCII bytes go through
// encoding/json, so their meaning (including its replacement of invalid
// UTF-8) is exactly encoding/json's.
func (d *fastDecoder) str() (string, bool) {
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return "", false
	}
	start := d.i
	d.i = plainEnd(d.s, d.i+1)
	if d.i < len(d.s) && d.s[d.i] == '"' {
		d.i++
		return d.s[start+1 : d.i-1], true
	}
	// Escapes, non-ASCII or control characters: find the end, then ask
	// encoding/json.
	for d.i < len(d.s) {
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			var out string
			if json.Unmarshal([]byte(d.s[start:d.i]), &out) != nil {
				return "", false
			}
			return out, true
		case c == '\\':
			d.i += 2 // the escaped byte is never a quote that ends the literal
		case c < 0x20:
			return "", false // invalid JSON
		default:
			d.i++
		}
	}
	return "", false
}

// plainEnd returns the index of the first byte of s from i on that is not
// plain (or len(s)). It looks at eight bytes at a time: a word without a
// quote, backslash, control character or non-ASCII byte is skipped whole.
func plainEnd(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := load64(s[i : i+8])
		// The high bit of a byte is set in q (b) when the byte, or one
		// after a byte that is, is a quote (a backslash); in c when it, or
		// one after, is below 0x20; in x when it is non-ASCII. So the
		// lowest set high bit of their union is the first byte not plain.
		q := x ^ ones*'"'
		q = (q - ones) &^ q
		b := x ^ ones*'\\'
		b = (b - ones) &^ b
		c := (x - ones*0x20) &^ x
		if m := (q | b | c | x) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(s) && plain[s[i]] {
		i++
	}
	return i
}

// load64 returns the first eight bytes of s as a little-endian word (the
// compiler makes it one load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// eightDigits returns the value of the first eight bytes of s when they are
// all decimal digits.
func eightDigits(s string) (uint64, bool) {
	const nibbles, zeros, sixes = 0xF0F0F0F0F0F0F0F0, 0x3030303030303030, 0x0606060606060606
	x := load64(s)
	// '0'-'9' are 0x30-0x39: the high nibble is 3, also after adding 6.
	if x&nibbles != zeros || (x+sixes)&nibbles != zeros {
		return 0, false
	}
	x -= zeros
	x = x*10 + x>>8 // pairs of digits, in every other byte
	x = ((x&0x000000FF000000FF)*(100+1000000<<32) + (x>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
	return x, true
}

// number scans a JSON number literal and reports whether it has a fraction
// or an exponent.
func (d *fastDecoder) number() (lit string, isInt, ok bool) {
	start := d.i
	if d.i < len(d.s) && d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case d.i < len(d.s) && d.s[d.i] >= '1' && d.s[d.i] <= '9':
		d.digits()
	default:
		return "", false, false
	}
	isInt = true
	if d.i < len(d.s) && d.s[d.i] == '.' {
		isInt = false
		d.i++
		if !d.digits() {
			return "", false, false
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		isInt = false
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return "", false, false
		}
	}
	return d.s[start:d.i], isInt, true
}

func (d *fastDecoder) digits() bool {
	start := d.i
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// integer parses a JSON number into a Go integer of the given size, as
// encoding/json does: a fraction, exponent or overflow is not handled here.
func (d *fastDecoder) integer(bits int) (int64, bool) {
	start := d.i
	if mant, neg, digits, frac := d.decimalParts(); digits > 0 && frac == 0 && digits <= maxExactDigits && bits == 64 {
		// At most 18 digits: no overflow.
		v := int64(mant)
		if neg {
			v = -v
		}
		return v, true
	}
	d.i = start
	lit, isInt, ok := d.number()
	if !ok || !isInt {
		return 0, false
	}
	v, err := strconv.ParseInt(lit, 10, bits)
	return v, err == nil
}

// decimal takes a number literal that is already a Decimal's canonical text
// as it is (a substring of the body); anything else (1.50, 1e3, -1) is
// left to encoding/json and Decimal.UnmarshalJSON.
func (d *fastDecoder) decimal() (Decimal, bool) {
	lit, _, ok := d.number()
	if !ok || lit[0] == '-' {
		return "", false
	}
	// number() admits no leading zeros: an integer without a sign is
	// canonical. A fraction is when it has no exponent nor trailing zero.
	// Either must be within the limits UnmarshalJSON holds a decimal to
	// (sumLimits; Validate holds a point's volume to its own); otherwise
	// encoding/json decodes it and says why.
	ok, intLen, scale := canonical(lit)
	if !ok || scale > sumLimits.maxScale || intLen > sumLimits.maxInt {
		return "", false
	}
	return Decimal(lit), true
}

// float parses a JSON number into a float64 with the same conversion
// encoding/json uses; out-of-range values are not handled here.
func (d *fastDecoder) float() (float64, bool) {
	start := d.i
	// A decimal of at most 2^53 without its point, and at most 22
	// fractional digits, is the exact quotient of two exactly representable
	// numbers, so one division rounds it correctly, as strconv.ParseFloat
	// does (it takes the same shortcut).
	if mant, neg, digits, frac := d.decimalParts(); digits > 0 && digits <= maxExactDigits && mant <= 1<<53 && frac < len(exactPow10) {
		v := float64(mant)
		if neg {
			v = -v
		}
		if frac > 0 {
			v /= exactPow10[frac]
		}
		return v, true
	}
	d.i = start
	lit, _, ok := d.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(lit, 64)
	return v, err == nil
}

// maxExactDigits is the most digits decimalParts accumulates without overflow.
const maxExactDigits = 18

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// decimalParts reads a JSON number without exponent in one pass: its digits as
// one integer mant (meaningful when there are at most maxExactDigits), its
// sign, how many digits it has and how many of them are fractional. It
// returns digits = 0, the decoder anywhere, for anything else (an exponent,
// a malformed number), which the callers leave to number and strconv.
func (d *fastDecoder) decimalParts() (mant uint64, neg bool, digits, frac int) {
	s, i := d.s, d.i
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			mant = mant*10 + uint64(s[i]-'0')
		}
	default:
		return 0, false, 0, 0
	}
	digits = i - intStart
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			mant = mant*10 + uint64(s[i]-'0')
		}
		frac = i - fracStart
		if frac == 0 {
			return 0, false, 0, 0
		}
		digits += frac
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		return 0, false, 0, 0
	}
	d.i = i
	return mant, neg, digits, frac
}

// appendDigits reads the digits of s from i on into mant (which overflows
// past 19 digits: callers count them) and returns the index after them.
// Eight at a time pays for long runs such as a range key's (numbers in a
// message are mostly short: decimalParts reads them a byte at a time).
func appendDigits(mant uint64, s string, i int) (uint64, int) {
	for i+8 <= len(s) {
		v, ok := eightDigits(s[i : i+8])
		if !ok {
			break
		}
		mant = mant*1e8 + v
		i += 8
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		mant = mant*10 + uint64(s[i]-'0')
		i++
	}
	return mant, i
}
