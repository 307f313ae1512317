package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/gen"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// fuzzRun parses data as object and checks the invariants every input must
// keep: no panic; only a nil or *ObjectError outcome (the source cannot
// fail); positions increasing; every record either a point that validates or
// a rejection with a category and a reason; Info.Records counting them. It
// returns the records for format-specific checks.
func fuzzRun(t *testing.T, object string, data []byte, noFast bool) ([]got, error) {
	return fuzzRunWith(t, object, data, noFast, Options{})
}

// fuzzRunWith is fuzzRun with options (a forced profile, a symbol). The
// slow run (noFast) also has memberField look names up without guessing
// from the previous record's order, so that the fuzz targets comparing the
// runs check both shortcuts.
func fuzzRunWith(t *testing.T, object string, data []byte, noFast bool, opts Options) ([]got, error) {
	p := &Parser{Now: testNow, noFast: noFast, noGuess: noFast, Options: opts}
	var recs []got
	last := int64(-1)
	info, err := p.Parse(bytes.NewReader(data), object, func(r *Record) error {
		if r.Index <= last {
			t.Fatalf("record index %d after %d", r.Index, last)
		}
		last = r.Index
		if r.Err != nil {
			if r.Err.Category == "" || r.Err.Reason == "" {
				t.Fatalf("record %d rejected without category or reason: %+v", r.Index, r.Err)
			}
		} else if r.Bar != nil {
			if err := r.Bar.Validate(testNow); err != nil || r.Point != (marketdata.Point{}) {
				t.Fatalf("accepted bar %d does not validate: %v (or has a point %+v)", r.Index, err, r.Point)
			}
		} else if err := r.Point.Validate(testNow); err != nil {
			t.Fatalf("accepted record %d does not validate: %v", r.Index, err)
		}
		recs = append(recs, gotOf(r))
		return nil
	})
	var oe *ObjectError
	if err != nil && (!errors.As(err, &oe) || oe.Category == "" || oe.Reason == "") {
		t.Fatalf("error %v (%T), want nil or a complete *ObjectError", err, err)
	}
	if info.Records != int64(len(recs)) {
		t.Fatalf("info.Records %d, delivered %d", info.Records, len(recs))
	}
	return recs, err
}

// nonBlankLines counts the lines with content, after the optional BOM.
func nonBlankLines(data []byte) int {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	n := 0
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			n++
		}
	}
	return n
}

func isGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

func addSeeds(f *testing.F, exts ...string) {
	files, _ := filepath.Glob("testdata/corpus/*")
	for _, file := range files {
		for _, ext := range exts {
			if strings.HasSuffix(file, ext) || strings.HasSuffix(file, ext+".gz") {
				if data, err := os.ReadFile(file); err == nil && len(data) < 64<<10 {
					f.Add(data)
				}
			}
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add(gen.Bytes(gen.CSV, 5))
	f.Add([]byte("symbol,timestamp,price,volume,bid,ask,exchange\n\"A\",\"1717243200000\",\"1\",\"1\",,,\"x\"\"y\"\n"))
	addSeeds(f, ".csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := fuzzRun(t, "fuzz.csv", data, false)
		// Without quotes every non-blank line after the header is one record.
		if err == nil && !isGzip(data) && !bytes.ContainsRune(data, '"') {
			if want := nonBlankLines(data) - 1; len(recs) != want {
				t.Fatalf("%d records from %d non-blank data lines", len(recs), want)
			}
		}
		// Quoted records split in place and by csvQuoted agree.
		slow, serr := fuzzRun(t, "fuzz.csv", data, true)
		assertSame(t, recs, err, slow, serr)
	})
}

func FuzzParseNDJSON(f *testing.F) {
	f.Add(gen.Bytes(gen.NDJSON, 5))
	addSeeds(f, ".ndjson", ".jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := fuzzRun(t, "fuzz.ndjson", data, false)
		if err == nil && !isGzip(data) {
			if want := nonBlankLines(data); len(recs) != want {
				t.Fatalf("%d records from %d non-blank lines", len(recs), want)
			}
		}
		// The fast path and jsontext's path agree on every line.
		slow, serr := fuzzRun(t, "fuzz.ndjson", data, true)
		assertSame(t, recs, err, slow, serr)
	})
}

func FuzzParseJSONArray(f *testing.F) {
	f.Add([]byte(`[{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1},{}]`))
	f.Add([]byte(`{"points":[{"symbol":"A","timestamp":"2024-06-01T12:00:00Z","price":"1","volume":1e2}]}`))
	addSeeds(f, ".json")
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := fuzzRun(t, "fuzz.json", data, false)
		// A well-formed array yields one record per element.
		var elems []json.RawMessage
		if err == nil && !isGzip(data) && json.Unmarshal(data, &elems) == nil && len(recs) != len(elems) {
			t.Fatalf("%d records from an array of %d elements", len(recs), len(elems))
		}
		slow, serr := fuzzRun(t, "fuzz.json", data, true)
		assertSame(t, recs, err, slow, serr)
	})
}

func assertSame(t *testing.T, a []got, aerr error, b []got, berr error) {
	t.Helper()
	if (aerr == nil) != (berr == nil) || aerr != nil && aerr.Error() != berr.Error() {
		t.Fatalf("errors differ: fast %v, slow %v", aerr, berr)
	}
	if len(a) != len(b) {
		t.Fatalf("fast path %d records, slow path %d", len(a), len(b))
	}
	for i := range a {
		ra := Record{Index: a[i].index, Point: a[i].point}
		rb := Record{Index: b[i].index, Point: b[i].point}
		if a[i].category != "" {
			ra.Err = &RecordError{Category: a[i].category, Reason: a[i].reason}
		}
		if b[i].category != "" {
			rb.Err = &RecordError{Category: b[i].category, Reason: b[i].reason}
		}
		if ra.Index != rb.Index || !sameRecord(&ra, &rb) || !sameBar(a[i].bar, b[i].bar) {
			t.Fatalf("record %d differs:\nfast %+v %+v %v\nslow %+v %+v %v", i, ra.Point, a[i].bar, ra.Err, rb.Point, b[i].bar, rb.Err)
		}
	}
}

// FuzzRFC3339 checks the RFC 3339 fast path against time.Parse: whenever it
// accepts a text, time.Parse reads the same instant.
func FuzzRFC3339(f *testing.F) {
	for _, s := range []string{"2024-05-31T13:30:00.001456789Z", "2024-05-31T09:30:00.105222333-04:00",
		"2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999999Z",
		"2024-06-01T12:00:00.5+05:30", "1969-12-31T23:59:59.999Z", "2024-06-01t12:00:00Z", "2024-06-01T24:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, sub, ok := fastRFC3339([]byte(s))
		if !ok {
			return
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("%q: fast path read %d, time.Parse refuses: %v", s, ms, err)
		}
		if tm.UnixMilli() != ms || int32(tm.Nanosecond()%1e6) != sub {
			t.Fatalf("%q: fast path %d+%dns, time.Parse %d+%dns", s, ms, sub, tm.UnixMilli(), tm.Nanosecond()%1e6)
		}
		// The minute cache, holding this time's minute, reads it the same.
		var c rfcMinute
		fastRFC3339In([]byte(s), &c)
		if cms, csub, cok := fastRFC3339In([]byte(s), &c); !cok || cms != ms || csub != sub {
			t.Fatalf("%q: cached %d+%dns %v, uncached %d+%dns", s, cms, csub, cok, ms, sub)
		}
	})
}

// FuzzParseProfiles runs the vendor profiles' paths (header detection, the
// headerless Binance rows, fixed-point prices, the units, Alpaca's wrapped
// shape and its members through the fast JSON path) on every input, detected
// and forced: fuzzRun's invariants hold, and the fast JSON path agrees with
// jsontext's.
func FuzzParseProfiles(f *testing.F) {
	files, _ := filepath.Glob("testdata/profiles/*")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data, uint8(0), filepath.Base(file))
		}
	}
	for i, profile := range marketdata.Profiles {
		name, data := profileObject(profile, 3)
		f.Add(data, uint8(i+1), name)
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8, name string) {
		opts := Options{}
		if i := int(which) % (len(marketdata.Profiles) + 1); i > 0 {
			opts.Profile = marketdata.Profiles[i-1]
			opts.Symbol = "BTCUSDT"
		}
		recs, err := fuzzRunWith(t, name, data, false, opts)
		slow, serr := fuzzRunWith(t, name, data, true, opts)
		assertSame(t, recs, err, slow, serr)
	})
}

// plainNumber is the number syntax both the volume parser and math/big's
// Rat accept, with a short exponent (big.Rat would build 10^huge).
var plainNumber = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$`)

// FuzzVolume holds the volume field to math/big: a size is accepted exactly
// when it is a non-negative number with at most 18 fraction digits (trailing
// zeros aside) and an integer part within int64, and the point then carries
// its value exactly, in canonical text; anything else is refused as an
// invalid volume.
func FuzzVolume(f *testing.F) {
	for _, s := range []string{"1", "0.015", "2.00000000", "1e3", "-0", "-1", ".5", "5.", "0.0000000000000000001", "9223372036854775807.5", "9223372036854775808", "1.5e-17", "abc"} {
		f.Add(s)
	}
	maxInt := new(big.Rat).SetInt64(math.MaxInt64)
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))
	f.Fuzz(func(t *testing.T, size string) {
		if strings.ContainsAny(size, ",\"\r\n") {
			return // not one CSV field
		}
		recs, err := fuzzRun(t, "a.csv", []byte("symbol,timestamp,price,volume\nA,1717243200000,1,"+size+"\n"), false)
		if err != nil || len(recs) != 1 {
			if size == "" || strings.TrimSpace(size) != size {
				return // a blank line or field: other rules
			}
			t.Fatalf("%q: %d records, %v", size, len(recs), err)
		}
		r := recs[0]
		want, valid := new(big.Rat), false
		if plainNumber.MatchString(size) {
			if _, ok := want.SetString(size); ok {
				scaled := new(big.Rat).Mul(want, scale)
				valid = want.Sign() >= 0 && scaled.IsInt() && new(big.Rat).Sub(want, maxInt).Cmp(big.NewRat(1, 1)) < 0
			}
		}
		if !valid {
			if r.category == "" && plainNumber.MatchString(size) {
				t.Fatalf("%q accepted as %q", size, r.point.Volume)
			}
			return
		}
		if r.category != "" {
			t.Fatalf("%q refused: %s %s", size, r.category, r.reason)
		}
		got, ok := new(big.Rat).SetString(r.point.Volume.String())
		if !ok || got.Cmp(want) != 0 {
			t.Fatalf("%q read as %q", size, r.point.Volume)
		}
		if again, err := marketdata.ParseDecimal(string(r.point.Volume)); err != nil || again != r.point.Volume {
			t.Fatalf("%q read as %q, not canonical", size, r.point.Volume)
		}
	})
}
