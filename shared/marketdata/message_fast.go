package marketdata

import (
	"encoding/json"
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
	// A point takes at least ~60 bytes of JSON; guess generously to avoid
	// regrowing the slice, which dominates the cost for large bodies.
	pts := make([]QueuedPoint, 0, (len(d.s)-d.i)/96+1)
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

func (d *fastDecoder) point(p *QueuedPoint) bool {
	if !d.next('{') {
		return false
	}
	for first := true; ; first = false {
		key, end, ok := d.member(first)
		if !ok || end {
			return ok
		}
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
			p.Volume, ok = d.integer(64)
		case "bid":
			p.Bid, ok = d.float()
		case "ask":
			p.Ask, ok = d.float()
		case "exchange":
			p.Exchange, ok = d.str()
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
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
	d.i++
	for d.i < len(d.s) && plain[d.s[d.i]] {
		d.i++
	}
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
	lit, isInt, ok := d.number()
	if !ok || !isInt {
		return 0, false
	}
	v, err := strconv.ParseInt(lit, 10, bits)
	return v, err == nil
}

// float parses a JSON number into a float64 with the same conversion
// encoding/json uses; out-of-range values are not handled here.
func (d *fastDecoder) float() (float64, bool) {
	lit, _, ok := d.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(lit, 64)
	return v, err == nil
}
