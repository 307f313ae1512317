package parse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// lineReader yields the lines of a stream without their terminator ("\n" or
// "\r\n"), never buffering more than one buffer: a longer line is skipped and
// reported as too long.
type lineReader struct {
	br   *bufio.Reader
	line int64 // number of the line last returned (1-based)
}

// next returns the next line and whether it was too long (its content is then
// dropped). It returns io.EOF after the last line; other errors are the
// stream's.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	line, err = l.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		tooLong = true
		for err == bufio.ErrBufferFull {
			_, err = l.br.ReadSlice('\n')
		}
		line = nil
	}
	if err != nil {
		if err != io.EOF {
			return nil, false, err
		}
		if len(line) == 0 && !tooLong {
			return nil, false, io.EOF
		}
	}
	l.line++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n > 1 && line[n-2] == '\r' {
			line = line[:n-2]
		}
	}
	return line, tooLong, nil
}

// csvRecord reads the next non-blank CSV record (RFC 4180: fields separated
// by commas, optionally in double quotes, with "" for a quote inside; a quoted
// field may span lines) into p.fields. start is the number of its first line.
// A malformed or too long record yields a *RecordError and the reader moves on
// to the next line.
func (p *Parser) csvRecord(l *lineReader) (start int64, rerr *RecordError, err error) {
	for {
		line, tooLong, err := l.next()
		if err != nil {
			return 0, nil, err
		}
		start = l.line
		if tooLong {
			return start, recordErr(CategoryTooLong, "record longer than %d bytes", MaxRecordBytes), nil
		}
		if blank(line) {
			continue // blank lines are not records
		}
		if p.splitPlain(line) {
			return start, nil, nil
		}
		if !p.noFast && p.csvQuotedInPlace(line) {
			return start, nil, nil
		}
		rerr, err := p.csvQuoted(l, line)
		return start, rerr, err
	}
}

// blank reports whether line is empty or white space (bytes.TrimSpace's):
// a line starting with a printable ASCII byte is not, in one comparison.
func blank(line []byte) bool {
	if len(line) > 0 && line[0] > ' ' && line[0] < utf8.RuneSelf {
		return false
	}
	return len(bytes.TrimSpace(line)) == 0
}

// splitPlain splits line at its commas into p.fields, each trimmed of
// blanks: one vector search finds the line without quotes, then one pass
// over its bytes finds the commas (a search call per field cost more: a
// record's fields are short). It reports false for a line holding quotes,
// which the quoted readers split.
func (p *Parser) splitPlain(line []byte) bool {
	if bytes.IndexByte(line, '"') >= 0 {
		return false
	}
	fields := p.fields[:0]
	start := 0
	for i := 0; i < len(line); i++ {
		if line[i] == ',' {
			fields = append(fields, trimSpace(line[start:i]))
			start = i + 1
		}
	}
	p.fields = append(fields, trimSpace(line[start:]))
	return true
}

// csvQuotedInPlace splits line, a record holding quotes, into p.fields
// without copying, when each quoted field closes on this line and holds no
// "" (Polygon's conditions, "12,37"): its fields are then slices of line,
// as csvQuoted would have copied them. It reports false, having decided
// nothing, for anything else (an escaped or bare quote, a field going on in
// the next line, data after a closing quote), which csvQuoted then reads or
// refuses; a test and the fuzz targets compare both.
func (p *Parser) csvQuotedInPlace(line []byte) bool {
	p.fields = p.fields[:0]
	for i := 0; ; {
		j := i
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		if j < len(line) && line[j] == '"' {
			k := bytes.IndexByte(line[j+1:], '"')
			if k < 0 {
				return false // goes on in the next line, or never closes
			}
			end := j + 1 + k // the closing quote
			m := end + 1
			for m < len(line) && (line[m] == ' ' || line[m] == '\t') {
				m++
			}
			if m < len(line) && line[m] != ',' {
				return false // "" inside, or data after the closing quote
			}
			p.fields = append(p.fields, trimSpace(line[j+1:end]))
			if m == len(line) {
				return true
			}
			i = m + 1
			continue
		}
		field := line[i:]
		k := bytes.IndexByte(field, ',')
		if k >= 0 {
			field = field[:k]
		}
		if bytes.IndexByte(field, '"') >= 0 {
			return false // a quote inside an unquoted field
		}
		p.fields = append(p.fields, trimSpace(field))
		if k < 0 {
			return true
		}
		i += k + 1
	}
}

// csvQuoted splits a record holding quotes, copying its fields into
// p.scratch (unescaped), reading further lines while a quoted field is open.
func (p *Parser) csvQuoted(l *lineReader, line []byte) (*RecordError, error) {
	out := p.scratch[:0]
	bounds := p.bounds[:0] // start and end offsets in out, pairwise (reused: no allocation per record)
	defer func() { p.bounds = bounds[:0] }()
	inQuotes := false
	fieldStart := 0
	afterQuote := false // just closed a quoted field: only spaces may follow
	for {
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case inQuotes:
				if c == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						out = append(out, '"')
						i++
					} else {
						inQuotes = false
						afterQuote = true
					}
				} else {
					out = append(out, c)
				}
			case c == ',':
				bounds = append(bounds, fieldStart, len(out))
				fieldStart = len(out)
				afterQuote = false
			case afterQuote:
				if c != ' ' && c != '\t' {
					p.scratch = out
					return recordErr(CategoryMalformed, "malformed CSV: unexpected %q after a closing quote", c), nil
				}
			case c == '"':
				if len(bytes.TrimSpace(out[fieldStart:])) != 0 {
					p.scratch = out
					return recordErr(CategoryMalformed, `malformed CSV: bare " in an unquoted field`), nil
				}
				out = out[:fieldStart]
				inQuotes = true
			default:
				out = append(out, c)
			}
		}
		if !inQuotes {
			break
		}
		// The quoted field goes on in the next line.
		out = append(out, '\n')
		if len(out) > MaxRecordBytes {
			p.scratch = out[:0]
			return recordErr(CategoryTooLong, "record longer than %d bytes (unterminated quote?)", MaxRecordBytes), nil
		}
		next, tooLong, err := l.next()
		if err == io.EOF {
			p.scratch = out[:0]
			return recordErr(CategoryMalformed, "malformed CSV: quoted field not closed before the end of the object"), nil
		}
		if err != nil {
			return nil, err
		}
		if tooLong {
			p.scratch = out[:0]
			return recordErr(CategoryTooLong, "record longer than %d bytes", MaxRecordBytes), nil
		}
		line = next
	}
	bounds = append(bounds, fieldStart, len(out))
	p.scratch = out
	p.fields = p.fields[:0]
	for i := 0; i < len(bounds); i += 2 {
		p.fields = append(p.fields, trimSpace(out[bounds[i]:bounds[i+1]]))
	}
	return nil, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// csvHeader maps the header's columns to fields: names as in fieldNames,
// in any order and case, each at most once, the required ones present.
// Columns naming no field are ignored (cols -1) and listed in ignored; a
// first line naming no field but holding a number or a time is data, not a
// header (noHeader).
func csvHeader(fields [][]byte) (cols []int, ignored []string, noHeader bool, err error) {
	cols = make([]int, len(fields))
	var seen int
	for i, f := range fields {
		name := strings.ToLower(string(f))
		cols[i] = -1
		for j, n := range fieldNames[:nativeFields] {
			if name == n {
				cols[i] = j
			}
		}
		switch {
		case cols[i] < 0:
			if len(ignored) < maxIgnoredListed {
				ignored = append(ignored, clipString(string(f)))
			} else if len(ignored) == maxIgnoredListed {
				ignored = append(ignored, "...")
			}
		case seen&(1<<cols[i]) != 0:
			return nil, nil, false, fmt.Errorf("column %q appears twice", name)
		default:
			seen |= 1 << cols[i]
		}
	}
	var missing []string
	for j, n := range fieldNames {
		if requiredFields&(1<<j) != 0 && seen&(1<<j) == 0 {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return cols, ignored, false, nil
	}
	if seen == 0 {
		for _, f := range fields {
			if _, why := parseDecimal(f); why == "" {
				return nil, nil, true, nil
			}
			if _, err := time.Parse(time.RFC3339Nano, string(f)); err == nil {
				return nil, nil, true, nil
			}
		}
	}
	msg := "missing column(s) " + strings.Join(missing, ", ")
	if len(ignored) > 0 {
		quoted := make([]string, len(ignored))
		for i, n := range ignored {
			quoted[i] = strconv.Quote(n)
		}
		msg += "; unknown column(s) " + strings.Join(quoted, ", ")
	}
	return nil, nil, false, errors.New(msg)
}

// maxIgnoredListed bounds the ignored columns listed (in the report).
const maxIgnoredListed = 20

func clipString(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

const headerHelp = "want a header line naming the columns symbol,timestamp,price,volume and optionally bid,ask,exchange (any order and case; other columns are ignored)"

// parseCSV parses a CSV object, setting *ignoredCols to the header's columns
// that name no field.
func (p *Parser) parseCSV(br *bufio.Reader, sink Sink, ignoredCols *[]string) error {
	l := &lineReader{br: br}
	_, rerr, err := p.csvRecord(l)
	if err == io.EOF {
		return &ObjectError{Category: ObjectBadHeader, Reason: "invalid CSV header: the object is blank; " + headerHelp}
	}
	if err != nil {
		return p.readErr(err)
	}
	if rerr != nil {
		return &ObjectError{Category: ObjectBadHeader, Reason: "invalid CSV header: " + rerr.Reason + "; " + headerHelp}
	}
	for i, f := range p.fields {
		for j := 0; j < len(f); {
			r, size := utf8.DecodeRune(f[j:])
			if r == utf8.RuneError && size == 1 {
				return &ObjectError{Category: ObjectBadEncoding, Reason: fmt.Sprintf(
					"the object is not UTF-8: column %d of the header line holds byte 0x%02X, which is not valid UTF-8 (Latin-1 or Windows-1252 text?); save it as UTF-8", i+1, f[j])}
			}
			j += size
		}
	}
	cols, ignored, dataFirst, oerr := p.csvLayout()
	if oerr != nil {
		return oerr
	}
	*ignoredCols = ignored
	required := p.required()
	if p.prof.bars {
		if err := p.barHeader(cols); err != nil {
			return err
		}
		required = p.requiredBar()
	}
	read := readColumns(cols)
	if dataFirst {
		p.csvRow(l.line, nil, read, required)
		if err := sink(&p.rec); err != nil {
			return err
		}
	}
	for {
		start, rerr, err := p.csvRecord(l)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.readErr(err)
		}
		p.csvRow(start, rerr, read, required)
		if err := sink(&p.rec); err != nil {
			return err
		}
	}
}

// csvRow converts the CSV record at index (p.fields, or rerr, why it could
// not be read) into p.rec: a bar for a bar profile, else a point. cols are
// readColumns' list of the columns read, required the fields the record
// must give.
func (p *Parser) csvRow(index int64, rerr *RecordError, cols []fieldAt, required int) {
	bars := p.prof.bars
	if bars {
		p.startBar(index)
	} else {
		p.rec = Record{Index: index}
	}
	if rerr != nil {
		p.rec.Err = p.vendorErr(-1, rerr)
		return
	}
	if !p.csvFields(cols, required, bars) {
		return
	}
	if bars {
		p.finishBar()
		return
	}
	if p.symbol != "" {
		p.rec.Point.Symbol = p.symbol
	}
	p.validate()
}

// required returns the fields a record of the current profile must give
// (the symbol is given with the object when its rows hold none).
func (p *Parser) required() int {
	if p.symbol != "" {
		return requiredFields &^ (1 << fieldSymbol)
	}
	return requiredFields
}

// csvLayout settles the profile from the first record (in p.fields): the
// forced one, or the one whose header it is, or a headerless one (Binance)
// when it is data. It returns each column's field (ignoredField for the
// columns read past), the header's columns that name no field, and whether
// the first record is data.
func (p *Parser) csvLayout() (cols []int, ignored []string, dataFirst bool, err error) {
	header := p.fields
	if forced := profileNamed(p.Options.Profile); forced != nil {
		if forced.headerless != nil && forced.rowFits(header) {
			return p.headerless(forced)
		}
		if err := p.use(forced, p.name); err != nil {
			return nil, nil, false, err
		}
		if forced == native {
			cols, ignored, noHeader, herr := csvHeader(header)
			if noHeader {
				return nil, nil, false, &ObjectError{Category: ObjectNoHeader, Reason: "no header row: the first line holds data; " + headerHelp}
			}
			if herr != nil {
				return nil, nil, false, &ObjectError{Category: ObjectBadHeader, Reason: "invalid CSV header: " + herr.Error() + "; " + headerHelp}
			}
			return cols, ignored, false, nil
		}
		cols, ignored, herr := vendorHeader(forced, header, p.symbol != "")
		if herr != nil {
			return nil, nil, false, &ObjectError{Category: ObjectBadHeader, Reason: fmt.Sprintf(
				"invalid CSV header for the format %s: %v", forced.name, herr)}
		}
		return cols, ignored, false, nil
	}

	cols, ignored, noHeader, nativeErr := csvHeader(header)
	if nativeErr == nil && !noHeader {
		return cols, ignored, false, p.use(native, p.name)
	}
	for _, prof := range profiles[1:] {
		if prof.json || !hasColumns(header, prof.signature) {
			continue
		}
		if err := p.use(prof, p.name); err != nil {
			return nil, nil, false, err
		}
		cols, ignored, herr := vendorHeader(prof, header, p.symbol != "")
		if herr != nil {
			return nil, nil, false, &ObjectError{Category: ObjectBadHeader, Reason: fmt.Sprintf(
				"invalid CSV header: columns %s name the format %s, but %v", strings.Join(prof.signature, ", "), prof.name, herr)}
		}
		return cols, ignored, false, nil
	}
	_, byName := binanceName(p.name)
	for _, prof := range profiles[1:] {
		if prof.headerless == nil || !prof.rowFits(header) {
			continue
		}
		if byName == "" || byName == prof.name {
			return p.headerless(prof)
		}
	}
	// Nothing fits: say what was seen and what was tried.
	tried := make([]string, 0, len(profiles))
	for _, prof := range profiles[1:] {
		switch {
		case prof.json:
		case prof.headerless != nil:
			tried = append(tried, fmt.Sprintf("%s (no header, %d columns)", prof.name, len(prof.headerless)))
		default:
			tried = append(tried, fmt.Sprintf("%s (columns %s)", prof.name, strings.Join(prof.signature, ", ")))
		}
	}
	seen := make([]string, 0, len(header))
	for i, f := range header {
		if i == maxIgnoredListed {
			seen = append(seen, "...")
			break
		}
		seen = append(seen, strconv.Quote(clipString(string(f))))
	}
	also := fmt.Sprintf("; the first line's %d column(s) are %s; no vendor format fits either (tried %s)",
		len(header), strings.Join(seen, ", "), strings.Join(tried, "; "))
	if noHeader {
		return nil, nil, false, &ObjectError{Category: ObjectNoHeader, Reason: "no header row: the first line holds data; " + headerHelp + also}
	}
	return nil, nil, false, &ObjectError{Category: ObjectBadHeader, Reason: "invalid CSV header: " + nativeErr.Error() + "; " + headerHelp + also}
}

// headerless settles prof, a profile without a header line, whose first
// record is data.
func (p *Parser) headerless(prof *profile) ([]int, []string, bool, error) {
	if err := p.use(prof, p.name); err != nil {
		return nil, nil, false, err
	}
	cols := make([]int, len(prof.headerless))
	for i, c := range prof.headerless {
		cols[i] = c.field
	}
	return cols, nil, true, nil
}

// headerlessRow reports whether fields look like a row of a headerless
// profile with n columns: numbers, then two booleans (Binance's
// isBuyerMaker and isBestMatch, in any case).
func headerlessRow(fields [][]byte, n int) bool {
	if len(fields) != n || n < 3 {
		return false
	}
	for _, f := range fields[:n-2] {
		if _, why := parseDecimal(f); why != "" {
			return false
		}
	}
	for _, f := range fields[n-2:] {
		if !strings.EqualFold(string(f), "true") && !strings.EqualFold(string(f), "false") {
			return false
		}
	}
	return true
}

// hasColumns reports whether the header names every column of want (in any
// case).
func hasColumns(header [][]byte, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range header {
			if strings.EqualFold(string(h), w) {
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

// vendorHeader maps a vendor profile's header to fields: its columns in any
// order and case, each at most once, those of the required fields present
// (the symbol's unless symbolGiven); other columns are read past and listed
// in ignored.
func vendorHeader(prof *profile, header [][]byte, symbolGiven bool) (cols []int, ignored []string, err error) {
	cols = make([]int, len(header))
	seen := 0
	for i, h := range header {
		cols[i] = ignoredField
		for _, c := range prof.columns {
			if strings.EqualFold(string(h), c.name) {
				if seen&(1<<c.field) != 0 {
					return nil, nil, fmt.Errorf("column %q appears twice", c.name)
				}
				seen |= 1 << c.field
				cols[i] = c.field
			}
		}
		if cols[i] == ignoredField {
			if len(ignored) < maxIgnoredListed {
				ignored = append(ignored, clipString(string(h)))
			} else if len(ignored) == maxIgnoredListed {
				ignored = append(ignored, "...")
			}
		}
	}
	need := requiredFields
	if symbolGiven {
		need &^= 1 << fieldSymbol
	}
	if missing := prof.missingColumns(need, seen); len(missing) > 0 {
		return nil, nil, fmt.Errorf("missing column(s) %s", strings.Join(missing, ", "))
	}
	return cols, ignored, nil
}

// missingColumns lists the columns of prof that give a field of need (a
// set of fields) not in seen (the fields a header gives).
func (prof *profile) missingColumns(need, seen int) []string {
	var missing []string
	for _, c := range prof.columns {
		if need&(1<<c.field) != 0 && seen&(1<<c.field) == 0 {
			missing = append(missing, c.name)
		}
	}
	return missing
}

// fieldAt is a column that is read: its position in the record and its
// field.
type fieldAt struct{ col, field int }

// readColumns lists the columns of cols (each a field or ignoredField) that
// are read, in order, after an entry whose col is the number of columns: a
// record's ignored columns then cost nothing (Databento's rows have 14, 5
// of them read).
func readColumns(cols []int) []fieldAt {
	read := []fieldAt{{col: len(cols)}}
	for i, f := range cols {
		if f >= 0 { // not ignoredField
			read = append(read, fieldAt{i, f})
		}
	}
	return read
}

// csvFields converts p.fields into p.rec's point, or p.bar when bars: cols
// are readColumns' list of the columns read, required the fields the record
// must give. It reports whether they were all read; if not, p.rec.Err says
// why (the field count, the first bad value, or the required fields left
// empty).
func (p *Parser) csvFields(cols []fieldAt, required int, bars bool) bool {
	if len(p.fields) != cols[0].col {
		p.rec.Err = p.vendorErr(-1, recordErr(CategoryFieldCount, "expected %d fields, got %d", cols[0].col, len(p.fields)))
		return false
	}
	var missing []string
	for _, c := range cols[1:] {
		f, v := c.field, p.fields[c.col]
		if len(v) == 0 {
			if required&(1<<f) != 0 {
				missing = append(missing, p.columnName(f))
			}
			continue
		}
		var err *RecordError
		if bars {
			err = p.setBarField(f, v)
		} else {
			err = p.setField(f, v)
		}
		if err != nil {
			p.rec.Err = p.vendorErr(f, err)
			return false
		}
	}
	if missing != nil {
		p.rec.Err = p.vendorErr(-1, recordErr(CategoryMissing, "missing %s", strings.Join(missing, ", ")))
		return false
	}
	return true
}
