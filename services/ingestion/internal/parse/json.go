package parse

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

func (p *Parser) parseNDJSON(br *bufio.Reader, sink Sink) error {
	l := &lineReader{br: br}
	for {
		line, tooLong, err := l.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.readErr(err)
		}
		if !tooLong && len(bytes.TrimSpace(line)) == 0 {
			continue // blank lines are not records
		}
		p.rec = Record{Index: l.line}
		if tooLong {
			p.rec.Err = recordErr(CategoryTooLong, "line longer than %d bytes", MaxRecordBytes)
		} else {
			p.jsonPoint(line)
		}
		if err := sink(&p.rec); err != nil {
			return err
		}
	}
}

// parseJSON reads a JSON array of point objects, or an object whose only
// member "points" is such an array. A syntax error ends the object (the
// structure cannot be resynchronised); an element that is well-formed JSON
// but not a valid point is rejected alone.
func (p *Parser) parseJSON(br *bufio.Reader, sink Sink) error {
	// Duplicate names are checked per element (by jsonPoint), so that one
	// ambiguous element is rejected alone instead of ending the stream.
	dec := jsontext.NewDecoder(br, jsontext.AllowDuplicateNames(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return p.jsonErr(err, dec, -1)
	}
	switch tok.Kind() {
	case '[':
		if err := p.jsonElements(dec, sink); err != nil {
			return err
		}
	case '{':
		seen := false
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return p.jsonErr(err, dec, -1)
			}
			if name.String() != "points" || seen {
				what := `member "points" appears twice`
				if name.String() != "points" {
					what = fmt.Sprintf("unknown member %q", clipString(name.String()))
				}
				return &ObjectError{Category: ObjectBadShape, Reason: `unexpected JSON shape: ` + what + `; want an array of points or {"points": [...]}`}
			}
			seen = true
			if k := dec.PeekKind(); k != '[' {
				if k == 0 {
					_, err := dec.ReadToken()
					return p.jsonErr(err, dec, -1)
				}
				return &ObjectError{Category: ObjectBadShape, Reason: fmt.Sprintf(`unexpected JSON shape: "points" is %s, want an array`, kindName(k))}
			}
			if _, err := dec.ReadToken(); err != nil {
				return p.jsonErr(err, dec, -1)
			}
			if err := p.jsonElements(dec, sink); err != nil {
				return err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return p.jsonErr(err, dec, -1)
		}
		if !seen {
			return &ObjectError{Category: ObjectBadShape, Reason: `unexpected JSON shape: the object has no "points" member; want an array of points or {"points": [...]}`}
		}
	default:
		return &ObjectError{Category: ObjectBadShape, Reason: fmt.Sprintf(`unexpected JSON shape: the body is %s; want an array of points or {"points": [...]}`, kindName(tok.Kind()))}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return &ObjectError{Category: ObjectBadJSON, Reason: fmt.Sprintf("malformed JSON: unexpected data after the top-level value (offset %d)", dec.InputOffset())}
		}
		return p.jsonErr(err, dec, -1)
	}
	return nil
}

// jsonElements reads array elements up to and including the closing ']'.
func (p *Parser) jsonElements(dec *jsontext.Decoder, sink Sink) error {
	for i := int64(0); ; i++ {
		if dec.PeekKind() == ']' {
			_, err := dec.ReadToken()
			if err != nil {
				return p.jsonErr(err, dec, i)
			}
			return nil
		}
		raw, err := dec.ReadValue()
		if err != nil {
			return p.jsonErr(err, dec, i)
		}
		p.rec = Record{Index: i}
		p.jsonPoint(raw)
		if err := sink(&p.rec); err != nil {
			return err
		}
	}
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "not JSON"
}

// jsonErr turns a decoder error into a *SourceError or an *ObjectError that
// says where the structure broke (element is the index being read, or -1).
func (p *Parser) jsonErr(err error, dec *jsontext.Decoder, element int64) error {
	if p.src != nil && p.src.err != nil {
		return &SourceError{Err: p.src.err}
	}
	if p.zsrc != nil && p.zsrc.err != nil {
		return &ObjectError{Category: ObjectBadGzip, Reason: "corrupt gzip stream: " + p.zsrc.err.Error()}
	}
	msg := err.Error()
	if err == io.EOF {
		msg = "unexpected end of input"
	}
	msg = strings.TrimPrefix(msg, "jsontext: ")
	where := ""
	if element >= 0 {
		where = fmt.Sprintf(" in element %d (the rest of the object was not read)", element)
	}
	return &ObjectError{Category: ObjectBadJSON, Reason: fmt.Sprintf("malformed JSON%s: %s", where, msg)}
}

// jsonPoint parses one JSON object (an NDJSON line or an array element) into
// p.rec: members named as in fieldNames (case-sensitive), each at most once;
// numbers, or strings holding numbers or times; null for absent.
//
// Plain ASCII objects, the usual case, take a fast path; anything it does not
// handle is parsed again, from scratch, by jsontext (the slow path). Both
// visit the members in order through the same member function, so they agree
// on the outcome (a differential test and the NDJSON fuzz target check it).
func (p *Parser) jsonPoint(raw []byte) {
	if !p.noFast {
		if p.fastPoint(raw) {
			return
		}
		p.rec.Point = marketdata.Point{}
		p.rec.Err, p.rec.TimestampUnit = nil, ""
	}
	p.slowPoint(raw)
}

func (p *Parser) slowPoint(raw []byte) {
	p.rd.Reset(raw)
	// Duplicate names are found by member itself: every name is either a
	// field (tracked in a bit set) or refused as unknown.
	if p.dec == nil {
		p.dec = jsontext.NewDecoder(&p.rd, jsontext.AllowDuplicateNames(true))
	} else {
		p.dec.Reset(&p.rd, jsontext.AllowDuplicateNames(true))
	}
	d := p.dec
	tok, err := d.ReadToken()
	if err != nil {
		p.rec.Err = jsonRecordErr(err)
		return
	}
	if tok.Kind() != '{' {
		p.rec.Err = recordErr(CategoryMalformed, "record is %s, want an object", kindName(tok.Kind()))
		return
	}
	var m members
	for d.PeekKind() != '}' {
		name, err := d.ReadValue()
		if err != nil {
			p.rec.Err = jsonRecordErr(err)
			return
		}
		f, rerr := m.name(name)
		if rerr != nil {
			p.rec.Err = rerr
			return
		}
		v, err := d.ReadValue()
		if err != nil {
			p.rec.Err = jsonRecordErr(err)
			return
		}
		// A syntax error right after the value (01 reads as 0, then a stray
		// 1) is the reason, not what the truncated value means. The fast
		// path makes the same check before it looks at a value.
		if j := skipWS(raw, int(d.InputOffset())); j == len(raw) || raw[j] != ',' && raw[j] != '}' {
			p.rec.Err = recordErr(CategoryMalformed, "malformed JSON: unexpected data after a value")
			if _, err := d.ReadToken(); err != nil {
				p.rec.Err = jsonRecordErr(err)
			}
			return
		}
		if rerr := p.member(&m, f, v); rerr != nil {
			p.rec.Err = rerr
			return
		}
	}
	if _, err := d.ReadToken(); err != nil {
		p.rec.Err = jsonRecordErr(err)
		return
	}
	if _, err := d.ReadToken(); err != io.EOF {
		if err == nil {
			p.rec.Err = recordErr(CategoryMalformed, "malformed JSON: more than one value")
		} else {
			p.rec.Err = jsonRecordErr(err)
		}
		return
	}
	p.finish(&m)
}

func jsonRecordErr(err error) *RecordError {
	if err == io.EOF {
		return recordErr(CategoryMalformed, "malformed JSON: unexpected end of input")
	}
	return recordErr(CategoryMalformed, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "jsontext: "))
}

// members tracks the members of one object.
type members struct {
	seen    int // fields named so far
	present int // fields given a non-null, non-empty value
}

// name maps a raw (quoted, valid) member name to its field: an unknown name
// or a repeated one refuses the record.
func (m *members) name(raw []byte) (int, *RecordError) {
	f := memberField(raw)
	if f < 0 {
		n, _ := jsontext.AppendUnquote(nil, raw)
		return 0, recordErr(CategoryUnknown, "unknown field %q", clipString(string(n)))
	}
	if m.seen&(1<<f) != 0 {
		return 0, recordErr(CategoryDuplicate, "ambiguous record: field %q appears twice", fieldNames[f])
	}
	m.seen |= 1 << f
	return f, nil
}

// member stores the raw (valid JSON) value v of field f.
func (p *Parser) member(m *members, f int, v []byte) *RecordError {
	textual := f == fieldSymbol || f == fieldExchange
	switch k := v[0]; {
	case k == 'n':
		return nil // null: absent
	case k == '"':
		if bytes.IndexByte(v, '\\') < 0 {
			v = v[1 : len(v)-1]
		} else {
			p.scratch, _ = jsontext.AppendUnquote(p.scratch[:0], v)
			v = p.scratch
		}
		if len(v) == 0 {
			return nil // "": absent, like an empty CSV field
		}
	case (k == '-' || k >= '0' && k <= '9') && !textual:
	default:
		what := "a number"
		switch {
		case textual:
			what = "a string"
		case f == fieldTimestamp:
			what = "an epoch integer or an RFC 3339 string"
		}
		return recordErr(fieldCategory[f], "invalid %s: %s, want %s", fieldNames[f], kindName(jsontext.Value(v).Kind()), what)
	}
	if rerr := p.setField(f, v); rerr != nil {
		return rerr
	}
	m.present |= 1 << f
	return nil
}

// finish checks that the required fields were given and validates the point.
func (p *Parser) finish(m *members) {
	if missing := requiredFields &^ m.present; missing != 0 {
		var names []string
		for j, n := range fieldNames {
			if missing&(1<<j) != 0 {
				names = append(names, n)
			}
		}
		p.rec.Err = recordErr(CategoryMissing, "missing %s", strings.Join(names, ", "))
		return
	}
	p.validate()
}

// memberField maps a raw (quoted) member name to its field, or -1.
func memberField(name []byte) int {
	if bytes.IndexByte(name, '\\') >= 0 {
		n, err := jsontext.AppendUnquote(nil, name)
		if err != nil {
			return -1
		}
		name = append(append([]byte{'"'}, n...), '"')
	}
	if len(name) < 2 {
		return -1
	}
	s := str(name[1 : len(name)-1])
	for i, n := range fieldNames {
		if s == n {
			return i
		}
	}
	return -1
}

// fastPoint parses raw when it is a flat object of plain members: ASCII names
// and strings without escapes, numbers, null. It returns false as soon as it
// meets anything else (nested values, escapes, non-ASCII, true/false, bad
// syntax), having decided nothing that the slow path would decide otherwise.
func (p *Parser) fastPoint(raw []byte) bool {
	i := skipWS(raw, 0)
	if i == len(raw) || raw[i] != '{' {
		return false
	}
	i = skipWS(raw, i+1)
	var m members
	if i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			j, ok := fastString(raw, i)
			if !ok {
				return false
			}
			name := raw[i:j]
			i = skipWS(raw, j)
			if i == len(raw) || raw[i] != ':' {
				return false
			}
			i = skipWS(raw, i+1)
			var v []byte
			switch {
			case i == len(raw):
				return false
			case raw[i] == '"':
				j, ok = fastString(raw, i)
			case raw[i] == 'n':
				j, ok = i+4, len(raw) >= i+4 && string(raw[i:i+4]) == "null"
			default:
				j, ok = fastNumber(raw, i)
			}
			if !ok {
				return false
			}
			v = raw[i:j]
			i = skipWS(raw, j)
			if i == len(raw) || raw[i] != ',' && raw[i] != '}' {
				return false
			}
			f, rerr := m.name(name)
			if rerr == nil {
				rerr = p.member(&m, f, v)
			}
			if rerr != nil {
				p.rec.Err = rerr
				return true
			}
			if raw[i] == '}' {
				i++
				break
			}
			i = skipWS(raw, i+1)
		}
	}
	if skipWS(raw, i) != len(raw) {
		return false // let the slow path describe what follows
	}
	p.finish(&m)
	return true
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// fastString returns the end of the plain string starting at b[i] == '"':
// printable ASCII without escapes.
func fastString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		if c == '"' {
			return j + 1, true
		}
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return 0, false
		}
	}
	return 0, false
}

// fastNumber returns the end of the JSON number starting at b[i], following
// the grammar exactly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func fastNumber(b []byte, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}
