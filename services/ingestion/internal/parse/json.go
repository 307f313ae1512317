package parse

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
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
		if !tooLong && blank(line) {
			continue // blank lines are not records
		}
		p.rec = Record{Index: l.line}
		if tooLong {
			p.rec.Err = recordErr(CategoryTooLong, "line longer than %d bytes", MaxRecordBytes)
		} else {
			if p.prof == nil {
				if err := p.detectJSON(line); err != nil {
					return err
				}
			}
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
		if _, err := p.jsonElements(dec, sink, 0); err != nil {
			return err
		}
	case '{':
		seen, wrapper := false, false
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return p.jsonErr(err, dec, -1)
			}
			if name.String() == "bars" && !seen && (p.Options.Profile == "" || p.Options.Profile == marketdata.ProfileAlpacaBars) {
				// Alpaca's historical bars: alpacaBars reads the
				// object's other members too, up to its end.
				seen = true
				if err := p.alpacaBars(dec, sink); err != nil {
					return err
				}
				continue
			}
			if name.String() == "trades" && !seen && (p.Options.Profile == "" || p.Options.Profile == marketdata.ProfileAlpacaTrades) {
				seen, wrapper = true, true
				if err := p.alpacaTrades(dec, sink); err != nil {
					return err
				}
				continue
			}
			if wrapper && name.String() != "trades" {
				// Alpaca's next_page_token, symbol, currency: not records.
				if err := dec.SkipValue(); err != nil {
					return p.jsonErr(err, dec, -1)
				}
				continue
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
			if _, err := p.jsonElements(dec, sink, 0); err != nil {
				return err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return p.jsonErr(err, dec, -1)
		}
		if !seen {
			return &ObjectError{Category: ObjectBadShape, Reason: `unexpected JSON shape: the object has no "points" member; want an array of points or {"points": [...]}, or Alpaca's {"trades": ...}`}
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

// jsonElements reads array elements up to and including the closing ']',
// numbering them from first; it returns the next index.
func (p *Parser) jsonElements(dec *jsontext.Decoder, sink Sink, first int64) (int64, error) {
	for i := first; ; i++ {
		if dec.PeekKind() == ']' {
			_, err := dec.ReadToken()
			if err != nil {
				return i, p.jsonErr(err, dec, i)
			}
			return i, nil
		}
		raw, err := dec.ReadValue()
		if err != nil {
			return i, p.jsonErr(err, dec, i)
		}
		if p.prof == nil {
			if err := p.detectJSON(raw); err != nil {
				return i, err
			}
		}
		p.rec = Record{Index: i}
		p.jsonPoint(raw)
		if err := sink(&p.rec); err != nil {
			return i, err
		}
	}
}

// alpacaTrades reads the value of Alpaca's "trades" member: an object whose
// members are symbols, each an array of trades (the multi-symbol historical
// endpoint), or an array of trades (the single-symbol endpoint, whose symbol
// must then be given: its "symbol" member may come after the array, and
// the records are not buffered to wait for it). Indexes run on across the
// arrays, 0-based, in the order of the file.
func (p *Parser) alpacaTrades(dec *jsontext.Decoder, sink Sink) error {
	if err := p.use(profileNamed(marketdata.ProfileAlpacaTrades), p.name); err != nil {
		return err
	}
	switch k := dec.PeekKind(); k {
	case '[':
		if p.Options.Symbol == "" {
			return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
				`%s: {"trades": [...]} names no symbol; give it as metadata x-amz-meta-%s or the query parameter ?%s=, or send {"trades": {"AAPL": [...]}}`,
				marketdata.ProfileAlpacaTrades, marketdata.MetadataSymbol, marketdata.APIQuerySymbol)}
		}
		p.symbol = p.Options.Symbol
		if _, err := dec.ReadToken(); err != nil {
			return p.jsonErr(err, dec, -1)
		}
		_, err := p.jsonElements(dec, sink, 0)
		return err
	case '{':
		return p.symbolArrays(dec, sink, "trades")
	default:
		return p.alpacaMemberErr(dec, "trades", k)
	}
}

// alpacaMemberErr is the error of the current profile's Alpaca member
// ("trades", "bars") whose value, of kind k, is neither an object of arrays
// by symbol nor an array: the decoder's own where it cannot read a value
// (k is 0).
func (p *Parser) alpacaMemberErr(dec *jsontext.Decoder, member string, k jsontext.Kind) error {
	if k == 0 {
		_, err := dec.ReadToken()
		return p.jsonErr(err, dec, -1)
	}
	return &ObjectError{Category: ObjectBadShape, Reason: fmt.Sprintf(
		`unexpected JSON shape: %s %q is %s, want an object of arrays by symbol or an array`, p.prof.name, member, kindName(k))}
}

// symbolArrays reads the object an Alpaca historical response holds in its
// member (trades, bars): its members are symbols, each an array of records
// of that symbol. Indexes run on across the arrays, 0-based, in the order of
// the file.
func (p *Parser) symbolArrays(dec *jsontext.Decoder, sink Sink, member string) error {
	if _, err := dec.ReadToken(); err != nil {
		return p.jsonErr(err, dec, -1)
	}
	next := int64(0)
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return p.jsonErr(err, dec, next)
		}
		sym := tok.String() // before the next call voids tok
		if k := dec.PeekKind(); k != '[' {
			if k == 0 {
				_, err := dec.ReadToken()
				return p.jsonErr(err, dec, next)
			}
			return &ObjectError{Category: ObjectBadShape, Reason: fmt.Sprintf(
				`unexpected JSON shape: %s %q member %q is %s, want an array of %s`, p.prof.name, member, clipString(sym), kindName(k), member)}
		}
		if _, err := dec.ReadToken(); err != nil {
			return p.jsonErr(err, dec, next)
		}
		p.symbol = sym
		if next, err = p.jsonElements(dec, sink, next); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	if err != nil {
		return p.jsonErr(err, dec, next)
	}
	return nil
}

// detectJSON settles the profile from the first record, raw: the forced
// one, or the one its member names fit. An object naming no field of any
// profile is refused whole, with its members and the profiles tried; one
// naming some native field is read as native (its records then say what is
// wrong with them).
func (p *Parser) detectJSON(raw []byte) error {
	if forced := profileNamed(p.Options.Profile); forced != nil {
		return p.use(forced, p.name)
	}
	names := memberNames(raw)
	if names == nil {
		return p.use(native, p.name) // not an object: refused as a record
	}
	for _, n := range names {
		for _, f := range fieldNames[:nativeFields] {
			if n == f {
				return p.use(native, p.name)
			}
		}
	}
	var tried []string
	for _, prof := range profiles[1:] {
		if !prof.json {
			continue
		}
		if hasMembers(names, prof.signature) {
			return p.use(prof, p.name)
		}
		tried = append(tried, fmt.Sprintf("%s (members %s)", prof.name, strings.Join(prof.signature, ", ")))
	}
	if len(names) == 0 {
		return p.use(native, p.name)
	}
	quoted := make([]string, 0, len(names))
	for i, n := range names {
		if i == maxIgnoredListed {
			quoted = append(quoted, "...")
			break
		}
		quoted = append(quoted, fmt.Sprintf("%q", clipString(n)))
	}
	return &ObjectError{Category: ObjectUnrecognised, Reason: fmt.Sprintf(
		"unrecognised format: the first record's members are %s; tried %s (members %s), %s",
		strings.Join(quoted, ", "), marketdata.ProfileNative, strings.Join(fieldNames[:nativeFields], ", "), strings.Join(tried, ", "))}
}

// memberNames returns the member names of the JSON object raw, nil when raw
// is not a well-formed object.
func memberNames(raw []byte) []string {
	dec := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	names := []string{}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil || name.Kind() != '"' {
			return nil
		}
		names = append(names, name.String())
		if err := dec.SkipValue(); err != nil {
			return nil
		}
	}
	return names
}

func hasMembers(names, want []string) bool {
	for _, w := range want {
		found := false
		for _, n := range names {
			if n == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
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
//
// A bar profile's records (Alpaca's bars) take the same paths: their
// members go to setBarField and finish ends them as bars (finishBar).
func (p *Parser) jsonPoint(raw []byte) {
	bars := p.prof != nil && p.prof.bars
	if bars {
		p.startBar(p.rec.Index)
	}
	if !p.noFast {
		if !bars && p.prof != nil {
			if p.fastCompact(raw) {
				return
			}
			p.rec.Point = marketdata.Point{}
			p.rec.TimestampUnit = ""
		}
		if p.fastPoint(raw) {
			return
		}
		p.rec.Point = marketdata.Point{}
		p.rec.Err, p.rec.TimestampUnit = nil, ""
		if bars {
			p.startBar(p.rec.Index)
		}
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
		f, rerr := m.name(p, name)
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
		if f == ignoredField {
			continue
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
	count   int // members named so far
	seen    int // fields named so far
	present int // fields given a non-null, non-empty value
	// sip is the raw array of SIP condition codes (a profile with
	// sipConditions) and tape the tape they are read with: both are
	// resolved when the record is complete, as they may come in any order.
	sip  []byte
	tape string
	// plain: the values' strings are known to hold no escape (the fast
	// path's fastString took them), so member does not look for one; it
	// also keeps the array of conditions in place (raw outlives the record).
	plain bool
}

// name maps a raw (quoted, valid) member name to its field in p's profile:
// an unknown name (unless the profile ignores others: ignoredField) or a
// repeated one refuses the record.
func (m *members) name(p *Parser, raw []byte) (int, *RecordError) {
	return m.field(p, p.memberField(raw, m.count), raw)
}

// field counts a member whose name raw maps to f (memberField's answer), as
// name does.

func (m *members) field(p *Parser, f int, raw []byte) (int, *RecordError) {
	m.count++
	if f < 0 {
		if p.prof != nil && p.prof.ignoreOthers {
			return ignoredField, nil
		}
		n, _ := jsontext.AppendUnquote(nil, raw)
		return 0, recordErr(CategoryUnknown, "unknown field %q", clipString(string(n)))
	}
	if m.seen&(1<<f) != 0 {
		return 0, p.vendorErr(-1, recordErr(CategoryDuplicate, "ambiguous record: field %q appears twice", p.columnName(f)))
	}
	m.seen |= 1 << f
	return f, nil
}

// textualFields are the fields whose JSON values are strings, never numbers.
const textualFields = 1<<fieldSymbol | 1<<fieldExchange | 1<<fieldConditions | 1<<fieldTape

// member stores the raw (valid JSON) value v of field f.
func (p *Parser) member(m *members, f int, v []byte) *RecordError {
	textual := textualFields&(1<<f) != 0
	if f == fieldConditions && p.prof != nil && p.prof.sipConditions && v[0] != 'n' {
		if v[0] != '[' {
			return p.vendorErr(f, recordErr(fieldCategory[f], "invalid conditions: %s, want an array of SIP condition codes", kindName(jsontext.Value(v).Kind())))
		}
		m.sip = v
		if !m.plain {
			// A copy: the slow path's decoder reuses the value's memory.
			p.conds.raw = append(p.conds.raw[:0], v...)
			m.sip = p.conds.raw
		}
		m.present |= 1 << f
		return nil
	}
	switch k := v[0]; {
	case k == 'n':
		return nil // null: absent
	case k == '"':
		if m.plain || bytes.IndexByte(v, '\\') < 0 {
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
		case f == fieldTimestamp || f == fieldBarStart:
			what = "an epoch integer or an RFC 3339 string"
		}
		return p.vendorErr(f, recordErr(categoryOf(f), "invalid %s: %s, want %s", fieldName(f), kindName(jsontext.Value(v).Kind()), what))
	}
	if f == fieldTape {
		m.tape = string(v) // one byte when valid: no allocation
		m.present |= 1 << f
		return nil
	}
	if p.prof != nil && p.prof.bars {
		if rerr := p.setBarField(f, v); rerr != nil {
			return p.vendorErr(f, rerr)
		}
		m.present |= 1 << f
		return nil
	}
	if rerr := p.setField(f, v); rerr != nil {
		return p.vendorErr(f, rerr)
	}
	m.present |= 1 << f
	return nil
}

// missingErr refuses a JSON record that lacks the fields of missing (a set
// of a point's or a bar's fields), naming their members in field order.
func (p *Parser) missingErr(missing int) *RecordError {
	var names []string
	for f := range numBarFields { // every field: a point's, then a bar's
		if missing&(1<<f) != 0 {
			names = append(names, p.columnName(f))
		}
	}
	return p.vendorErr(-1, recordErr(CategoryMissing, "missing %s", strings.Join(names, ", ")))
}

// finish checks that the required fields were given and validates the point.
func (p *Parser) finish(m *members) {
	if p.prof != nil && p.prof.bars {
		p.finishJSONBar(m)
		return
	}
	if m.present&(1<<fieldSymbol) == 0 && p.symbol != "" {
		p.rec.Point.Symbol = p.symbol
		m.present |= 1 << fieldSymbol
	}
	if missing := requiredFields &^ m.present; missing != 0 {
		p.rec.Err = p.missingErr(missing)
		return
	}
	if m.sip != nil {
		n, err := p.conditionSIP(m.tape, m.sip)
		if err != nil {
			p.rec.Err = p.vendorErr(fieldConditions, recordErr(fieldCategory[fieldConditions], "invalid conditions %s: %v", clip(m.sip), err))
			return
		}
		p.rec.Point.Conditions = n
	}
	p.validate()
}

// memberField maps a raw (quoted) member name, the object's pos-th, to its
// field in p's profile, or -1.
func (p *Parser) memberField(name []byte, pos int) int {
	cols := nativeColumns
	if p.prof != nil && p.prof != native {
		if len(name) == 3 && name[1] < 0x80 && name[1] != '\\' {
			return int(p.prof.oneChar[name[1]]) // a one-character name without escapes
		}
		cols = p.prof.columns
	}
	if len(name) < 2 {
		return -1
	}
	// The raw name is compared as is first: no column name holds a
	// backslash, so a raw name with an escape equals none of them. The
	// records of one file repeat their members' order: the column the
	// previous record had at pos is tried first.
	raw := str(name[1 : len(name)-1])
	var guess *int8
	if pos < len(p.order) && !p.noGuess {
		guess = &p.order[pos]
		if k := int(*guess); k < len(cols) && cols[k].name == raw {
			return cols[k].field
		}
	}
	for k, c := range cols {
		if c.name == raw {
			if guess != nil {
				*guess = int8(k)
			}
			return c.field
		}
	}
	if bytes.IndexByte(name, '\\') < 0 {
		return -1 // a name of no field
	}
	n, err := jsontext.AppendUnquote(nil, name)
	if err != nil {
		return -1
	}
	s := string(n)
	for _, c := range cols {
		if s == c.name {
			return c.field
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
	// A plain one-character name (Alpaca's) is looked up in the profile's
	// table (memberField's), decided once per record; other names are
	// guessed from the previous record's order (fastName).
	var oneChar *[128]int8
	if !p.noGuess && p.prof != nil && p.prof != native {
		oneChar = &p.prof.oneChar
	}
	m := members{plain: true}
	if i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			var j, f int
			var guessed, ok bool
			if oneChar != nil && i+2 < len(raw) && raw[i] == '"' && raw[i+2] == '"' && plainString[raw[i+1]] {
				j, f, guessed = i+3, int(oneChar[raw[i+1]]), true
			} else {
				j, f, guessed = p.fastName(raw, i, m.count)
			}
			ok = guessed
			if !ok {
				j, ok = fastString(raw, i)
			}
			if !ok {
				return false
			}
			nameStart, nameEnd := i, j
			// The compact form "name":value, has no white space between
			// the tokens: one comparison each, skipWS only where there is.
			if j < len(raw) && raw[j] == ':' {
				i = j + 1
			} else {
				i = skipWS(raw, j)
				if i == len(raw) || raw[i] != ':' {
					return false
				}
				i++
			}
			if i < len(raw) && raw[i] <= ' ' {
				i = skipWS(raw, i)
			}
			switch {
			case i == len(raw):
				return false
			case raw[i] == '"':
				j, ok = fastString(raw, i)
			case raw[i] == 'n':
				j, ok = i+4, len(raw) >= i+4 && string(raw[i:i+4]) == "null"
			case raw[i] == '[':
				j, ok = fastArray(raw, i)
			default:
				j, ok = fastNumber(raw, i)
			}
			if !ok {
				return false
			}
			v := raw[i:j]
			i = j
			if i < len(raw) && raw[i] <= ' ' {
				i = skipWS(raw, i)
			}
			if i == len(raw) || raw[i] != ',' && raw[i] != '}' {
				return false
			}
			var rerr *RecordError
			if guessed {
				f, rerr = m.field(p, f, raw[nameStart:nameEnd])
			} else {
				f, rerr = m.name(p, raw[nameStart:nameEnd])
			}
			if rerr == nil && f != ignoredField {
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
			i++
			if i < len(raw) && raw[i] <= ' ' {
				i = skipWS(raw, i)
			}
		}
	}
	if skipWS(raw, i) != len(raw) {
		return false // let the slow path describe what follows
	}
	p.finish(&m)
	return true
}

// fastName returns the end of the member name starting at b[i] when it is
// the column the previous record had at position pos (memberField's guess),
// and that column's field: one comparison both ends the name and finds it
// plain (a test checks that every column name is), where fastString would
// look at each byte and memberField compare the name again.
func (p *Parser) fastName(b []byte, i, pos int) (end, field int, ok bool) {
	if p.noGuess || p.prof == nil || pos >= len(p.order) {
		return 0, 0, false
	}
	cols := p.prof.columns
	k := int(p.order[pos])
	if k >= len(cols) {
		return 0, 0, false
	}
	c := cols[k]
	if q := &p.prof.quoted[k]; q.n != 0 && i+16 <= len(b) {
		// The name and both its quotes, as words (quotedName).
		if binary.LittleEndian.Uint64(b[i:])&q.mask[0] == q.word[0] && binary.LittleEndian.Uint64(b[i+8:])&q.mask[1] == q.word[1] {
			return i + q.n, c.field, true
		}
		return 0, 0, false
	}
	end = i + 1 + len(c.name)
	if end < len(b) && b[i] == '"' && b[end] == '"' && str(b[i+1:end]) == c.name {
		return end + 1, c.field, true
	}
	return 0, 0, false
}

// fastArray returns the end of the flat array starting at b[i] == '[' whose
// elements are plain strings or numbers (Alpaca's conditions, ["@","T"]).
func fastArray(b []byte, i int) (int, bool) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var j int
		var ok bool
		if i < len(b) && b[i] == '"' {
			j, ok = fastString(b, i)
		} else {
			j, ok = fastNumber(b, i)
		}
		if !ok {
			return 0, false
		}
		i = skipWS(b, j)
		if i == len(b) {
			return 0, false
		}
		switch b[i] {
		case ']':
			return i + 1, true
		case ',':
			i = skipWS(b, i+1)
		default:
			return 0, false
		}
	}
}

func skipWS(b []byte, i int) int {
	// Every byte that is not white space but a control character is above
	// ' ': one comparison ends the usual call, at a byte that is not.
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
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
		if c := b[j]; !plainString[c] {
			if c == '"' {
				return j + 1, true
			}
			return 0, false
		}
	}
	return 0, false
}

// plainString marks the bytes fastString takes as they are: printable
// ASCII but the quote and the backslash.
var plainString = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// fastNumber returns the end of the JSON number starting at b[i], following
// the grammar exactly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func fastNumber(b []byte, i int) (int, bool) {
	digits := func(i int) int { return digitRun(b, i) }
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

// digitRun returns the end of the run of ASCII digits starting at b[i]:
// eight bytes at a time while the slice has them (a timestamp's 13 to 19
// digits, a trade id's 14 cost two or three words instead of a loop step
// per byte), then byte by byte. A test compares it with a loop over bytes.
func digitRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(b) {
		// y's bytes are the digits' values 0-9; adding 0x76 (127-9) sets
		// the high bit of each byte above 9, and y's own high bit marks
		// the bytes at or above 0x80. A carry out of a byte can only spoil
		// the bytes above one already marked, so the lowest marked byte is
		// the first that is not a digit.
		y := binary.LittleEndian.Uint64(b[i:]) ^ 0x30*ones
		if m := ((y + 0x76*ones) | y) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && b[i]-'0' <= 9 {
		i++
	}
	return i
}
