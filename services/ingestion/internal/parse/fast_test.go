package parse

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// quotedFields splits line with csvQuoted (the reference: it copies and
// unescapes byte by byte), with nothing after line in the object.
func quotedFields(line []byte) ([]string, *RecordError) {
	p := &Parser{}
	l := &lineReader{br: bufio.NewReader(bytes.NewReader(nil))}
	rerr, err := p.csvQuoted(l, line)
	if err != nil {
		panic(err) // a bytes.Reader does not fail
	}
	var out []string
	for _, f := range p.fields {
		out = append(out, string(f))
	}
	return out, rerr
}

// checkQuotedInPlace compares csvQuotedInPlace with csvQuoted on line:
// whenever the in-place split takes a line, csvQuoted accepts it with the
// same fields. It returns whether the in-place split took it.
func checkQuotedInPlace(t *testing.T, line string) bool {
	t.Helper()
	p := &Parser{}
	if !p.csvQuotedInPlace([]byte(line)) {
		return false
	}
	want, rerr := quotedFields([]byte(line))
	if rerr != nil {
		t.Fatalf("%q: split in place into %q, csvQuoted refuses it: %s", line, p.fields, rerr.Reason)
	}
	if len(want) != len(p.fields) {
		t.Fatalf("%q: in place %q, csvQuoted %q", line, p.fields, want)
	}
	for i, f := range p.fields {
		if string(f) != want[i] {
			t.Fatalf("%q: field %d in place %q, csvQuoted %q", line, i, f, want[i])
		}
	}
	return true
}

func TestCSVQuotedInPlaceAgrees(t *testing.T) {
	for _, c := range []struct {
		line    string
		inPlace bool // the fast split takes it
	}{
		{`AAPL,"12,37",0,4,52983525029461,1717162200000000000,100.00,1000,1717162200001000000,1,3,,`, true},
		{`"a",b,"c"`, true},
		{`  "a" ,	"b"	,c`, true},
		{`"",""`, true},
		{`x,""`, true},
		{`" a ",b`, true},
		{`a,"b"c`, false},         // data after the closing quote: refused by csvQuoted
		{`a,"b""c"`, false},       // an escaped quote: unescaped by csvQuoted
		{`a,"b`, false},           // goes on in the next line
		{`a,b"c`, false},          // a bare quote
		{"a,\v\"b\"", false},      // a quote after white space other than blanks
		{`"a" "b",c`, false},      // two quoted parts
		{`"a",b,"c,d`, false},     // the last one never closes
		{`"a"` + "\r", false},     // a carriage return after the quote
		{`"a,b",",",""""`, false}, // "" as a whole field
	} {
		if got := checkQuotedInPlace(t, c.line); got != c.inPlace {
			t.Errorf("%q: in place %v, want %v", c.line, got, c.inPlace)
		}
	}
	// Random lines over the bytes that matter.
	alphabet := []byte{'a', '1', ',', '"', ' ', '\t', '\r', '\v'}
	r := rand.New(rand.NewPCG(13, 43))
	taken := 0
	for range 200_000 {
		b := make([]byte, r.IntN(16))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if bytes.IndexByte(b, '"') < 0 {
			continue // csvRecord splits those without either
		}
		if checkQuotedInPlace(t, string(b)) {
			taken++
		}
	}
	if taken < 1000 {
		t.Fatalf("the in-place split took only %d random lines: the comparison checks little", taken)
	}
}

// fastRFC3339 takes the times Go writes in RFC 3339 (any fraction, any
// offset, every year a Point can hold) and reads them as time.Parse does,
// with and without the minute cache.
func TestFastRFC3339Agrees(t *testing.T) {
	r := rand.New(rand.NewPCG(3339, 43))
	for range 100_000 {
		at := time.Unix(r.Int64N(253402300799), r.Int64N(1e9))   // up to 9999-12-31
		zone := time.FixedZone("", (r.IntN(48*60-1)-24*60+1)*60) // ±23:59
		for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05.000000000Z07:00"} {
			s := at.In(zone).Format(layout)
			want, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			ms, sub, ok := fastRFC3339([]byte(s))
			if !ok || ms != want.UnixMilli() || sub != int32(want.Nanosecond()%1e6) {
				t.Fatalf("%q: fast path %d+%dns %v, time.Parse %d+%dns", s, ms, sub, ok, want.UnixMilli(), want.Nanosecond()%1e6)
			}
			// Through the minute cache, after a time of the same minute
			// (another second, zone or fraction) and after another one.
			for _, before := range []string{s[:16] + ":07Z", s[:16] + ":59.5+01:00", "2024-06-01T12:00:00Z"} {
				var c rfcMinute
				fastRFC3339In([]byte(before), &c)
				ms, sub, ok := fastRFC3339In([]byte(s), &c)
				if !ok || ms != want.UnixMilli() || sub != int32(want.Nanosecond()%1e6) {
					t.Fatalf("%q after %q: cached %d+%dns %v, time.Parse %d+%dns", s, before, ms, sub, ok, want.UnixMilli(), want.Nanosecond()%1e6)
				}
			}
		}
	}
}

// Strings the interner copies into its arena stay as they were however many
// come after them, and misses cost a fraction of an allocation each.
func TestInternerArena(t *testing.T) {
	var in interner
	var kept []string
	var want []string
	for i := range 20_000 {
		s := strconv.FormatFloat(float64(i)*0.0001+float64(i%7), 'f', -1, 64)
		kept = append(kept, in.get([]byte(s)))
		want = append(want, s)
	}
	for i := range kept {
		if kept[i] != want[i] {
			t.Fatalf("string %d is %q, was %q", i, kept[i], want[i])
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		in.get([]byte(strconv.Itoa(1_000_000 + i)))
	})
	if allocs > 0.1+1 { // strconv.Itoa's own string, plus a share of a block
		t.Fatalf("a missed string costs %v allocations", allocs)
	}
}

// A size canonicalCount takes as it is is its own canonical text.
func TestCanonicalCountAgrees(t *testing.T) {
	inputs := []string{"0", "00", "01", "1", "10", "999999999999999999", "1000000000000000000", "9223372036854775807", "", "1.0", "+1", "-1", " 1"}
	r := rand.New(rand.NewPCG(18, 43))
	for range 100_000 {
		b := make([]byte, r.IntN(21))
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		inputs = append(inputs, string(b))
	}
	taken := 0
	for _, s := range inputs {
		if !canonicalCount([]byte(s)) {
			continue
		}
		taken++
		dec, why := marketdata.AppendDecimal(nil, []byte(s))
		if why != "" || string(dec) != s {
			t.Fatalf("%q taken as it is; AppendDecimal gives %q %s", s, dec, why)
		}
	}
	if taken < 50_000 {
		t.Fatalf("only %d sizes taken as they are", taken)
	}
}

// The condition caches give each text the normal form conditions gives it,
// whatever came before it (texts that share a slot of the recent cache, one
// text on several tapes), and refuse what it refuses.
func TestConditionCachesAgree(t *testing.T) {
	p := &Parser{}
	r := rand.New(rand.NewPCG(12, 37))
	sip := []string{"@", "F", "T", "I", "Z", "4", "7", " ", "X"}
	for range 50_000 {
		ids := make([]string, 1+r.IntN(3))
		for i := range ids {
			ids[i] = strconv.Itoa(r.IntN(70))
		}
		text := strings.Join(ids, ",")
		got, gerr := p.conditionIDs([]byte(text))
		want, werr := conditions.NormalizeIDs(text)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Fatalf("ids %q: cached %q %v, conditions %q %v", text, got, gerr, want, werr)
		}
		codes := make([]string, 1+r.IntN(3))
		for i := range codes {
			codes[i] = sip[r.IntN(len(sip))]
		}
		raw, _ := json.Marshal(codes)
		tape := string(rune('A' + r.IntN(3)))
		got, gerr = p.conditionSIP(tape, raw)
		want, werr = conditions.NormalizeSIP(conditions.Tape(tape[0]), codes)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Fatalf("tape %s %s: cached %q %v, conditions %q %v", tape, raw, got, gerr, want, werr)
		}
	}
}

// internHash gives a text the same hash whether its array has room for an
// eight-byte load or not.
func TestInternHashByCapacity(t *testing.T) {
	for _, s := range []string{"", "A", "AAPL", "BRK.B", "0.0125", "1234567", "12345678", "123456789"} {
		tight := []byte(s)[:len(s):len(s)]
		roomy := append(make([]byte, 0, 64), s...)
		roomy = append(roomy, "garbage!"...)[:len(s)]
		if a, b := internHash(tight), internHash(roomy); a != b {
			t.Fatalf("%q: hash %d with cap %d, %d with cap %d", s, a, cap(tight), b, cap(roomy))
		}
	}
}

// splitPlain splits as strings.Split at commas does, each field trimmed of
// blanks, and leaves every line holding a quote to the quoted readers; blank
// agrees with bytes.TrimSpace.
func TestSplitPlainAgrees(t *testing.T) {
	alphabet := []string{"a", "1", ",", " ", "\t", "\r", "\"", "\u00a0", "\u0085", "\v", "é", "abcdefgh", ",,,,,,,,"}
	r := rand.New(rand.NewPCG(7, 43))
	p := &Parser{}
	for range 200_000 {
		var b strings.Builder
		for range r.IntN(24) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		line := b.String()
		if got, want := blank([]byte(line)), strings.TrimSpace(line) == ""; got != want {
			t.Fatalf("blank(%q) = %v", line, got)
		}
		ok := p.splitPlain([]byte(line))
		if ok == strings.Contains(line, `"`) {
			t.Fatalf("%q: splitPlain %v", line, ok)
		}
		if !ok {
			continue
		}
		want := strings.Split(line, ",")
		if len(want) != len(p.fields) {
			t.Fatalf("%q: %q, want %q", line, p.fields, want)
		}
		for i, w := range want {
			if w = strings.Trim(w, " \t"); string(p.fields[i]) != w {
				t.Fatalf("%q: field %d %q, want %q", line, i, p.fields[i], w)
			}
		}
	}
}

// digits8 reads every eight-byte word of digits as strconv does, and
// refuses every word holding another byte, at any position.
func TestDigits8(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 43))
	for range 200_000 {
		var b [8]byte
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		if r.IntN(2) == 0 {
			b[r.IntN(8)] = byte(r.IntN(256))
		}
		want, err := strconv.ParseUint(string(b[:]), 10, 64)
		valid := err == nil && !strings.ContainsAny(string(b[:]), "+-_")
		got, ok := digits8(binary.LittleEndian.Uint64(b[:]))
		if ok != valid || ok && got != want {
			t.Fatalf("%q: digits8 %d %v, strconv %d %v", b, got, ok, want, err)
		}
	}
}

// TestDigitRun holds digitRun's word scan to a loop over bytes: every byte
// value at every offset of runs up to 20 digits, from every start.
func TestDigitRun(t *testing.T) {
	ref := func(b []byte, i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	for n := range 21 {
		for c := range 256 {
			for k := range n + 1 {
				b := []byte(strings.Repeat("7", n) + "90123456")
				b[k] = byte(c)
				for start := range len(b) + 1 {
					if got, want := digitRun(b, start), ref(b, start); got != want {
						t.Fatalf("digitRun(%q, %d) = %d, want %d", b, start, got, want)
					}
				}
			}
		}
	}
}

// TestFastNameWords holds fastName's word comparison (quotedName) to the
// plain one: every column of every profile, guessed at position 0, against
// its quoted name followed by 0 to 20 bytes, and each byte of it replaced.
func TestFastNameWords(t *testing.T) {
	for _, prof := range profiles {
		p := &Parser{prof: prof}
		for k, c := range prof.columns {
			p.order[0] = int8(k)
			quoted := `"` + c.name + `"`
			for tail := range 21 {
				base := quoted + strings.Repeat(":", tail)
				inputs := []string{base}
				for j := range len(quoted) {
					for _, r := range []byte{'"', 'x', 0, 0xff, c.name[0]} {
						b := []byte(base)
						b[j] = r
						inputs = append(inputs, string(b))
					}
				}
				for _, in := range inputs {
					b := []byte(in)
					end := 1 + len(c.name)
					want := end < len(b) && b[0] == '"' && b[end] == '"' && string(b[1:end]) == c.name
					gotEnd, f, ok := p.fastName(b, 0, 0)
					if ok != want || ok && (gotEnd != end+1 || f != c.field) {
						t.Fatalf("%s: fastName(%q) for column %q = %d, %d, %v; want %v", prof.name, in, c.name, gotEnd, f, ok, want)
					}
				}
			}
		}
	}
}
