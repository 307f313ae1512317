package parse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// corpusCase is what a corpus file must yield: exactly so many accepted and
// rejected records, and the object error category ("" for none).
type corpusCase struct {
	accepted, rejected int
	objectErr          string
}

// corpus lists every file of testdata/corpus with its expected outcome,
// worked out by hand from the file's content.
var corpus = map[string]corpusCase{
	"empty.csv":                   {0, 0, ObjectEmpty},
	"whitespace-only.ndjson":      {0, 0, ObjectEmpty},
	"bom-only.csv":                {0, 0, ObjectEmpty},
	"bom-crlf.csv":                {2, 1, ""}, // negative price
	"crlf-mixed.csv":              {3, 0, ""},
	"quoted-commas.csv":           {1, 1, ""}, // "X,Y" exchange kept; "1,5" price refused
	"quoted-newline.csv":          {1, 1, ""}, // multi-line exchange kept; 22-byte one refused
	"unterminated-quote.csv":      {1, 1, ""}, // the open quote swallows the rest: one record
	"bare-quote.csv":              {1, 1, ""},
	"missing-columns.csv":         {1, 2, ""},
	"extra-columns.csv":           {1, 1, ""},
	"wrong-header.csv":            {0, 0, ObjectBadHeader},
	"header-missing-volume.csv":   {0, 0, ObjectBadHeader},
	"header-duplicate-column.csv": {0, 0, ObjectBadHeader},
	"no-header.csv":               {0, 0, ObjectNoHeader},
	"nan-inf-prices.csv":          {1, 6, ""},
	"negative-values.csv":         {0, 4, ""}, // price, volume, bid, timestamp
	"huge-numbers.csv":            {1, 4, ""}, // 1e15 is the largest valid price; 1e300, 1e400, huge volume and timestamp are not
	"bad-timestamps.csv":          {1, 5, ""},
	"bid-above-ask.csv":           {1, 1, ""},
	"bad-symbols.csv":             {2, 6, ""},                // BRK.B and BTC-USD kept
	"binary-garbage.bin":          {0, 0, ObjectBadEncoding}, // its first line is not UTF-8
	"binary-garbage.csv.gz":       {0, 0, ObjectBadEncoding},
	"utf16le-bom.csv":             {0, 0, ObjectBadEncoding},
	"utf16be-no-bom.ndjson":       {0, 0, ObjectBadEncoding},
	"latin1-header.csv":           {0, 0, ObjectBadEncoding},
	"unknown-column.csv":          {2, 0, ""}, // the extra column is ignored
	"epoch-units.csv":             {4, 2, ""}, // s, ms, us, ns kept; 11 and 8 digits refused
	"not-gzip.csv.gz":             {1, 0, ""}, // content decides
	"truncated.csv.gz":            {50, 0, ObjectBadGzip},
	"bad-checksum.ndjson.gz":      {3, 0, ObjectBadGzip},
	"concatenated-members.csv.gz": {2, 0, ""},
	"duplicate-keys.ndjson":       {1, 3, ""},
	"duplicate-keys-array.json":   {1, 2, ""},
	"deep-nesting.ndjson":         {1, 1, ""},
	"deep-nesting.json":           {1, 0, ObjectBadJSON},
	"truncated-array.json":        {2, 0, ObjectBadJSON},
	"trailing-comma.json":         {1, 0, ObjectBadJSON},
	"wrapped-points.json":         {2, 1, ""},
	"wrong-shape.json":            {0, 0, ObjectUnrecognised}, // '{' not followed by "points": NDJSON whose first record fits no profile
	"scalar.json":                 {0, 0, ObjectBadShape},
	"unknown-fields.ndjson":       {1, 2, ""},
	"wrong-types.ndjson":          {0, 4, ""},
	"missing-fields.ndjson":       {0, 3, ""},
	"nulls.ndjson":                {1, 2, ""},
	"invalid-utf8.ndjson":         {1, 1, ""},
	"invalid-utf8.csv":            {1, 1, ""},
	"control-chars.ndjson":        {1, 1, ""},
	"not-json-lines.ndjson":       {0, 3, ""},
	"array-of-non-objects.json":   {1, 5, ""},
	"long-line.csv":               {2, 1, ""},
	"float-volumes.csv":           {3, 1, ""},
	"rfc3339-variants.csv":        {3, 2, ""},
	"numbers-as-strings.ndjson":   {1, 1, ""},
	"lone-surrogate.ndjson":       {1, 1, ""},
	"leading-zeros.ndjson":        {1, 1, ""},
	"blank-and-space-lines.csv":   {1, 1, ""},
	"nul-bytes.csv":               {1, 1, ""},
}

// TestCorpus runs every bad input: no panic, every good record kept, every
// bad record reported with a category and a reason, object errors named.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("corpus has %d files, want at least 40", len(files))
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		want, ok := corpus[name]
		if !ok {
			t.Errorf("%s has no expectation in the corpus table", name)
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { checkCorpus(t, name, data, want) })
	}
	for name := range corpus {
		if !seen[name] {
			t.Errorf("corpus table names %s, which is not in testdata/corpus", name)
		}
	}
}

func checkCorpus(t *testing.T, name string, data []byte, want corpusCase) {
	recs, info, err := parseAll(t, name, data)
	accepted, rejected := 0, 0
	for _, r := range recs {
		if r.category == "" {
			accepted++
			if err := r.point.Validate(testNow); err != nil {
				t.Errorf("accepted record %d does not validate: %v", r.index, err)
			}
			continue
		}
		rejected++
		if r.reason == "" {
			t.Errorf("record %d rejected without a reason", r.index)
		}
	}
	if info.Records != int64(len(recs)) {
		t.Errorf("info.Records %d, delivered %d", info.Records, len(recs))
	}
	if accepted != want.accepted || rejected != want.rejected {
		for _, r := range recs {
			t.Logf("record %d: %q %s", r.index, r.category, r.reason)
		}
		t.Errorf("accepted %d rejected %d, want %d and %d", accepted, rejected, want.accepted, want.rejected)
	}
	var oe *ObjectError
	switch {
	case want.objectErr == "" && err != nil:
		t.Errorf("unexpected error %v", err)
	case want.objectErr != "" && !errors.As(err, &oe):
		t.Errorf("error %v (%T), want an object error %q", err, err, want.objectErr)
	case oe != nil && (oe.Category != want.objectErr || oe.Reason == ""):
		t.Errorf("object error %q %q, want category %q", oe.Category, oe.Reason, want.objectErr)
	}
}

// A 10 MB single line, in each line format, is rejected alone without being
// held in memory; the records around it are kept.
func TestTenMegabyteLine(t *testing.T) {
	huge := bytes.Repeat([]byte("A"), 10<<20)
	for _, tc := range []struct {
		name   string
		head   string
		before string
		after  string
	}{
		{"line.csv", "symbol,timestamp,price,volume\n", "A,1717243200000,1,1\n", "\nB,1717243200000,2,2\n"},
		{"line.ndjson", "", `{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1}` + "\n", "\n" + `{"symbol":"B","timestamp":1717243200000,"price":1,"volume":1}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := append(append([]byte(tc.head+tc.before), huge...), tc.after...)
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			recs, _, err := parseAll(t, tc.name, data)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 3 || recs[0].category != "" || recs[1].category != CategoryTooLong || recs[2].category != "" {
				t.Fatalf("records %+v", recs)
			}
			if !strings.Contains(recs[1].reason, "longer than") {
				t.Fatalf("reason %q", recs[1].reason)
			}
			// The parser allocates its fixed buffers, not the line.
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 2<<20 {
				t.Fatalf("parsing allocated %d bytes; the 10 MB line was buffered", grown)
			}
		})
	}
}
