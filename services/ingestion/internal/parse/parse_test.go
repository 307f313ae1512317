package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/gen"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// testNow is the validation time of the tests: timestamps up to a day after
// it are valid.
var testNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

type got struct {
	index    int64
	point    marketdata.Point
	bar      *marketdata.Bar // a bar profile's record (Record.Bar), copied
	category string
	reason   string
	unit     string // Record.TimestampUnit
}

// parseAll parses data as object name with the default options (see
// parseWith).
func parseAll(t testing.TB, name string, data []byte) ([]got, Info, error) {
	t.Helper()
	return parseWith(t, name, data, Options{})
}

func pt(sym string, ts int64, price float64, vol uint64) marketdata.Point {
	return marketdata.Point{Symbol: sym, Timestamp: ts, Price: price, Volume: marketdata.Units(vol)}
}

const ms = int64(1717243200000) // 2024-06-01T12:00:00Z

func TestParseValid(t *testing.T) {
	full := marketdata.Point{Symbol: "BRK.B", Timestamp: ms + 123, Price: 412.5, Volume: "100", Bid: 412.4, Ask: 412.6, Exchange: "XNYS"}
	cases := []struct {
		name   string
		object string
		data   string
		format Format
		want   []got
	}{
		{"csv", "a.csv", "symbol,timestamp,price,volume\nAAPL,1717243200000,189.12,300\n", CSV,
			[]got{{index: 2, point: pt("AAPL", ms, 189.12, 300)}}},
		{"csv all columns any order and case", "a.csv", "Exchange,ASK,bid,Volume,price,TIMESTAMP,Symbol\nXNYS,412.6,412.4,100,412.5,1717243200123,BRK.B\n", CSV,
			[]got{{index: 2, point: full}}},
		{"csv CRLF and BOM", "a.csv", "\xEF\xBB\xBFsymbol,timestamp,price,volume\r\nAAPL,1717243200000,1.5,3\r\nMSFT,1717243200001,2.5,4\r\n", CSV,
			[]got{{index: 2, point: pt("AAPL", ms, 1.5, 3)}, {index: 3, point: pt("MSFT", ms+1, 2.5, 4)}}},
		{"csv quoted fields, escaped quote, quoted comma", "a.csv", "symbol,timestamp,price,volume,exchange\n\"AAPL\",\"1717243200000\",\"189.12\",300,\"X\"\"Y\"\nMSFT,1717243200000,1,1,\"a,b\"\n", CSV,
			[]got{{index: 2, point: marketdata.Point{Symbol: "AAPL", Timestamp: ms, Price: 189.12, Volume: "300", Exchange: `X"Y`}},
				{index: 3, point: marketdata.Point{Symbol: "MSFT", Timestamp: ms, Price: 1, Volume: "1", Exchange: "a,b"}}}},
		{"csv quoted field across lines keeps first line number", "a.csv", "symbol,timestamp,price,volume,exchange\nAAPL,1717243200000,1,1,\"X\nY\"\nMSFT,1717243200000,1,1,\n", CSV,
			[]got{{index: 2, point: marketdata.Point{Symbol: "AAPL", Timestamp: ms, Price: 1, Volume: "1", Exchange: "X\nY"}},
				{index: 4, point: pt("MSFT", ms, 1, 1)}}},
		{"csv blank lines and spaces", "a.csv", "\n symbol , timestamp , price , volume \n\nAAPL , 1717243200000 , 1.5 , 3\n\n", CSV,
			[]got{{index: 4, point: pt("AAPL", ms, 1.5, 3)}}},
		{"csv no final newline", "a.csv", "symbol,timestamp,price,volume\nAAPL,1717243200000,1.5,3", CSV,
			[]got{{index: 2, point: pt("AAPL", ms, 1.5, 3)}}},
		{"csv empty optional fields", "a.csv", "symbol,timestamp,price,volume,bid,ask,exchange\nAAPL,1717243200000,1.5,3,,,\n", CSV,
			[]got{{index: 2, point: pt("AAPL", ms, 1.5, 3)}}},
		{"csv RFC 3339 timestamps", "a.csv", "symbol,timestamp,price,volume\nA,2024-06-01T12:00:00Z,1,1\nB,2024-06-01T14:00:00.123456+02:00,1,1\nC,2024-06-01T12:00:00.5Z,1,1\n", CSV,
			[]got{{index: 2, point: pt("A", ms, 1, 1)}, {index: 3, point: ns(pt("B", ms+123, 1, 1), 456000)}, {index: 4, point: pt("C", ms+500, 1, 1)}}},
		{"csv integral volume in float notation", "a.csv", "symbol,timestamp,price,volume\nA,1717243200000,1,300.0\nB,1717243200000,1,1e3\n", CSV,
			[]got{{index: 2, point: pt("A", ms, 1, 300)}, {index: 3, point: pt("B", ms, 1, 1000)}}},
		{"ndjson", "a.ndjson", `{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"volume":300}` + "\n" +
			`{"symbol":"BRK.B","timestamp":"2024-06-01T12:00:00.123Z","price":412.5,"volume":100,"bid":412.4,"ask":412.6,"exchange":"XNYS"}` + "\n", NDJSON,
			[]got{{index: 1, point: pt("AAPL", ms, 189.12, 300)}, {index: 2, point: full}}},
		{"jsonl, CRLF, blank lines, nulls, numeric strings, escapes", "a.jsonl", "\r\n" +
			`{ "symbol" : "A\u0041PL", "timestamp": 1717243200000, "price": "189.12", "volume": "300", "bid": null, "exchange": "X\u00e9" }` + "\r\n\r\n", NDJSON,
			[]got{{index: 2, point: marketdata.Point{Symbol: "AAPL", Timestamp: ms, Price: 189.12, Volume: "300", Exchange: "Xé"}}}},
		{"json array", "a.json", `[{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"volume":300},` +
			`{"symbol":"BRK.B","timestamp":"2024-06-01T12:00:00.123Z","price":412.5,"volume":100,"bid":412.4,"ask":412.6,"exchange":"XNYS"}]`, JSONArray,
			[]got{{index: 0, point: pt("AAPL", ms, 189.12, 300)}, {index: 1, point: full}}},
		{"json object with points, pretty-printed", "a.json", "{\n  \"points\": [\n    {\"symbol\": \"AAPL\", \"timestamp\": 1717243200000, \"price\": 1.5, \"volume\": 3}\n  ]\n}\n", JSONArray,
			[]got{{index: 0, point: pt("AAPL", ms, 1.5, 3)}}},
		{".json holding NDJSON", "a.json", `{"symbol":"AAPL","timestamp":1717243200000,"price":1.5,"volume":3}` + "\n", NDJSON,
			[]got{{index: 1, point: pt("AAPL", ms, 1.5, 3)}}},
		{"no extension, sniffed CSV", "data", "symbol,timestamp,price,volume\nAAPL,1717243200000,1.5,3\n", CSV,
			[]got{{index: 2, point: pt("AAPL", ms, 1.5, 3)}}},
		{"no extension, sniffed array", "data.txt", ` [{"symbol":"AAPL","timestamp":1717243200000,"price":1.5,"volume":3}]`, JSONArray,
			[]got{{index: 0, point: pt("AAPL", ms, 1.5, 3)}}},
		{"empty array", "a.json", `[]`, JSONArray, nil},
		{"header only", "a.csv", "symbol,timestamp,price,volume\n", CSV, nil},
	}
	for _, tc := range cases {
		for _, compress := range []bool{false, true} {
			name, data := tc.name, []byte(tc.data)
			object := tc.object
			if compress {
				name, data, object = name+" gzip", gen.Gzip(data), object+".gz"
			}
			t.Run(name, func(t *testing.T) {
				recs, info, err := parseAll(t, object, data)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if info.Format != tc.format || info.Compressed != compress {
					t.Fatalf("info %+v, want format %s compressed %v", info, tc.format, compress)
				}
				if info.Records != int64(len(recs)) {
					t.Fatalf("info.Records %d, delivered %d", info.Records, len(recs))
				}
				assertRecords(t, recs, tc.want)
				if want := int64(len(tc.data)); info.Bytes != want {
					t.Fatalf("info.Bytes %d, want %d", info.Bytes, want)
				}
			})
		}
	}
}

func assertRecords(t *testing.T, recs, want []got) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("got %d records %+v, want %d %+v", len(recs), recs, len(want), want)
	}
	for i := range want {
		if recs[i].category != want[i].category || recs[i].index != want[i].index ||
			want[i].category == "" && recs[i].point != want[i].point {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, recs[i], want[i])
		}
		if want[i].reason != "" && !strings.Contains(recs[i].reason, want[i].reason) {
			t.Errorf("record %d reason %q does not contain %q", i, recs[i].reason, want[i].reason)
		}
	}
}

func TestParseRejections(t *testing.T) {
	const hdr = "symbol,timestamp,price,volume,bid,ask,exchange\n"
	csvCase := func(line string) string { return hdr + line + "\n" }
	cases := []struct {
		name, object, data string
		category, reason   string
	}{
		{"lower-case symbol", "a.csv", csvCase("aapl,1717243200000,1,1,,,"), "invalid symbol", `"aapl"`},
		{"long symbol", "a.csv", csvCase("ABCDEFGHIJKLMNOPQ,1717243200000,1,1,,,"), "invalid symbol", "want 1-16"},
		{"empty symbol", "a.csv", csvCase(",1717243200000,1,1,,,"), CategoryMissing, "missing symbol"},
		{"zero price", "a.csv", csvCase("A,1717243200000,0,1,,,"), "invalid price", "want a finite number > 0"},
		{"negative price", "a.csv", csvCase("A,1717243200000,-1.5,1,,,"), "invalid price", "-1.5"},
		{"NaN price", "a.csv", csvCase("A,1717243200000,NaN,1,,,"), "invalid price", "NaN"},
		{"Inf price", "a.csv", csvCase("A,1717243200000,+Inf,1,,,"), "invalid price", "+Inf"},
		{"huge price", "a.csv", csvCase("A,1717243200000,1e400,1,,,"), "invalid price", "out of range"},
		{"hex price", "a.csv", csvCase("A,1717243200000,0x1p4,1,,,"), "invalid price", "not a decimal number"},
		{"text price", "a.csv", csvCase("A,1717243200000,abc,1,,,"), "invalid price", "not a number"},
		{"missing price and volume", "a.csv", csvCase("A,1717243200000,,,,,"), CategoryMissing, "missing price, volume"},
		{"negative volume", "a.csv", csvCase("A,1717243200000,1,-5,,,"), "invalid volume", `"-5": negative`},
		{"volume with 19 fraction digits", "a.csv", csvCase("A,1717243200000,1,1.0000000000000000001,,,"), "invalid volume", "more than 18 fraction digits"},
		{"volume not a number", "a.csv", csvCase("A,1717243200000,1,1.5.0,,,"), "invalid volume", "not a decimal number"},
		{"huge volume", "a.csv", csvCase("A,1717243200000,1,99999999999999999999,,,"), "invalid volume", "out of range"},
		{"timestamp before 1970", "a.csv", csvCase("A,-1,1,1,,,"), "invalid timestamp", "before 1970"},
		{"timestamp two days ahead", "a.csv", csvCase("A,1717416000001,1,1,,,"), "invalid timestamp", "in the future"},
		{"timestamp in seconds is 1970", "a.csv", csvCase("A,2024-13-01T00:00:00Z,1,1,,,"), "invalid timestamp", "RFC 3339"},
		{"timestamp out of range", "a.csv", csvCase("A,99999999999999999999,1,1,,,"), "invalid timestamp", "out of range"},
		{"bid above ask", "a.csv", csvCase("A,1717243200000,1,1,2,1,"), "invalid bid/ask", "bid 2 > ask 1"},
		{"negative bid", "a.csv", csvCase("A,1717243200000,1,1,-2,,"), "invalid bid/ask", "bid -2"},
		{"long exchange", "a.csv", csvCase("A,1717243200000,1,1,,,ABCDEFGHIJKLMNOPQ"), "invalid exchange", "longer than 16"},
		{"exchange not UTF-8", "a.csv", csvCase("A,1717243200000,1,1,,,\xff\xfe"), "invalid exchange", "not valid UTF-8"},
		{"too few fields", "a.csv", csvCase("A,1717243200000,1"), CategoryFieldCount, "expected 7 fields, got 3"},
		{"too many fields", "a.csv", csvCase("A,1717243200000,1,1,,,,extra"), CategoryFieldCount, "got 8"},
		{"bare quote", "a.csv", csvCase(`A"B,1717243200000,1,1,,,`), CategoryMalformed, "bare"},
		{"text after closing quote", "a.csv", csvCase(`"A"B,1717243200000,1,1,,,`), CategoryMalformed, "after a closing quote"},
		{"unterminated quote", "a.csv", csvCase(`"A,1717243200000,1,1,,,`), CategoryMalformed, "not closed"},
		{"json duplicate key", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":1,"price":2,"volume":1}`, CategoryDuplicate, `"price" appears twice`},
		{"json duplicate key, escaped", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":1,"pr\u0069ce":2,"volume":1}`, CategoryDuplicate, `"price" appears twice`},
		{"json duplicate null key", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1,"bid":null,"bid":1}`, CategoryDuplicate, `"bid" appears twice`},
		{"json unknown key", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1,"Price":2}`, CategoryUnknown, `"Price"`},
		{"json missing keys", "a.ndjson", `{"symbol":"A"}`, CategoryMissing, "missing timestamp, price, volume"},
		{"json null required", "a.ndjson", `{"symbol":"A","timestamp":null,"price":1,"volume":1}`, CategoryMissing, "missing timestamp"},
		{"json number symbol", "a.ndjson", `{"symbol":123,"timestamp":1717243200000,"price":1,"volume":1}`, "invalid symbol", "want a string"},
		{"json bool price", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":true,"volume":1}`, "invalid price", "a boolean, want a number"},
		{"json object price", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":{"v":1},"volume":1}`, "invalid price", "an object"},
		{"json float timestamp", "a.ndjson", `{"symbol":"A","timestamp":1717243200000.5,"price":1,"volume":1}`, "invalid timestamp", "RFC 3339"},
		{"json huge number", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":1e999,"volume":1}`, "invalid price", "out of range"},
		{"json array record", "a.ndjson", `[1,2]`, CategoryMalformed, "is an array, want an object"},
		{"json syntax", "a.ndjson", `{"symbol":"A",}`, CategoryMalformed, "malformed JSON"},
		{"json leading zero", "a.ndjson", `{"symbol":"A","timestamp":01717243200000,"price":1,"volume":1}`, CategoryMalformed, "malformed JSON"},
		{"json two values", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1} {}`, CategoryMalformed, "more than one value"},
		{"json invalid UTF-8", "a.ndjson", "{\"symbol\":\"A\",\"timestamp\":1717243200000,\"price\":1,\"volume\":1,\"exchange\":\"\xff\"}", CategoryMalformed, "UTF-8"},
		{"json deep nesting", "a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `,"volume":1}`, CategoryMalformed, "depth"},
		{"array element not object", "a.json", `["AAPL"]`, CategoryMalformed, "is a string, want an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := parseAll(t, tc.object, []byte(tc.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(recs) != 1 {
				t.Fatalf("got %d records %+v, want 1", len(recs), recs)
			}
			r := recs[0]
			if r.category != tc.category || !strings.Contains(r.reason, tc.reason) {
				t.Fatalf("got %q %q, want category %q and a reason containing %q", r.category, r.reason, tc.category, tc.reason)
			}
		})
	}
}

func TestParseObjectErrors(t *testing.T) {
	valid := `{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1}`
	truncatedGzip := gen.Gzip(gen.Bytes(gen.CSV, 20000))
	truncatedGzip = truncatedGzip[:len(truncatedGzip)/2]
	badChecksum := gen.Gzip([]byte("symbol,timestamp,price,volume\nA,1717243200000,1,1\n"))
	badChecksum[len(badChecksum)-8] ^= 0xff
	cases := []struct {
		name, object string
		data         []byte
		category     string
		reason       string
		minAccepted  int
	}{
		{"empty", "a.csv", nil, ObjectEmpty, "no data", 0},
		{"white space", "a.json", []byte(" \n\t\r\n"), ObjectEmpty, "no data", 0},
		{"BOM only", "a.csv", []byte("\xEF\xBB\xBF"), ObjectEmpty, "no data", 0},
		{"wrong header", "a.csv", []byte("sym,ts,px,qty\nA,1,1,1\n"), ObjectBadHeader, `unknown column(s) "sym"`, 0},
		{"header missing a column", "a.csv", []byte("symbol,timestamp,price\nA,1,1\n"), ObjectBadHeader, "missing column(s) volume", 0},
		{"header with a repeated column", "a.csv", []byte("symbol,timestamp,price,volume,price\n"), ObjectBadHeader, `"price" appears twice`, 0},
		{"header is data", "a.csv", []byte("AAPL,1717243200000,1,1\n"), ObjectNoHeader, "no header row", 0},
		{"truncated gzip keeps what came before", "a.csv.gz", truncatedGzip, ObjectBadGzip, "unexpected EOF", 100},
		{"gzip checksum", "a.csv.gz", badChecksum, ObjectBadGzip, "checksum", 0},
		{"gzip header only", "a.csv.gz", []byte{0x1f, 0x8b}, ObjectBadGzip, "corrupt gzip", 0},
		{"json syntax mid-array keeps earlier elements", "a.json", []byte(`[` + valid + `,` + valid + `,{"symbol":}]`), ObjectBadJSON, "in element 2", 2},
		{"json truncated", "a.json", []byte(`[` + valid + `,` + valid), ObjectBadJSON, "unexpected EOF", 2},
		{"json trailing data", "a.json", []byte(`[` + valid + `] x`), ObjectBadJSON, "invalid character 'x'", 1},
		{"json scalar", "a.json", []byte(`42`), ObjectBadShape, "is a number", 0},
		{"json object without points", "a.json", []byte(`{"points":[]}`), "", "", 0},
		{"json object unknown member", "x", []byte(`{"points":[],"extra":1}`), ObjectBadShape, `unknown member "extra"`, 0},
		{"json object points twice", "x", []byte(`{"points":[],"points":[]}`), ObjectBadShape, "appears twice", 0},
		{"json points not array", "x", []byte(`{"points":{}}`), ObjectBadShape, `"points" is an object`, 0},
		{"json array deep nesting", "a.json", []byte(strings.Repeat("[", 20000)), ObjectBadJSON, "depth", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := parseAll(t, tc.object, tc.data)
			accepted := 0
			for _, r := range recs {
				if r.category == "" {
					accepted++
				}
			}
			if accepted < tc.minAccepted {
				t.Errorf("accepted %d records before the error, want at least %d", accepted, tc.minAccepted)
			}
			if tc.category == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			var oe *ObjectError
			if !errors.As(err, &oe) {
				t.Fatalf("error %v (%T), want *ObjectError", err, err)
			}
			if oe.Category != tc.category || !strings.Contains(oe.Reason, tc.reason) {
				t.Fatalf("got %q %q, want %q containing %q", oe.Category, oe.Reason, tc.category, tc.reason)
			}
		})
	}
}

func TestRecordTooLong(t *testing.T) {
	long := strings.Repeat("x", 3*MaxRecordBytes)
	for _, tc := range []struct{ object, data string }{
		{"a.csv", "symbol,timestamp,price,volume\nA,1717243200000,1,1\n" + long + "\nB,1717243200000,1,1\n"},
		{"a.csv", "symbol,timestamp,price,volume\nA,1717243200000,1,1\n\"" + long + "\nB,1717243200000,1,1\n"},
		{"a.ndjson", `{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1}` + "\n" + long + "\n" + `{"symbol":"B","timestamp":1717243200000,"price":1,"volume":1}`},
	} {
		recs, _, err := parseAll(t, tc.object, []byte(tc.data))
		if err != nil {
			t.Fatal(err)
		}
		var cats []string
		for _, r := range recs {
			cats = append(cats, r.category)
		}
		if len(recs) != 3 || cats[0] != "" || cats[1] != CategoryTooLong || cats[2] != "" && tc.data[len("symbol,timestamp,price,volume\nA,1717243200000,1,1\n")] != '"' {
			t.Fatalf("%s: categories %q, want accepted, too long, accepted", tc.object, cats)
		}
	}
}

// failingReader yields data, then fails with err instead of EOF.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(b []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(b, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A failure of the underlying stream is a SourceError (worth a retry),
// whether it surfaces through gzip, the JSON decoder or the line reader.
func TestSourceErrors(t *testing.T) {
	boom := errors.New("connection reset")
	csv := []byte("symbol,timestamp,price,volume\n" + strings.Repeat("A,1717243200000,1,1\n", 20000))
	var arr bytes.Buffer
	arr.WriteString("[")
	for i := range 20000 {
		if i > 0 {
			arr.WriteString(",")
		}
		arr.WriteString(`{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1}`)
	}
	for _, tc := range []struct {
		name, object string
		data         []byte
	}{
		{"csv", "a.csv", csv[:len(csv)/2]},
		{"gzip csv", "a.csv.gz", gen.Gzip(csv)[:len(gen.Gzip(csv))/2]},
		{"json", "a.json", arr.Bytes()[:arr.Len()/2]},
		{"gzip json", "a.json.gz", gen.Gzip(arr.Bytes())[:len(gen.Gzip(arr.Bytes()))/2]},
		{"ndjson before detection", "a.ndjson", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Parser{Now: testNow}
			_, err := p.Parse(&failingReader{data: tc.data, err: boom}, tc.object, func(*Record) error { return nil })
			var se *SourceError
			if !errors.As(err, &se) || !errors.Is(err, boom) {
				t.Fatalf("error %v (%T), want a SourceError wrapping %v", err, err, boom)
			}
		})
	}
}

func TestSinkErrorStops(t *testing.T) {
	stop := errors.New("stop")
	for _, object := range []string{"a.csv", "a.ndjson", "a.json"} {
		data := map[string]string{
			"a.csv":    "symbol,timestamp,price,volume\nA,1717243200000,1,1\nA,1717243200000,1,1\n",
			"a.ndjson": "{}\n{}\n",
			"a.json":   "[{},{}]",
		}[object]
		n := 0
		p := &Parser{Now: testNow}
		_, err := p.Parse(strings.NewReader(data), object, func(*Record) error { n++; return stop })
		if err != stop || n != 1 {
			t.Fatalf("%s: error %v after %d records, want the sink's error after 1", object, err, n)
		}
	}
}

func TestMultiMemberGzip(t *testing.T) {
	a := gen.Gzip([]byte("symbol,timestamp,price,volume\nA,1717243200000,1,1\n"))
	b := gen.Gzip([]byte("B,1717243200000,2,2\n"))
	recs, info, err := parseAll(t, "x.csv.gz", append(a, b...))
	if err != nil || len(recs) != 2 || recs[1].point.Symbol != "B" || !info.Compressed {
		t.Fatalf("records %+v, info %+v, error %v", recs, info, err)
	}
}

// gzip is recognised by content: a .gz name on plain data and a plain name
// on gzip data both work.
func TestGzipByMagic(t *testing.T) {
	data := []byte("symbol,timestamp,price,volume\nA,1717243200000,1,1\n")
	for _, tc := range []struct {
		object string
		data   []byte
		gzip   bool
	}{{"a.csv.gz", data, false}, {"a.csv", gen.Gzip(data), true}} {
		recs, info, err := parseAll(t, tc.object, tc.data)
		if err != nil || len(recs) != 1 || recs[0].category != "" || info.Compressed != tc.gzip {
			t.Fatalf("%s: records %+v info %+v error %v", tc.object, recs, info, err)
		}
	}
}

func TestFormatFromName(t *testing.T) {
	for name, want := range map[string]Format{
		"a.csv": CSV, "A.CSV.GZ": CSV, "x/y.ndjson": NDJSON, "y.jsonl.gz": NDJSON, "y.JSONL": NDJSON,
		"a.json": "", "a.json.gz": "", "a": "", "a.txt": "", "a.csv.bak": "",
	} {
		f, ok := FormatFromName(name)
		if f != want || ok != (want != "") {
			t.Errorf("FormatFromName(%q) = %q, %v; want %q", name, f, ok, want)
		}
	}
}

func TestFastDecimalMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	inputs := []string{"0", "0.0", "00.5", "1", "189.12", "0.000001", "123456789012345", "1234567890123456",
		"9007199254740993", "0.1", "0.3", "1.7976931348623157", "4.35", "100.0000000000000000001", "5e-324", "1.", ".5",
		"9007199254740992", "900719925474099.2", "9007199254740994", "1234567890123456789", "18446744073709551617",
		"1844674407370955161.7", "36893488147419103233", "00012.5", "0.000000000000000001", "1.2.3", "12a", ""}
	for i := range 200000 {
		digits := 1 + r.IntN(16)
		s := strconv.FormatUint(r.Uint64()%uint64(math.Pow10(min(digits, 19))), 10)
		if i%4 == 0 { // up to 21 digits: past uint64 and 2^53
			b := make([]byte, 1+r.IntN(21))
			for j := range b {
				b[j] = byte('0' + r.IntN(10))
			}
			s = string(b)
		}
		if pos := r.IntN(len(s) + 1); pos > 0 && pos < len(s) {
			s = s[:pos] + "." + s[pos:]
		}
		inputs = append(inputs, s)
	}
	for _, s := range inputs {
		want, werr := strconv.ParseFloat(s, 64)
		got, why := parseDecimal([]byte(s))
		if (werr == nil) != (why == "") || werr == nil && got != want {
			t.Fatalf("parseDecimal(%q) = %v %q; strconv %v %v", s, got, why, want, werr)
		}
	}
}

// TestFastString: fastString ends a string at its quote and refuses one
// with a control character, DEL, non-ASCII or an escape, for every byte.
func TestFastString(t *testing.T) {
	for c := range 256 {
		// Long strings too, with the byte at every offset of the words
		// plainRun skips whole.
		inputs := []string{"\"a%cb\"", "\"%c\"", "\"ab%c"}
		for k := range 20 {
			pre, post := strings.Repeat("x", k), strings.Repeat("y", 19-k)
			inputs = append(inputs, "\""+pre+"%c"+post+"\"", "\""+pre+"%c"+post)
		}
		for _, in := range inputs {
			b := []byte(strings.Replace(in, "%c", string([]byte{byte(c)}), 1))
			plain := c >= 0x20 && c < 0x7f && c != '\\'
			wantEnd, wantOK := 0, false
			switch {
			case c == '"': // the quote ends the string there
				wantEnd, wantOK = strings.Index(in, "%c")+1, true
			case plain && strings.HasSuffix(in, "\""):
				wantEnd, wantOK = len(b), true
			}
			if end, ok := fastString(b, 0); end != wantEnd || ok != wantOK {
				t.Fatalf("fastString(%q) = %d, %v; want %d, %v", b, end, ok, wantEnd, wantOK)
			}
		}
	}
}

// The fast JSON path and jsontext's path agree on every input.
func TestJSONFastPathAgrees(t *testing.T) {
	lines := []string{
		`{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"volume":300}`,
		`{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"volume":300,"bid":1,"ask":2,"exchange":"X"}`,
		` { "symbol" : "A" , "timestamp" : 1717243200000 , "price" : -0.0e+1 , "volume" : 0 } `,
		`{}`, `{"symbol":null}`, `{"symbol":"A","symbol":"B"}`, `{"foo":1}`, `{"foo":}`, `{"symbol":"A" "x":1}`,
		`{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1}x`, `{"price":01}`, `{"price":1.}`, `{"price":.5}`,
		`{"price":-}`, `{"price":1e}`, `{"price":1E+2}`, `{"price":"1"}`, `{"price":nul}`, `{"price":true}`,
		`{"symbol":"\u0041"}`, `{"symbol":"é"}`, "{\"symbol\":\"\x01\"}", `{"symbol":"A",}`, `{,}`, `{"a"}`, `[`,
		`{"volume":1.5}`, `{"timestamp":"2024-06-01T12:00:00Z"}`, `{"exchange":""}`, `{"symbol":""}`,
	}
	for _, l := range lines {
		fast := &Parser{Now: testNow}
		slow := &Parser{Now: testNow, noFast: true}
		fast.rec, slow.rec = Record{}, Record{}
		fast.jsonPoint([]byte(l))
		slow.jsonPoint([]byte(l))
		if !sameRecord(&fast.rec, &slow.rec) {
			t.Errorf("%s:\nfast %+v %v\nslow %+v %v", l, fast.rec.Point, fast.rec.Err, slow.rec.Point, slow.rec.Err)
		}
	}
}

func sameRecord(a, b *Record) bool {
	if (a.Err == nil) != (b.Err == nil) {
		return false
	}
	if a.Err != nil {
		return *a.Err == *b.Err
	}
	// PriceTexts by value: two parses of one exact price allocate two.
	pa, pb := a.Point, b.Point
	if (pa.PriceTexts == nil) != (pb.PriceTexts == nil) || pa.PriceTexts != nil && *pa.PriceTexts != *pb.PriceTexts {
		return false
	}
	pa.PriceTexts, pb.PriceTexts = nil, nil
	return pa == pb || math.IsNaN(pa.Price) && math.IsNaN(pb.Price)
}

func TestInterner(t *testing.T) {
	var in interner
	a := in.get([]byte("AAPL"))
	if b := in.get([]byte("AAPL")); b != a || len(in.cache) == 0 {
		t.Fatal("interned string differs")
	}
	if n := testing.AllocsPerRun(100, func() { in.get([]byte("AAPL")) }); n != 0 {
		t.Fatalf("a cached string costs %v allocations", n)
	}
	if in.get(nil) != "" {
		t.Fatal("empty input")
	}
}

func TestParseJSONBody(t *testing.T) {
	p := &Parser{Now: testNow}
	var idx []int64
	err := p.ParseJSON(strings.NewReader("\xEF\xBB\xBF"+`{"points":[{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1},{}]}`), func(r *Record) error {
		idx = append(idx, r.Index)
		return nil
	})
	if err != nil || len(idx) != 2 || idx[0] != 0 || idx[1] != 1 {
		t.Fatalf("indexes %v, error %v", idx, err)
	}
	if err := p.ParseJSON(io.MultiReader(strings.NewReader("[1,")), func(*Record) error { return nil }); err == nil {
		t.Fatal("truncated body parsed")
	}
}

// An integer timestamp is read in the unit its magnitude names, in every
// format and through both JSON paths; one that fits no unit is refused.
func TestTimestampUnits(t *testing.T) {
	const march1 = int64(1709303400000) // 2024-03-01T14:30:00Z
	cases := []struct {
		name, ts string
		want     int64  // ms; 0 when refused
		unit     string // "" when refused
		reason   string // part of the refusal
	}{
		{"seconds", "1709303400", march1, "s", ""},
		{"seconds in float notation", "1.7093034e9", march1, "s", ""},
		{"seconds, 9 digits", "999999999", 999999999000, "s", ""},
		{"milliseconds", "1709303400123", march1 + 123, "ms", ""},
		{"microseconds become ms", "1709303400123456", march1 + 123, "us", ""},
		{"nanoseconds become ms", "1709303400123456789", march1 + 123, "ns", ""},
		{"leading zeros do not change the magnitude", "0001709303400", march1, "s", ""},
		{"RFC 3339", "2024-03-01T14:30:00.123Z", march1 + 123, UnitRFC3339, ""},
		{"11 digits fit no unit", "17093034001", 0, "", "fits no unit"},
		{"14 digits fit no unit", "17093034001234", 0, "", "fits no unit"},
		{"17 digits fit no unit", "17093034001234567", 0, "", "fits no unit"},
		{"8 digits fit no unit", "99999999", 0, "", "fits no unit"},
		{"zero", "0", 0, "", "fits no unit"},
		{"negative", "-1709303400", 0, "", "before 1970"},
		{"seconds far ahead", "9999999999", 0, "", "in the future"},
	}
	formats := []struct {
		object string
		line   func(ts string) string
	}{
		{"a.csv", func(ts string) string { return "symbol,timestamp,price,volume\nA," + ts + ",1,1\n" }},
		{"a.ndjson", func(ts string) string { return `{"symbol":"A","timestamp":` + ts + `,"price":1,"volume":1}` + "\n" }},
		{"b.ndjson", func(ts string) string { return `{"symbol":"A","timestamp":"` + ts + `","price":1,"volume":1}` + "\n" }},
	}
	for _, tc := range cases {
		for _, f := range formats {
			if f.object == "a.ndjson" && (strings.Contains(tc.ts, "T") || tc.ts[0] == '0') {
				continue // a JSON number cannot hold an RFC 3339 time or leading zeros
			}
			for _, noFast := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/noFast=%v", tc.name, f.object, noFast), func(t *testing.T) {
					p := &Parser{Now: testNow, noFast: noFast}
					var recs []Record
					_, err := p.Parse(strings.NewReader(f.line(tc.ts)), f.object, func(r *Record) error {
						recs = append(recs, *r)
						return nil
					})
					if err != nil || len(recs) != 1 {
						t.Fatalf("records %+v, error %v", recs, err)
					}
					r := recs[0]
					if tc.unit == "" {
						if r.Err == nil || r.Err.Category != marketdata.ErrTimestamp.Error() || !strings.Contains(r.Err.Reason, tc.reason) {
							t.Fatalf("got %+v %v, want an invalid timestamp containing %q", r.Point, r.Err, tc.reason)
						}
						return
					}
					if r.Err != nil || r.Point.Timestamp != tc.want || r.TimestampUnit != tc.unit {
						t.Fatalf("got %d (%s) %v, want %d (%s)", r.Point.Timestamp, r.TimestampUnit, r.Err, tc.want, tc.unit)
					}
				})
			}
		}
	}
}

// refTimestamp is the straightforward reading of an integer timestamp the
// fast path must agree with: strconv, the unit chosen by comparing against
// the table, and the conversion done by package time (the milliseconds and
// the nanoseconds within them).
func refTimestamp(s string) (ms int64, sub int32, unit string, ok bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, 0, "", false
	}
	for _, u := range marketdata.TimestampUnits {
		if n < u.Min || n > u.Max {
			continue
		}
		var t time.Time
		switch u.Name {
		case "s":
			t = time.Unix(n, 0)
		case "ms":
			t = time.UnixMilli(n)
		case "us":
			t = time.UnixMicro(n)
		case "ns":
			t = time.Unix(0, n)
		}
		return t.UnixMilli(), int32(t.Nanosecond() % 1e6), u.Name, true
	}
	return 0, 0, "", false
}

// checkTimestamp compares parseTimestamp with refTimestamp on s, a string of
// digits (an optional sign and only digits).
func checkTimestamp(t *testing.T, s string) {
	t.Helper()
	ms, sub, unit, rerr := parseTimestamp([]byte(s))
	want, wantSub, wantUnit, ok := refTimestamp(s)
	if ok != (rerr == nil) || ok && (ms != want || sub != wantSub || unit != wantUnit) {
		t.Fatalf("parseTimestamp(%q) = %d+%dns %q %v; reference %d+%dns %q %v", s, ms, sub, unit, rerr, want, wantSub, wantUnit, ok)
	}
}

// The fast integer path agrees with the reference on every magnitude,
// especially at each unit's bounds.
func TestTimestampFastPathAgrees(t *testing.T) {
	var inputs []string
	for _, u := range marketdata.TimestampUnits {
		for _, n := range []int64{u.Min - 1, u.Min, u.Min + 1, u.Max - 1, u.Max} {
			inputs = append(inputs, strconv.FormatInt(n, 10))
		}
	}
	inputs = append(inputs, "9223372036854775807", "9223372036854775808", "9999999999999999999", "0000000000000000001", "0", "00", "-0", "+1709303400",
		"-1709303400", "01709303400123", "000000000000000000001709303400")
	r := rand.New(rand.NewPCG(10, 4))
	for range 200000 {
		digits := 1 + r.IntN(19)
		inputs = append(inputs, strconv.FormatUint(r.Uint64()%pow10u(digits), 10))
	}
	for _, s := range inputs {
		checkTimestamp(t, s)
	}
}

func pow10u(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"1709303400", "1709303400123", "1709303400123456", "1709303400123456789", "17093034001", "-5", "+0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || strings.Trim(s[1:], "0123456789") != "" || strings.Trim(s[:1], "+-0123456789") != "" {
			// Anything but a signed integer goes to the float and RFC 3339
			// readers; it must still not panic.
			_, _, _, _ = parseTimestamp([]byte(s))
			return
		}
		checkTimestamp(t, s)
	})
}

// A file that is not UTF-8 is refused whole with a reason naming the
// encoding; its bytes are never listed as column names.
func TestEncodingRefused(t *testing.T) {
	utf16 := func(s string, bigEndian bool) []byte {
		var b []byte
		for _, c := range []byte(s) {
			if bigEndian {
				b = append(b, 0, c)
			} else {
				b = append(b, c, 0)
			}
		}
		return b
	}
	const csv = "symbol,timestamp,price,volume\nAAPL,1717243200000,1,1\n"
	const ndjson = `{"symbol":"AAPL","timestamp":1717243200000,"price":1,"volume":1}` + "\n"
	cases := []struct {
		name, object string
		data         []byte
		reason       string
	}{
		{"UTF-16LE with BOM", "a.csv", append([]byte{0xFF, 0xFE}, utf16(csv, false)...), "UTF-16LE"},
		{"UTF-16BE with BOM", "a.csv", append([]byte{0xFE, 0xFF}, utf16(csv, true)...), "UTF-16BE"},
		{"UTF-16LE without BOM", "a.csv", utf16(csv, false), "UTF-16LE"},
		{"UTF-16BE without BOM", "data", utf16(csv, true), "UTF-16BE"},
		{"UTF-16LE NDJSON", "a.ndjson", append([]byte{0xFF, 0xFE}, utf16(ndjson, false)...), "UTF-16LE"},
		{"UTF-16LE JSON", "a.json", append([]byte{0xFF, 0xFE}, utf16("["+ndjson+"]", false)...), "UTF-16LE"},
		{"UTF-32LE with BOM", "a.csv", append([]byte{0xFF, 0xFE, 0, 0}, []byte("s\x00\x00\x00")...), "UTF-32LE"},
		{"UTF-32BE with BOM", "a.csv", []byte{0, 0, 0xFE, 0xFF, 0, 0, 0, 's'}, "UTF-32BE"},
		{"Latin-1 header", "a.csv", []byte("symbol,timestamp,price,volume,\xe9change\nAAPL,1717243200000,1,1,X\n"), "not UTF-8"},
		{"gzip UTF-16", "a.csv.gz", gen.Gzip(append([]byte{0xFF, 0xFE}, utf16(csv, false)...)), "UTF-16LE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := parseAll(t, tc.object, tc.data)
			var oe *ObjectError
			if !errors.As(err, &oe) || oe.Category != ObjectBadEncoding || !strings.Contains(oe.Reason, tc.reason) || len(recs) != 0 {
				t.Fatalf("records %+v, error %v; want an %q object error naming %q", recs, err, ObjectBadEncoding, tc.reason)
			}
			if strings.Contains(oe.Reason, "unknown column") || strings.Contains(oe.Reason, `\x00`) {
				t.Fatalf("reason %q lists the bytes", oe.Reason)
			}
		})
	}
	// The API body reader refuses them too.
	p := &Parser{Now: testNow}
	err := p.ParseJSON(strings.NewReader(string(append([]byte{0xFF, 0xFE}, utf16("[]", false)...))), func(*Record) error { return nil })
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Category != ObjectBadEncoding {
		t.Fatalf("ParseJSON: %v", err)
	}
}

// A CSV object whose first line is data says it has no header row; unknown
// extra columns are ignored and listed; a missing required column still
// refuses the object.
func TestCSVHeaderKinds(t *testing.T) {
	cases := []struct {
		name, data string
		category   string // object error; "" for none
		reason     string
		ignored    []string
		want       []got
	}{
		{"first line is data", "AAPL,1717243200000,189.12,300\nAAPL,1717243200001,189.12,300\n", ObjectNoHeader, "no header row", nil, nil},
		{"first line is data with RFC 3339", "AAPL,2024-06-01T12:00:00Z,189.12,300\n", ObjectNoHeader, "no header row", nil, nil},
		{"unknown words are a wrong header", "sym,ts,px,qty\nA,1,1,1\n", ObjectBadHeader, `unknown column(s) "sym"`, nil, nil},
		{"extra columns ignored", "symbol,note,timestamp,price,volume,Venue Id\nAAPL,hello,1717243200000,1.5,3,7\n", "", "", []string{"note", "Venue Id"},
			[]got{{index: 2, point: pt("AAPL", ms, 1.5, 3)}}},
		{"extra column, wrong field count still refused", "symbol,timestamp,price,volume,x\nAAPL,1717243200000,1.5,3\n", "", "", []string{"x"},
			[]got{{index: 2, category: CategoryFieldCount}}},
		{"missing required column with an extra one", "symbol,timestamp,price,x\nAAPL,1717243200000,1.5,3\n", ObjectBadHeader, "missing column(s) volume", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, info, err := parseAll(t, "a.csv", []byte(tc.data))
			if tc.category != "" {
				var oe *ObjectError
				if !errors.As(err, &oe) || oe.Category != tc.category || !strings.Contains(oe.Reason, tc.reason) {
					t.Fatalf("error %v, want %q containing %q", err, tc.category, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(info.IgnoredColumns) != fmt.Sprint(tc.ignored) {
				t.Fatalf("ignored columns %q, want %q", info.IgnoredColumns, tc.ignored)
			}
			assertRecords(t, recs, tc.want)
		})
	}
}

// TestPricesNeverRounded: a price (bid, ask) is stored as given or refused
// per record: a decimal of at most 15 significant digits is its float64's
// shortest text and needs nothing more; a longer one that is not such a
// shortest text keeps its exact canonical text (Point.PriceText), up to
// marketdata.MaxPriceDigits significant digits; more are refused with the
// field and the limit named, never rounded.
func TestPricesNeverRounded(t *testing.T) {
	ms := testNow.Add(-time.Hour).UnixMilli()
	digits38 := "1234567.8912345678912345678912345678912"  // 38 significant digits
	digits39 := "1234567.89123456789123456789123456789123" // 39
	cases := []struct {
		price  string
		want   float64 // 0: refused
		text   string  // the exact text kept, "" when the float says it
		reason string
	}{
		{"179.66", 179.66, "", ""},
		{"0.000000123456789012345", 0.000000123456789012345, "", ""}, // 15 significant digits
		{"00000000000179.6600000000", 179.66, "", ""},                // zeros are not significant
		{"0.30000000000000004", 0.30000000000000004, "", ""},         // 17 digits, the shortest text of its float64
		{"900719925474.0993", 900719925474.0993, "900719925474.0993", ""},
		{"179.66000000000002", 179.66000000000002, "179.66000000000002", ""}, // 17 digits, not its float's shortest
		{"179.660000000000001", 179.66, "179.660000000000001", ""},
		{"+1.2345678901234567890123e2", 123.45678901234567890123, "123.45678901234567890123", ""},
		{digits38, 1234567.8912345678912345678912345678912, digits38, ""},
		{digits39, 0, "", "39 significant digits, more than the 38 a DynamoDB number keeps"},
	}
	for _, tc := range cases {
		t.Run(tc.price, func(t *testing.T) {
			data := fmt.Sprintf("symbol,timestamp,price,volume,bid\nAAPL,%d,%s,10,%s\n", ms, tc.price, "1e-9")
			recs, _, err := parseAll(t, "p.csv", []byte(data))
			if err != nil || len(recs) != 1 {
				t.Fatalf("%v, %d records", err, len(recs))
			}
			r := recs[0]
			if tc.want != 0 {
				if r.category != "" || r.point.Price != tc.want || r.point.PriceText() != tc.text {
					t.Fatalf("got %+v, want price %v with exact text %q", r, tc.want, tc.text)
				}
				return
			}
			if r.category != marketdata.ErrPrice.Error() || !strings.Contains(r.reason, tc.reason) || !strings.Contains(r.reason, "price") {
				t.Fatalf("got %+v, want refused for %q", r, tc.reason)
			}
		})
	}
	// The bid and ask are held to the same rule.
	data := fmt.Sprintf("symbol,timestamp,price,volume,bid,ask\nAAPL,%d,179.66,10,179.660000000000001,179.67\nAAPL,%d,179.66,10,%s,\n", ms, ms, digits39)
	recs, _, err := parseAll(t, "q.csv", []byte(data))
	if err != nil || len(recs) != 2 || recs[0].category != "" || recs[0].point.BidText() != "179.660000000000001" ||
		recs[1].category != marketdata.ErrQuote.Error() || !strings.Contains(recs[1].reason, "bid") || !strings.Contains(recs[1].reason, "more than the 38") {
		t.Fatalf("bid: %v %+v", err, recs)
	}
}

// memberField tries first the column the previous record had at the same
// position: a parser reading records whose members come in varying orders,
// with escaped or repeated names, decides each as a fresh parser reading
// that record alone would, through both JSON paths.
func TestMemberOrderGuessAgrees(t *testing.T) {
	cases := []struct {
		profile string
		lines   []string
	}{
		{"", []string{
			`{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"volume":300}`,
			`{"price":189.12,"volume":300,"symbol":"AAPL","timestamp":1717243200000}`,
			`{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"volume":300}`,
			`{"symbol":"AAPL","timestamp":1717243200000,"volume":300,"price":189.12,"bid":1,"ask":2,"exchange":"X"}`,
			`{"symbol":"AAPL","timestamp":1717243200000,"pr\u0069ce":189.12,"volume":300}`,
			`{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"price":300}`,
			`{"symbol":"AAPL","timestamp":1717243200000,"prices":189.12,"volume":300}`,
			`{"symbol":"AAPL","timestamp":1717243200000,"pric":189.12,"volume":300}`,
			`{"symbol":"AAPL","timestamp":1717243200000,"\u0070rice":189.12,"volume":300}`,
			`{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"volume":300}`,
		}},
		{marketdata.ProfileAlpacaTrades, []string{
			`{"S":"AAPL","t":"2024-06-01T12:00:00Z","p":189.12,"s":300,"x":"V","c":["@"],"z":"C","i":1}`,
			`{"z":"C","c":["@"],"x":"V","s":300,"p":189.12,"t":"2024-06-01T12:00:00Z","S":"AAPL"}`,
			`{"S":"AAPL","t":"2024-06-01T12:00:00Z","\u0070":189.12,"s":300}`,
			`{"S":"AAPL","id":7,"t":"2024-06-01T12:00:00Z","p":189.12,"s":300,"S\u0053":1}`,
			`{"S":"AAPL","t":"2024-06-01T12:00:00Z","p":189.12,"s":300,"p":1}`,
		}},
	}
	for _, c := range cases {
		for _, noFast := range []bool{false, true} {
			reused := &Parser{Now: testNow, Options: Options{Profile: c.profile}, noFast: noFast}
			var got []Record
			if _, err := reused.Parse(strings.NewReader(strings.Join(c.lines, "\n")), "a.ndjson", func(r *Record) error {
				got = append(got, *r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.lines) {
				t.Fatalf("%s: %d records of %d", c.profile, len(got), len(c.lines))
			}
			accepted := 0
			for i, l := range c.lines {
				fresh := &Parser{Now: testNow, Options: Options{Profile: c.profile}, noFast: noFast}
				var want Record
				if _, err := fresh.Parse(strings.NewReader(l), "a.ndjson", func(r *Record) error {
					want = *r
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if !sameRecord(&got[i], &want) {
					t.Errorf("%s noFast=%v %s:\nreused %+v %v\nfresh  %+v %v", c.profile, noFast, l, got[i].Point, got[i].Err, want.Point, want.Err)
				}
				if want.Err == nil {
					accepted++
				}
			}
			if accepted < 2 {
				t.Errorf("%s: only %d records accepted: the case tests little", c.profile, accepted)
			}
		}
	}
}

// fastName takes a member name that equals a column name as plain, without
// looking at its bytes: that holds only while every column name is one
// fastString takes whole.
func TestColumnNamesArePlain(t *testing.T) {
	for _, prof := range profiles {
		for _, c := range prof.columns {
			b := []byte(`"` + c.name + `"`)
			if end, ok := fastString(b, 0); !ok || end != len(b) {
				t.Errorf("%s: column name %q is not plain", prof.name, c.name)
			}
		}
	}
}
