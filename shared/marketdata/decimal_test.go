package marketdata

import (
	"encoding/json"
	"errors"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in, want, why string
	}{
		{"0", "0", ""},
		{"100", "100", ""},
		{"0.015", "0.015", ""},
		{"2.00000000", "2", ""},
		{"0.10", "0.1", ""},
		{"00012.3400", "12.34", ""},
		{"+7", "7", ""},
		{"-0", "0", ""},
		{"-0.000", "0", ""},
		{".5", "0.5", ""},
		{"5.", "5", ""},
		{"1e3", "1000", ""},
		{"1.5E-3", "0.0015", ""},
		{"15e-1", "1.5", ""},
		{"0.000000000000000001", "0.000000000000000001", ""},
		{"1e-18", "0.000000000000000001", ""},
		{"1.000000000000000000000", "1", ""}, // trailing zeros are not digits of the value
		{"9223372036854775807", "9223372036854775807", ""},
		{"9223372036854775807.999999999999999999", "9223372036854775807.999999999999999999", ""},
		{"0e999999999", "0", ""},
		{"", "", "empty"},
		{"-5", "", "negative"},
		{"-0.1", "", "negative"},
		{"0.0000000000000000001", "", "more than 18 fraction digits"},
		{"1e-19", "", "more than 18 fraction digits"},
		{"9223372036854775808", "", "out of range"},
		{"1e19", "", "out of range"},
		{"1e999999999", "", "out of range"},
		{"abc", "", "not a decimal number"},
		{"1.2.3", "", "not a decimal number"},
		{"1e", "", "not a decimal number"},
		{".", "", "not a decimal number"},
		{"+", "", "not a decimal number"},
		{"1,5", "", "not a decimal number"},
		{" 1", "", "not a decimal number"},
		{"NaN", "", "not a decimal number"},
		{"0x10", "", "not a decimal number"},
	}
	for _, tc := range tests {
		got, err := ParseDecimal(tc.in)
		if tc.why != "" {
			if err == nil || !errors.Is(err, ErrDecimal) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("ParseDecimal(%q) = %q, %v; want an error saying %q", tc.in, got, err, tc.why)
			}
			continue
		}
		if err != nil || got != Decimal(tc.want) {
			t.Errorf("ParseDecimal(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		// The same value as big.Rat reads it: nothing rounded.
		x, _ := new(big.Rat).SetString(tc.in)
		y, _ := new(big.Rat).SetString(string(got))
		if x.Cmp(y) != 0 && !(strings.HasPrefix(tc.in, "-") && x.Sign() == 0) {
			t.Errorf("ParseDecimal(%q) = %q: a different value", tc.in, got)
		}
	}
}

func TestDecimalValidate(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v   Decimal
		why string
	}{
		{"", ""}, {"0", ""}, {"12.5", ""}, {"9223372036854775807.5", ""},
		{"1.50", "canonical"}, {"-1", "negative"}, {"01", "canonical"}, {"1e3", "canonical"},
		{"9223372036854775808", "out of range"}, {"0.0000000000000000001", "more than 18"}, {"x", "not a decimal"},
	} {
		p := Point{Symbol: "BTCUSDT", Timestamp: now.UnixMilli(), Price: 1, Volume: tc.v}
		err := p.Validate(now)
		if tc.why == "" && err != nil || tc.why != "" && (!errors.Is(err, ErrVolume) || !strings.Contains(err.Error(), tc.why)) {
			t.Errorf("volume %q: %v, want %q", tc.v, err, tc.why)
		}
	}
}

func TestDecimalJSON(t *testing.T) {
	type body struct {
		V Decimal `json:"v"`
	}
	for _, tc := range []struct{ in, out string }{
		{`{"v":100}`, `{"v":100}`},
		{`{"v":0.015}`, `{"v":0.015}`},
		{`{"v":1.50}`, `{"v":1.5}`},
		{`{"v":25e-1}`, `{"v":2.5}`},
		{`{"v":12345678901234567890123.456}`, `{"v":12345678901234567890123.456}`}, // a sum
		{`{}`, `{"v":0}`},
	} {
		var b body
		if err := json.Unmarshal([]byte(tc.in), &b); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		out, err := json.Marshal(b)
		if err != nil || string(out) != tc.out {
			t.Errorf("%s: marshalled %s, %v; want %s", tc.in, out, err, tc.out)
		}
	}
	for _, in := range []string{`{"v":-1}`, `{"v":"1"}`, `{"v":0.0000000000000000001}`, `{"v":true}`} {
		var b body
		if err := json.Unmarshal([]byte(in), &b); err == nil {
			t.Errorf("%s: read as %q, want an error", in, b.V)
		}
	}
	if _, err := json.Marshal(body{V: "1.50"}); err == nil {
		t.Error("a non-canonical Decimal was marshalled")
	}
}

func TestDecimalAdd(t *testing.T) {
	for _, tc := range []struct{ a, b, want Decimal }{
		{"1", "2", "3"},
		{"", "0", "0"},
		{"0.5", "0.5", "1"},
		{"0.1", "0.02", "0.12"},
		{"18446744073709551615", "1", "18446744073709551616"},
		{"9223372036854775807.999999999999999999", "0.000000000000000001", "9223372036854775808"},
		{"123.456", "0.000000000000000001", "123.456000000000000001"},
	} {
		if got := tc.a.Add(tc.b); got != tc.want {
			t.Errorf("%s + %s = %s, want %s", tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.Add(tc.a); got != tc.want {
			t.Errorf("%s + %s = %s, want %s", tc.b, tc.a, got, tc.want)
		}
	}
}

// FuzzDecimalRoundTrip: whatever ParseDecimal accepts has the value of its
// input (as big.Rat reads it), is canonical (parsing it again gives itself,
// and it is what the JSON and the item carry), and survives JSON.
func FuzzDecimalRoundTrip(f *testing.F) {
	for _, s := range []string{"0", "0.015", "2.00000000", "1e3", "-0", ".5", "9223372036854775807.999999999999999999", "1e-18", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		if again, err := ParseDecimal(string(d)); err != nil || again != d || !isCanonical(string(d)) {
			t.Fatalf("%q -> %q, not canonical (%q, %v)", s, d, again, err)
		}
		if why := d.check(); why != "" {
			t.Fatalf("%q -> %q, which Validate refuses: %s", s, d, why)
		}
		x, ok := new(big.Rat).SetString(s)
		y, _ := new(big.Rat).SetString(string(d))
		if ok && x.Sign() >= 0 && x.Cmp(y) != 0 {
			t.Fatalf("%q -> %q: a different value", s, d)
		}
		b, err := json.Marshal(d)
		if err != nil || string(b) != string(d) {
			t.Fatalf("%q: JSON %s, %v", d, b, err)
		}
		var back Decimal
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("%q: JSON read back %q, %v", d, back, err)
		}
		if coef, scale, ok := d.parts(); ok && string(appendUnits(nil, coef, scale)) != string(d) {
			t.Fatalf("%q: parts %d, %d", d, coef, scale)
		}
		if c, scale := d.bigParts(); decimalOf(c, scale) != d.Add("0") || decimalOf(c, scale) != d {
			t.Fatalf("%q: bigParts %s, %d", d, c, scale)
		}
	})
}

// FuzzPartialMergeOrder: points with fractional volumes of mixed scales,
// grouped into partials and merged in any order (through their items), give
// the partial of the points folded one by one, to the last bit, and its
// volume and VWAP are the big.Rat computation's.
func FuzzPartialMergeOrder(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint8(30))
	f.Add(uint64(7), uint64(0), uint8(1))
	f.Fuzz(func(t *testing.T, seed, order uint64, n uint8) {
		r := rand.New(rand.NewPCG(seed, 3))
		pts := randomPoints(r, 1+int(n), seed%3 == 0)
		var whole Partial
		for _, p := range pts {
			whole.Add(p.ms, p.disc, p.price, p.volume)
		}
		checkPartial(t, "one by one", &whole, pts)
		merged := mergedInGroups(t, rand.New(rand.NewPCG(order, 5)), len(pts), 8, func(q *Partial, i int) {
			q.Add(pts[i].ms, pts[i].disc, pts[i].price, pts[i].volume)
		})
		if merged.String() != whole.String() {
			t.Fatalf("merged %v, one by one %v", merged, &whole)
		}
	})
}

func isCanonical(s string) bool { ok, _, _ := canonical(s); return ok }

func TestCanonicalDecimal(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "7": true, "10": true, "0.5": true, "12.05": true,
		"": false, "00": false, "01": false, "0.50": false, "5.": false, ".5": false, "-1": false, "1e3": false, "1.2.3": false, "1..2": false,
	} {
		if got := isCanonical(s); got != want {
			t.Errorf("canonical(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzDecimalFloat64: Float64's fast path gives strconv.ParseFloat's value
// wherever it applies, and the slow path's otherwise, for any text.
func FuzzDecimalFloat64(f *testing.F) {
	for _, s := range []string{"0", "1", "0.015", "168800.95", "123456789012345", "1234567890123456", "0.0000000000000000000001",
		"9007199254740993", "1.", ".5", "", "1e3", "-1", "99999999999999.9", "0.1",
		"NAN", "inf", "-Infinity", "0x1p-2", "1_0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// strconv is the oracle for decimal text; anything it reads
		// that has letters other than an exponent (NaN, Inf, hex) or
		// underscores is not a decimal and must be refused.
		want, werr := strconv.ParseFloat(Decimal(s).String(), 64)
		if werr == nil && strings.ContainsAny(Decimal(s).String(), "nNiIxXpP_") {
			want, werr = 0, strconv.ErrSyntax
		}
		got, err := Decimal(s).Float64()
		if (err == nil) != (werr == nil) || err == nil && got != want {
			t.Fatalf("Float64(%q) = %v, %v; strconv %v, %v", s, got, err, want, werr)
		}
		if x, ok := fastFloat(s); ok && x != want {
			t.Fatalf("fastFloat(%q) = %v, strconv %v", s, x, want)
		}
	})
}

// TestFastFloat compares the fast path with strconv over random plain
// decimals of every length it takes, and checks it declines the others.
func TestFastFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		n := 1 + r.IntN(17)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		s := string(b)
		if k := r.IntN(n + 1); k > 0 && k < n {
			s = s[:k] + "." + s[k:]
		}
		want, _ := strconv.ParseFloat(s, 64)
		x, ok := fastFloat(s)
		if ok != (n <= 15) {
			t.Fatalf("fastFloat(%q) ok %v", s, ok)
		}
		if ok && x != want {
			t.Fatalf("fastFloat(%q) = %v, strconv %v", s, x, want)
		}
	}
}
