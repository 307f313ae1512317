package parse

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
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
// offset, every year a Point can hold) and reads them as time.Parse does.
func TestFastRFC3339Agrees(t *testing.T) {
	r := rand.New(rand.NewPCG(3339, 43))
	for range 100_000 {
		at := time.Unix(r.Int64N(253402300799), r.Int64N(1e9)) // up to 9999-12-31
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
		}
	}
}
