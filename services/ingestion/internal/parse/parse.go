// Package parse reads market data points out of a stream: CSV with a header,
// NDJSON, or a JSON array (bare or as {"points": [...]}), each optionally
// gzip-compressed. It never holds more than one record (at most MaxRecordBytes
// for CSV and NDJSON) besides fixed buffers, so memory stays flat however
// large the object is.
//
// Every record ends up in exactly one of two places: a valid point, or a
// rejection with its position and a reason. When the object as a whole cannot
// be read further (a wrong CSV header, broken JSON structure, corrupt gzip),
// parsing stops with an *ObjectError; the records delivered before it stand.
package parse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"path"
	"strings"
	"time"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Format is an input format.
type Format string

// The input formats.
const (
	CSV       Format = "csv"
	NDJSON    Format = "ndjson"
	JSONArray Format = "json"
)

// MaxRecordBytes bounds one CSV record or NDJSON line. A valid record takes a
// few hundred bytes; a longer one is rejected without being buffered.
const MaxRecordBytes = 64 << 10

// bufferSize is the size of the read buffers (one line must fit).
const bufferSize = MaxRecordBytes

// Record is one record of the input: where it was and either a valid point or
// why it was refused.
type Record struct {
	// Index is the 1-based line number (CSV, NDJSON; the first line of a
	// multi-line CSV record) or the 0-based element index (JSON array), as
	// marketdata.Rejection documents.
	Index int64
	// Point is the point when Err is nil and the record is not a bar.
	Point marketdata.Point
	// Bar is the bar when the record is one (a bar profile's, see
	// bars.go) and Err is nil; nil otherwise.
	Bar *marketdata.Bar
	// Err says why the record was refused; nil when the point is valid.
	Err *RecordError
	// TimestampUnit is how the timestamp was read: a marketdata.TimestampUnits
	// name (s, ms, us, ns), UnitRFC3339, or "" when it was not read.
	TimestampUnit string
}

// UnitRFC3339 is the TimestampUnit of a timestamp given as an RFC 3339 time.
const UnitRFC3339 = "rfc3339"

// RecordError is the reason one record was refused.
type RecordError struct {
	// Category is one of a small fixed set (the Category* constants and the
	// texts of marketdata's validation errors), suitable for counting.
	Category string
	// Reason is the full human-readable reason.
	Reason string
}

func (e *RecordError) Error() string { return e.Reason }

// Categories of refused records besides marketdata's validation errors
// ("invalid symbol", "invalid price", ...).
const (
	CategoryMalformed  = "malformed record"
	CategoryFieldCount = "wrong field count"
	CategoryTooLong    = "record too long"
	CategoryMissing    = "missing field"
	CategoryUnknown    = "unknown field"
	CategoryDuplicate  = "duplicate field"
	// CategoryCorrection: a trade its vendor's correction indicator
	// cancels, marks in error or supersedes (or an unknown indicator).
	CategoryCorrection = "corrected or cancelled trade"
)

// ObjectError means the object cannot be read (further): nothing after the
// position it names was parsed.
type ObjectError struct {
	// Category is a short fixed description such as "invalid CSV header".
	Category string
	// Reason is the full human-readable reason.
	Reason string
}

func (e *ObjectError) Error() string { return e.Reason }

// Categories of object errors.
const (
	ObjectEmpty     = "empty object"
	ObjectBadHeader = "invalid CSV header"
	ObjectBadJSON   = "malformed JSON"
	ObjectBadGzip   = "corrupt gzip stream"
	ObjectBadShape  = "unexpected JSON shape"
	// ObjectNoHeader is a CSV object whose first line is data.
	ObjectNoHeader = "no CSV header row"
	// ObjectBadEncoding is an object that is not UTF-8 text (UTF-16, UTF-32,
	// Latin-1, binary).
	ObjectBadEncoding = "not UTF-8"
	// ObjectUnrecognised is an object whose columns or members fit no
	// profile; the reason lists what it saw and the profiles tried.
	ObjectUnrecognised = "unrecognised format"
	// ObjectBadProfile is a forced profile, symbol or unit that cannot
	// apply: unknown, or a JSON profile for a CSV object (and so on).
	ObjectBadProfile = "invalid format option"
	objectReadFailed = "read failed"
)

// SourceError is a failure to read the underlying stream itself (for an S3
// object: the network), as opposed to its content being bad. It is worth a
// retry.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return "read object: " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// Sink receives each record. The record is only valid during the call.
// Returning an error stops parsing, and Parse returns that error.
type Sink func(*Record) error

// Info describes what Parse found.
type Info struct {
	Format     Format
	Compressed bool
	// Records is the number of records delivered to the sink.
	Records int64
	// Bytes is the number of (decompressed) bytes read.
	Bytes int64
	// IgnoredColumns are the CSV header's columns that name no field: their
	// values are ignored.
	IgnoredColumns []string
	// Profile is the profile the records were read with (a
	// marketdata.Profiles name), "" when none was settled on.
	Profile string
}

// Parser parses objects. It keeps buffers between calls; use one per
// goroutine.
type Parser struct {
	// Now is the time points are validated against (see marketdata.Point.Validate).
	Now time.Time
	// Options force a profile, a symbol or a unit (zero: detect).
	Options Options

	rec     Record
	strs    interner
	vols    interner // volumes' canonical text
	vol     []byte   // a volume's canonical text, before interning
	dec     *jsontext.Decoder
	rd      bytes.Reader
	scratch []byte
	fields  [][]byte
	noFast  bool         // tests: always take the slow JSON path and csvQuoted
	noGuess bool         // tests: memberField never guesses the column from the order
	num     []byte       // unscale's output
	bounds  []int        // csvQuoted's field offsets
	prof    *profile     // the profile in use; nil until settled
	units   []int        // the integer timestamp units allowed (parseTimestampIn)
	symbol  string       // the symbol of records that hold none ("" if none)
	name    string       // the object's name
	src     *trackReader // the object as given
	zsrc    *trackReader // its decompressed content, when gzip
	conds   condCache
	minute  rfcMinute      // the minute of the last RFC 3339 timestamp
	order   [16]int8       // memberField's guesses: the column index by member position
	bar     marketdata.Bar // the bar record being read (Record.Bar points here)
	barEnd  int64          // its end time when the profile gives one (fieldBarEnd), else -1
	// barEndSub is the end time's nanoseconds within its millisecond.
	barEndSub int32
	// barEndRaw is the end time as written when it is a plain integer
	// (barEndPlain), read in the start's unit by finishBar.
	barEndRaw   int64
	barEndPlain bool
	// barLength is the length (ms) of the object's bars, barLengthName
	// its name (useBarLength).
	barLength     int64
	barLengthName string
}

// trackReader remembers the error of the underlying stream, so that a failure
// surfacing through the gzip or JSON layers is still told apart from bad data.
// It also counts the bytes read.
type trackReader struct {
	r   io.Reader
	n   int64
	err error
}

func (t *trackReader) Read(b []byte) (int, error) {
	if t.err != nil {
		return 0, t.err // sticky: a failure is seen wherever it surfaces
	}
	n, err := t.r.Read(b)
	t.n += int64(n)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// Parse reads the object r named name (its key or file name; the extension
// picks the format, see FormatFromName) and delivers each record to sink.
// gzip is recognised by its magic number whatever the name says.
//
// It returns nil when the whole object was read, an *ObjectError when the
// content is unreadable, a *SourceError when r failed, or sink's error.
func (p *Parser) Parse(r io.Reader, name string, sink Sink) (info Info, err error) {
	p.src, p.zsrc = &trackReader{r: r}, nil
	p.prof, p.units, p.symbol, p.name = nil, nil, "", name
	defer func() {
		if p.prof != nil {
			info.Profile = p.prof.name
		}
	}()
	if err := p.Options.check(); err != nil {
		return info, err
	}
	content := p.src
	br := bufio.NewReaderSize(p.src, bufferSize)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		info.Compressed = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			if p.src.err != nil {
				return info, &SourceError{Err: p.src.err}
			}
			return info, &ObjectError{Category: ObjectBadGzip, Reason: "corrupt gzip stream: " + err.Error()}
		}
		p.zsrc = &trackReader{r: zr}
		content = p.zsrc
		br = bufio.NewReaderSize(p.zsrc, bufferSize)
	}
	defer func() { info.Bytes = content.n - int64(br.Buffered()) }()

	if err := checkEncoding(br); err != nil {
		return info, err
	}
	f, err := p.detect(br, name)
	if err != nil {
		return info, err
	}
	info.Format = f
	if forced := profileNamed(p.Options.Profile); forced != nil && forced.json != (f != CSV) {
		what := map[bool]string{true: "JSON", false: "CSV"}
		return info, &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
			"the format %s is %s, but the object is %s", forced.name, what[forced.json], what[f != CSV])}
	}
	counted := func(rec *Record) error {
		info.Records++
		return sink(rec)
	}
	switch f {
	case CSV:
		err = p.parseCSV(br, counted, &info.IgnoredColumns)
	case NDJSON:
		err = p.parseNDJSON(br, counted)
	default:
		err = p.parseJSON(br, counted)
	}
	return info, err
}

// ParseJSON parses a JSON array of points, or an object {"points": [...]},
// from r (an API request body), with 0-based indexes.
func (p *Parser) ParseJSON(r io.Reader, sink Sink) error {
	p.src, p.zsrc = &trackReader{r: r}, nil
	p.prof, p.units, p.symbol, p.name = nil, nil, "", ""
	if err := p.Options.check(); err != nil {
		return err
	}
	if forced := profileNamed(p.Options.Profile); forced != nil && !forced.json {
		return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
			"the format %s is CSV; send it as Content-Type text/csv", forced.name)}
	}
	br := bufio.NewReaderSize(p.src, bufferSize)
	if err := checkEncoding(br); err != nil {
		return err
	}
	return p.parseJSON(br, sink)
}

// checkEncoding skips a UTF-8 byte order mark and refuses, with a reason
// naming the encoding, content that is not UTF-8: a UTF-16 or UTF-32 byte
// order mark, or NUL bytes interleaved with ASCII (UTF-16 or UTF-32 without
// a mark). A CSV header that is not UTF-8 (Latin-1, binary) is refused by
// parseCSV; other invalid UTF-8 is left to the records it is in, which are
// refused alone: one stray byte does not cost the rest of a file. A read
// error is left for the parsers to report where it occurs.
func checkEncoding(br *bufio.Reader) error {
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		_, _ = br.Discard(3)
	}
	b, _ := br.Peek(bufferSize)
	what := sniffEncoding(b)
	if what == "" {
		return nil
	}
	return &ObjectError{Category: ObjectBadEncoding, Reason: "the object is not UTF-8: " + what + "; save it as UTF-8"}
}

// sniffEncoding describes the encoding of b, the start of an object after an
// optional UTF-8 byte order mark, when it is not UTF-8 ("" when it may be).
func sniffEncoding(b []byte) string {
	for _, m := range [...]struct{ bom, enc string }{
		// UTF-32LE's mark begins with UTF-16LE's: it is tried first.
		{"\x00\x00\xFE\xFF", "UTF-32BE"}, {"\xFF\xFE\x00\x00", "UTF-32LE"},
		{"\xFE\xFF", "UTF-16BE"}, {"\xFF\xFE", "UTF-16LE"},
	} {
		if bytes.HasPrefix(b, []byte(m.bom)) {
			return fmt.Sprintf("%s (byte order mark % X)", m.enc, m.bom)
		}
	}
	// Without a mark, ASCII text in UTF-16 or UTF-32 has NUL bytes at fixed
	// positions of every 2 or 4. Counted over the first 256 bytes, the
	// share of NULs at each position modulo 4 tells them apart; a stray NUL
	// in UTF-8 text never comes near.
	sample := b[:min(len(b), 256)]
	if len(sample) >= 8 {
		var nul [4]int
		for i, c := range sample {
			if c == 0 {
				nul[i%4]++
			}
		}
		quarter := len(sample) / 4
		mostly := func(i int) bool { return nul[i]*10 >= quarter*9 }
		rarely := func(i int) bool { return nul[i]*10 <= quarter }
		switch {
		case mostly(1) && mostly(2) && mostly(3) && rarely(0):
			return "UTF-32LE without a byte order mark (NUL in three of every four bytes)"
		case mostly(0) && mostly(1) && mostly(2) && rarely(3):
			return "UTF-32BE without a byte order mark (NUL in three of every four bytes)"
		case mostly(1) && mostly(3) && rarely(0) && rarely(2):
			return "UTF-16LE without a byte order mark (NUL in every second byte)"
		case mostly(0) && mostly(2) && rarely(1) && rarely(3):
			return "UTF-16BE without a byte order mark (NUL in every second byte)"
		}
	}
	return ""
}

// readErr classifies an error from reading the (decompressed) stream: the
// source's own failure, or else a decompression failure.
func (p *Parser) readErr(err error) error {
	if p.src != nil && p.src.err != nil {
		return &SourceError{Err: p.src.err}
	}
	if p.zsrc != nil && p.zsrc.err != nil {
		return &ObjectError{Category: ObjectBadGzip, Reason: "corrupt gzip stream: " + p.zsrc.err.Error()}
	}
	return &ObjectError{Category: objectReadFailed, Reason: "read failed: " + err.Error()}
}

// FormatFromName returns the format an object name's extension names, after
// an optional .gz: .csv, .ndjson or .jsonl, or .json (an array, an object
// with a points array, or NDJSON: told apart by content). ok is false when
// the extension does not decide alone.
func FormatFromName(name string) (f Format, ok bool) {
	n := strings.ToLower(name)
	n = strings.TrimSuffix(strings.TrimSuffix(n, ".gz"), ".gzip")
	switch path.Ext(n) {
	case ".csv":
		return CSV, true
	case ".ndjson", ".jsonl":
		return NDJSON, true
	}
	return "", false
}

// detect picks the format from the name or, when the name does not decide,
// from the first bytes: '[' is a JSON array, '{' starting with a "points"
// (or Alpaca's "trades" or "bars") member is a JSON object holding the array, any other '{' is NDJSON, and
// anything else is CSV (whose header check then decides).
func (p *Parser) detect(br *bufio.Reader, name string) (Format, error) {
	// A read error here is not final: the records before it are parsed,
	// and the error surfaces again (trackReader is sticky) where it occurred.
	b, err := br.Peek(bufferSize)
	i := bytes.IndexFunc(b, func(r rune) bool { return !isJSONSpace(r) })
	if err != nil && err != io.EOF && i < 0 {
		return "", p.readErr(err)
	}
	if i < 0 && len(b) < bufferSize {
		return "", &ObjectError{Category: ObjectEmpty, Reason: "the object holds no data"}
	}
	if f, ok := FormatFromName(name); ok {
		return f, nil
	}
	named := isJSONName(name)
	if i >= 0 {
		switch b[i] {
		case '[':
			return JSONArray, nil
		case '{':
			rest := bytes.TrimLeftFunc(b[i+1:], isJSONSpace)
			if bytes.HasPrefix(rest, []byte(`"points"`)) || bytes.HasPrefix(rest, []byte(`"trades"`)) || bytes.HasPrefix(rest, []byte(`"bars"`)) {
				return JSONArray, nil // Alpaca's {"trades": ...} and {"bars": ...} too
			}
			return NDJSON, nil
		}
	}
	if named {
		return JSONArray, nil // whose parser says what is wrong
	}
	return CSV, nil
}

// isJSONName reports whether name ends in .json (before an optional .gz).
func isJSONName(name string) bool {
	n := strings.ToLower(name)
	n = strings.TrimSuffix(strings.TrimSuffix(n, ".gz"), ".gzip")
	return path.Ext(n) == ".json"
}

func isJSONSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// validate checks the point p.rec holds and sets p.rec.Err.
func (p *Parser) validate() {
	if err := p.rec.Point.Validate(p.Now); err != nil {
		cat := validationCategory(err)
		f := -1
		for i, c := range fieldCategory {
			if c == cat {
				f = i
				break
			}
		}
		p.rec.Err = p.vendorErr(f, &RecordError{Category: cat, Reason: err.Error()})
	}
}

// Profile returns the profile of the last object parsed ("" if none was
// settled on).
func (p *Parser) Profile() string {
	if p.prof == nil {
		return ""
	}
	return p.prof.name
}

func validationCategory(err error) string {
	for _, s := range []error{marketdata.ErrSymbol, marketdata.ErrPrice, marketdata.ErrVolume,
		marketdata.ErrTimestamp, marketdata.ErrQuote, marketdata.ErrExchange} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "invalid point"
}

func recordErr(category, format string, args ...any) *RecordError {
	return &RecordError{Category: category, Reason: fmt.Sprintf(format, args...)}
}

// interner shares the strings of repeated symbols, exchanges and sizes, so a
// valid record usually costs no allocation: a direct-mapped cache, where a
// collision merely costs a copy. Strings it does not keep (a cache miss:
// crypto sizes rarely repeat) are copied into an arena, a block of
// internHeap bytes shared by many strings, instead of one allocation each:
// the arena is only appended to, so a string made from it never changes,
// and a block is freed once no string points into it.
type interner struct {
	cache [internSlots]string
	arena []byte
}

const (
	internSlots = 1 << 10
	// internHeap is the arena's block size; internMax the longest string
	// taken from it (longer ones are rare: they get their own allocation).
	internHeap = 4 << 10
	internMax  = 64
)

func (in *interner) get(b []byte) string {
	h := internHash(b) % internSlots
	if s := in.cache[h]; s == string(b) {
		return s // "" too
	}
	return in.miss(b, h)
}

// miss makes the string of b, not in slot h, and caches it there when short.
func (in *interner) miss(b []byte, h uint) string {
	n := len(b)
	var s string
	if n <= internMax {
		if cap(in.arena)-len(in.arena) < n {
			in.arena = make([]byte, 0, internHeap)
		}
		start := len(in.arena)
		in.arena = append(in.arena, b...)
		s = unsafe.String(&in.arena[start], n)
	} else {
		s = string(b)
	}
	if n <= 32 {
		in.cache[h] = s
	}
	return s
}

// internHash mixes b's first and last eight bytes (all of a shorter b) and
// its length: sizes such as 100 and 300 or 0.0125 and 0.0135 differ in a
// middle byte, which a hash of a few chosen bytes misses. A shorter b is
// read as eight bytes when its array has them, the bytes past it masked off
// (a test checks that both ways give the same hash).
func internHash(b []byte) uint {
	n := len(b)
	var x uint64
	switch {
	case n >= 8:
		x = binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-8:]), 31)
	case cap(b) >= 8:
		x = binary.LittleEndian.Uint64(b[:8]) & (1<<(8*n) - 1)
	default:
		for i, c := range b { // the same value as the masked load
			x |= uint64(c) << (8 * i)
		}
	}
	return uint((x ^ uint64(n)) * 0x9E3779B97F4A7C15 >> 40)
}
