package marketdata

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/conditions"
)

// randomExactPrice is a price of 16 to 38 significant digits that its
// float64 does not say, with that float.
func randomExactPrice(r *rand.Rand) (float64, string) {
	for {
		digits := make([]byte, 16+r.IntN(MaxPriceDigits-15))
		for i := range digits {
			digits[i] = byte('0' + r.IntN(10))
		}
		digits[0] = byte('1' + r.IntN(9))
		digits[len(digits)-1] = byte('1' + r.IntN(9))
		point := 1 + r.IntN(8)
		text := string(digits[:point]) + "." + string(digits[point:])
		x, err := strconv.ParseFloat(text, 64)
		if err != nil {
			panic(err)
		}
		if t, why := ExactPrice(text, x); why == "" && t == text {
			return x, text
		}
	}
}

// A price keeps an exact text exactly when its float does not say it, up
// to 38 significant digits; more are refused with the limit named.
func TestExactPrice(t *testing.T) {
	cases := []struct {
		in, text, why string
	}{
		{"179.66", "", ""},
		{"179.6600000000000000000", "", ""},                      // trailing zeros are not significant
		{"0.30000000000000004", "", ""},                          // 17 digits, its float's shortest text
		{"179.66000000000002", "179.66000000000002", ""},         // 17 digits, not its float's shortest
		{"+00179.660000000000001000", "179.660000000000001", ""}, // canonical: no sign, leading or trailing zeros
		{"1.7966000000000000001e2", "179.66000000000000001", ""},
		{"0.000000000001234567890123456789012345678", "0.000000000001234567890123456789012345678", ""}, // MinPrice, 37 digits
		{"12345678901234567890123456789.012345678", "", "out of range"},                                // 29 integer digits: beyond MaxPrice
		{"1234567.8912345678912345678912345678912", "1234567.8912345678912345678912345678912", ""},     // 38
		{"1234567.89123456789123456789123456789123", "", "39 significant digits, more than the 38 a DynamoDB number keeps"},
	}
	for _, tc := range cases {
		x, err := strconv.ParseFloat(tc.in, 64)
		if err != nil {
			t.Fatal(err)
		}
		text, why := ExactPrice(tc.in, x)
		if text != tc.text || !strings.Contains(why, tc.why) || (tc.why == "") != (why == "") {
			t.Errorf("ExactPrice(%s) = %q, %q; want %q, %q", tc.in, text, why, tc.text, tc.why)
		}
		if text != "" {
			if back, _ := strconv.ParseFloat(text, 64); back != x {
				t.Errorf("%s: text %s reads as %v, not %v", tc.in, text, back, x)
			}
		}
	}
}

// TestSigDigits: significant digits are those from the first non-zero
// digit to the last, whatever the sign, point, zeros and exponent.
func TestSigDigits(t *testing.T) {
	for in, want := range map[string]int{
		"0": 0, "000.000": 0, "1": 1, "-1.50": 2, "100": 1, "1001": 4, "0.00105": 3,
		"+12.3400e-7": 4, "9007199254740993": 16, ".5": 1, "5.": 1,
	} {
		if got := sigDigits(in); got != want {
			t.Errorf("sigDigits(%q) = %d, want %d", in, got, want)
		}
	}
}

// A point's exact texts must be canonical, within the limit, read as its
// floats and not be what the floats say already; bid <= ask compares
// exactly.
func TestValidateExactPrices(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	ok := Point{Symbol: "AAPL", Timestamp: 1_699_999_999_000, Price: 179.66, Volume: "1"}
	ok.SetTexts("179.660000000000001", "", "")
	if err := ok.Validate(now); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(p *Point)
		want error
		why  string
	}{
		{"not canonical", func(p *Point) { p.SetTexts("179.6600000000000010", "", "") }, ErrPrice, "not a canonical decimal"},
		{"another number", func(p *Point) { p.SetTexts("179.670000000000001", "", "") }, ErrPrice, "does not read as 179.66"},
		{"redundant", func(p *Point) { p.SetTexts("179.66", "", "") }, ErrPrice, "the float's own text"},
		{"39 digits", func(p *Point) { p.SetTexts("179.660000000000000000000000000000000001", "", "") }, ErrPrice, "more than the 38"},
		{"bid text", func(p *Point) { p.Bid = 2; p.SetTexts(p.PriceText(), "1.0000000000000000001", "") }, ErrQuote, "bid 2: exact text 1.0000000000000000001 does not read as 2"},
		// The range compares the exact text: these floats are the bounds.
		{"above MaxPrice by its text", func(p *Point) { p.Price = 1e15; p.SetTexts("1000000000000000.01", "", "") }, ErrPrice, "1000000000000000.01: outside the storable range"},
		{"below MinPrice by its text", func(p *Point) { p.Price = 1e-12; p.SetTexts("0.000000000000999999999999999999999", "", "") }, ErrPrice, "0.000000000000999999999999999999999: outside"},
		{"ask above MaxPrice by its text", func(p *Point) { p.Ask = 1e15; p.SetTexts(p.PriceText(), "", "1000000000000000.01") }, ErrQuote, "ask 1000000000000000.01: outside"},
		{"bid below MinPrice by its text", func(p *Point) { p.Bid = 1e-12; p.SetTexts(p.PriceText(), "0.000000000000999999999999999999999", "") }, ErrQuote, "bid 0.000000000000999999999999999999999: outside"},
		{"bid above ask by its text", func(p *Point) {
			p.Bid, p.Ask = 179.66, 179.66
			p.SetTexts(p.PriceText(), "179.660000000000001", "179.6600000000000009")
		}, ErrQuote, "bid 179.660000000000001 > ask 179.6600000000000009"},
	}
	for _, tc := range cases {
		p := ok
		tc.edit(&p)
		if err := p.Validate(now); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v, want %v with %q", tc.name, err, tc.want, tc.why)
		}
	}
}

// Equal floats compare by their exact texts; different floats by the
// floats (rounding is monotonic).
func TestComparePrices(t *testing.T) {
	x := 179.66
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "179.660000000000001", -1},
		{"179.660000000000001", "179.6600000000000009", 1},
		{"179.6599999999999999", "", -1},
		{"179.660000000000001", "179.660000000000001", 0},
	}
	for _, tc := range cases {
		if got := ComparePrices(x, tc.a, x, tc.b); got != tc.want {
			t.Errorf("ComparePrices(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := ComparePrices(x, tc.b, x, tc.a); got != -tc.want {
			t.Errorf("ComparePrices(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	if ComparePrices(1, "1.00000000000000000001", 2, "") != -1 || compareDecimals("10", "9.99") != 1 || compareDecimals("0.5", "0.51") != -1 {
		t.Error("different floats or integer lengths misordered")
	}
}

// Ties of the floats are broken exactly for high and low; open and close
// keep their texts; a partial's item stores the texts and reads them back.
func TestPartialExactPrices(t *testing.T) {
	all := conditions.All
	var p Partial
	p.AddExact(1, 1, 179.66, "179.660000000000001", "1", all)
	p.AddExact(2, 1, 179.66, "", "1", all)
	p.AddExact(3, 1, 179.66, "179.6600000000000009", "1", all)
	p.AddExact(4, 1, 179.66, "179.6599999999999999", "1", all)
	if p.HighText != "179.660000000000001" || p.LowText != "179.6599999999999999" ||
		p.OpenText != "179.660000000000001" || p.CloseText != "179.6599999999999999" {
		t.Fatalf("got %v", &p)
	}
	it := p.Item("AAPL", "1.5", 9)
	back, err := it.Partial()
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != p.String() {
		t.Fatalf("item read back %v, want %v", back, &p)
	}
	it.HighText = "179.66"
	if _, err := it.Partial(); !errors.Is(err, ErrPartial) {
		t.Fatalf("a redundant text read back: %v", err)
	}
}

// FuzzPartialExactMergeOrder: points with exact prices (ties of their
// floats included) fold into the same partial whatever the grouping and
// the order of the merges, its high and low the exact extremes.
func FuzzPartialExactMergeOrder(f *testing.F) {
	f.Add(uint64(1), uint8(5))
	f.Add(uint64(42), uint8(30))
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		r := rand.New(rand.NewPCG(seed, 7))
		base, _ := randomExactPrice(r)
		type pt struct {
			x    float64
			text string
		}
		pts := make([]pt, int(n)%40+1)
		for i := range pts {
			// Texts that round to base's float (ties) or to neighbours.
			text := strconv.FormatFloat(base, 'e', 16, 64)
			m, e, _ := strings.Cut(text, "e")
			text = m + strconv.Itoa(r.IntN(1000)) + "e" + e
			x, _ := strconv.ParseFloat(text, 64)
			exact, why := ExactPrice(text, x)
			if why != "" {
				t.Fatal(why)
			}
			pts[i] = pt{x, exact}
		}
		add := func(q *Partial, i int) {
			q.AddExact(1_700_000_000_000, uint64(i+1), pts[i].x, pts[i].text, "1", conditions.All)
		}
		var one Partial
		for i := range pts {
			add(&one, i)
		}
		merged := mergedInGroups(t, r, len(pts), 4, add)
		if merged.String() != one.String() {
			t.Fatalf("merged %v, folded %v", merged, &one)
		}
		hi, lo := new(big.Rat), new(big.Rat)
		for i, p := range pts {
			v, _ := new(big.Rat).SetString(PriceText(p.x, p.text))
			if i == 0 || v.Cmp(hi) > 0 {
				hi = v
			}
			if i == 0 || v.Cmp(lo) < 0 {
				lo = v
			}
		}
		gh, _ := new(big.Rat).SetString(PriceText(one.High, one.HighText))
		gl, _ := new(big.Rat).SetString(PriceText(one.Low, one.LowText))
		if gh.Cmp(hi) != 0 || gl.Cmp(lo) != 0 {
			t.Fatalf("high %v low %v, want %v %v", gh, gl, hi, lo)
		}
		if PriceText(one.Open, one.OpenText) != PriceText(pts[0].x, pts[0].text) {
			t.Fatalf("open %v, want the first point's %s", &one, PriceText(pts[0].x, pts[0].text))
		}
	})
}

// FuzzExactPriceRoundTrip: any decimal is either refused, or stored as a
// float and a text that together give back its exact value.
func FuzzExactPriceRoundTrip(f *testing.F) {
	for _, s := range []string{"179.66", "179.66000000000002", "0.30000000000000004", "1234567.8912345678912345678912345678912", "1e-12", "00.10e3", "1000000000000000.01", "0.00000000000099999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || !(x >= MinPrice && x <= MaxPrice) || strings.ContainsAny(s, "xXpPnN_iI") {
			return
		}
		text, why := ExactPrice(s, x)
		in, ok := new(big.Rat).SetString(s)
		if !ok {
			return
		}
		if why != "" {
			if sigDigits(s) <= MaxPriceDigits && !strings.Contains(why, "range") && !strings.Contains(why, "fraction digits") {
				t.Fatalf("%s refused: %s", s, why)
			}
			return
		}
		back, _ := new(big.Rat).SetString(PriceText(x, text))
		if back.Cmp(in) != 0 {
			t.Fatalf("%s kept as %v %q, reads %s", s, x, text, PriceText(x, text))
		}
		// The range holds the exact value, not its float: a price just past
		// MaxPrice whose float is MaxPrice is refused.
		lo, _ := new(big.Rat).SetString(strconv.FormatFloat(MinPrice, 'g', -1, 64))
		hi, _ := new(big.Rat).SetString(strconv.FormatFloat(MaxPrice, 'g', -1, 64))
		inRange := in.Cmp(lo) >= 0 && in.Cmp(hi) <= 0
		p := Point{Symbol: "A", Price: x, Volume: "1"}
		p.SetTexts(text, "", "")
		if err := p.Validate(time.Now()); (err == nil) != inRange || err != nil && !strings.Contains(err.Error(), "range") {
			t.Fatalf("%s (within [%s, %s]: %v): %v", s, lo.FloatString(12), hi.FloatString(0), inRange, err)
		}
	})
}

// An aggregate answers its prices with their exact digits and reads them
// back.
func TestAggregateJSONExact(t *testing.T) {
	a := Aggregate{Symbol: "AAPL", WindowStart: 300_000, WindowEnd: 600_000, Open: 179.66, OpenText: "179.660000000000000000000001",
		High: 179.66, HighText: "179.660000000000000000000001", Low: 179.5, Close: 179.5, Volume: "2", VWAP: 179.58, Trades: 2}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"open":179.660000000000000000000001`, `"high":179.660000000000000000000001`, `"low":179.5`, `"close":179.5`, `"vwap":179.58`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back Aggregate
	if err := json.Unmarshal(b, &back); err != nil || back != a {
		t.Fatalf("read back %+v, %v; want %+v", back, err, a)
	}
	plain := a
	plain.OpenText, plain.HighText = "", ""
	b2, _ := json.Marshal(plain)
	type raw Aggregate
	want, _ := json.Marshal(raw(plain))
	if string(b2) != string(want) {
		t.Fatalf("without texts %s, want encoding/json's %s", b2, want)
	}
	l := Latest{Symbol: "AAPL", Price: 179.66, PriceText: "179.660000000000000000000001", Timestamp: 5}
	b, _ = json.Marshal(l)
	var lb Latest
	if !strings.Contains(string(b), `"price":179.660000000000000000000001`) || json.Unmarshal(b, &lb) != nil || lb != l {
		t.Fatalf("latest %s read back %+v", b, lb)
	}
}

// Wider intervals merged from windows keep the exact texts: open of the
// first window, close of the last, high and low compared exactly.
func TestRollUpExactPrices(t *testing.T) {
	const a, b = "179.660000000000001", "179.6600000000000009"
	w := int64(1_700_000_100_000) - int64(1_700_000_100_000)%3_600_000
	win := func(start int64, high, low string) Aggregate {
		hx, _ := strconv.ParseFloat(high, 64)
		lx, _ := strconv.ParseFloat(low, 64)
		ht, _ := ExactPrice(high, hx)
		lt, _ := ExactPrice(low, lx)
		return Aggregate{Symbol: "AAPL", WindowStart: start, WindowEnd: start + 300_000, Open: hx, OpenText: ht, High: hx, HighText: ht,
			Low: lx, LowText: lt, Close: lx, CloseText: lt, Volume: "1", VWAP: lx, Trades: 1, FirstTs: start, LastTs: start + 1}
	}
	for _, order := range [][2]string{{a, b}, {b, a}} {
		got := RollUp([]Aggregate{win(w, order[0], order[0]), win(w+300_000, order[1], order[1])}, Intervals[len(Intervals)-1])
		if len(got) != 1 || got[0].HighText != a || got[0].LowText != b || got[0].OpenText != order[0] || got[0].CloseText != order[1] {
			t.Fatalf("%v: rolled up %+v", order, got)
		}
	}
}

// The range bounds compare the exact text when there is one: texts whose
// floats round onto a bound are in or out by their digits.
func TestPriceInRange(t *testing.T) {
	cases := []struct {
		x    float64
		text string
		want bool
	}{
		{MaxPrice, "", true},
		{MinPrice, "", true},
		{MaxPrice, "1000000000000000.01", false},
		{MaxPrice, "999999999999999.99", true},
		{MinPrice, "0.000000000000999999999999999999999", false},
		{MinPrice, "0.000000000001000000000000000000001", true},
		{math.Nextafter(MaxPrice, 2*MaxPrice), "", false},
		{math.Nextafter(MinPrice, 0), "", false},
	}
	for _, tc := range cases {
		if tc.text != "" { // the case is a text its float does not say
			if got, why := ExactPrice(tc.text, tc.x); got != tc.text || why != "" {
				t.Fatalf("ExactPrice(%s, %v) = %q, %q: the case is not a kept text", tc.text, tc.x, got, why)
			}
		}
		if got := PriceInRange(tc.x, tc.text); got != tc.want {
			t.Errorf("PriceInRange(%v, %q) = %v, want %v", tc.x, tc.text, got, tc.want)
		}
	}
}

// TestPriceInRangeWithoutText holds PriceInRange's float comparison (a
// price without an exact text) to ComparePrices against both bounds.
func TestPriceInRangeWithoutText(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -1, 1, 179.66,
		MinPrice, MaxPrice, math.Nextafter(MinPrice, 0), math.Nextafter(MinPrice, 1),
		math.Nextafter(MaxPrice, 0), math.Nextafter(MaxPrice, 2*MaxPrice)} {
		want := ComparePrices(x, "", MinPrice, "") >= 0 && ComparePrices(x, "", MaxPrice, "") <= 0
		if got := PriceInRange(x, ""); got != want {
			t.Errorf("PriceInRange(%v, \"\") = %v; ComparePrices says %v", x, got, want)
		}
	}
}
