package parse

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/gen"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

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
// the table, and the conversion done by package time.
func refTimestamp(s string) (ms int64, unit string, ok bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, "", false
	}
	for _, u := range marketdata.TimestampUnits {
		if n < u.Min || n > u.Max {
			continue
		}
		switch u.Name {
		case "s":
			return time.Unix(n, 0).UnixMilli(), u.Name, true
		case "ms":
			return time.UnixMilli(n).UnixMilli(), u.Name, true
		case "us":
			return time.UnixMicro(n).UnixMilli(), u.Name, true
		case "ns":
			return time.Unix(0, n).UnixMilli(), u.Name, true
		}
	}
	return 0, "", false
}

// checkTimestamp compares parseTimestamp with refTimestamp on s, a string of
// digits (an optional sign and only digits).
func checkTimestamp(t *testing.T, s string) {
	t.Helper()
	ms, unit, rerr := parseTimestamp([]byte(s))
	want, wantUnit, ok := refTimestamp(s)
	if ok != (rerr == nil) || ok && (ms != want || unit != wantUnit) {
		t.Fatalf("parseTimestamp(%q) = %d %q %v; reference %d %q %v", s, ms, unit, rerr, want, wantUnit, ok)
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
	inputs = append(inputs, "9223372036854775807", "9223372036854775808", "0", "00", "-0", "+1709303400",
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
			_, _, _ = parseTimestamp([]byte(s))
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
