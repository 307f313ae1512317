package marketdata

import (
	"bytes"
	"strconv"
	"strings"
)

// A price (bid, ask) is kept as given, up to MaxPriceDigits significant
// digits. It travels as a float64 (Point.Price), which every fast path
// uses, plus its exact canonical decimal text (Point.PriceText) only when
// that float's shortest text is another number: a decimal of at most
// FloatExactDigits significant digits always is its float's shortest text
// (DBL_DIG), and vendors ship at most that many, so the text is rare and
// costs the common path one length check. Where the pipeline writes a
// price (queue message, items, API answers) it writes the text when there
// is one, else the float's shortest text: either way the digits given.

// MaxPriceDigits is the most significant digits a price, bid or ask may
// have: the 38 a DynamoDB number keeps. More are refused, never rounded.
const MaxPriceDigits = 38

// FloatExactDigits is the most significant digits of a decimal that a
// float64 always keeps: such a decimal is the shortest text of the float64
// nearest it, so it needs no exact text.
const FloatExactDigits = 15

// priceLimits bound a price's exact text: MaxPriceDigits significant
// digits, and room for them around the price range (MinPrice with 38
// digits has 49 fraction digits; MaxPrice has 16 integer digits). The range
// itself is Validate's (PriceInRange).
var priceLimits = decimalLimits{maxScale: 12 + MaxPriceDigits, maxInt: 16, maxSig: MaxPriceDigits}

// floatLimits hold the shortest text of any float64 (canonical form).
var floatLimits = decimalLimits{maxScale: 400, maxInt: 400}

// AppendExactPrice appends to dst the exact text the price (bid, ask) read
// from the decimal text v as x must carry: nothing when x's shortest text
// is the number v says, else v's canonical text (DynamoDB's number form:
// no exponent, sign, leading or trailing zeros). why says why v is refused:
// more than MaxPriceDigits significant digits (named with the limit) or out
// of range. A price x <= 0 gets no text (Validate refuses it).
//
// A text of at most FloatExactDigits+1 bytes needs no look: it has at most
// 15 significant digits, or is an integer of 16 digits, above MaxPrice.
func AppendExactPrice(dst, v []byte, x float64) ([]byte, string) {
	if len(v) <= FloatExactDigits+1 || !(x > 0) || sigDigits(v) <= FloatExactDigits {
		return dst, ""
	}
	start := len(dst)
	dst, why := appendCanonical(dst, v, &priceLimits)
	if why != "" {
		return dst[:start], why
	}
	var buf, short [48]byte
	s, _ := appendCanonical(short[:0], strconv.AppendFloat(buf[:0], x, 'e', -1, 64), &floatLimits)
	if bytes.Equal(s, dst[start:]) {
		return dst[:start], ""
	}
	return dst, ""
}

// ExactPrice is AppendExactPrice for a text held in a string: the exact
// text of the price x read from s, "" when x's shortest text says it.
func ExactPrice(s string, x float64) (string, string) {
	b, why := AppendExactPrice(nil, []byte(s), x)
	return string(b), why
}

// sigDigits counts the significant digits of a decimal text: those from the
// first non-zero digit to the last one, before any exponent.
func sigDigits[T string | []byte](v T) int {
	first, last, n := -1, -1, 0 // positions among the digits
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			if first < 0 {
				first = n
			}
			last = n
		}
		n++
	}
	if first < 0 {
		return 0
	}
	return last - first + 1
}

// checkPriceText reports why text is not the exact text of the price x (as
// AppendExactPrice makes it), or "" when it is, or is empty.
func checkPriceText(text string, x float64) string {
	if text == "" {
		return ""
	}
	if ok, _, _ := canonical(text); !ok {
		return "exact text " + strconv.Quote(clip(text)) + " is not a canonical decimal"
	}
	want, why := ExactPrice(text, x)
	switch {
	case why != "":
		return "exact text " + clip(text) + ": " + why
	case want == "":
		// One number, one form: a text the float says already would make
		// two representations of one price (and partials compare them).
		return "exact text " + clip(text) + " is the float's own text; leave it out"
	}
	if f, err := strconv.ParseFloat(text, 64); err != nil || f != x {
		return "exact text " + clip(text) + " does not read as " + strconv.FormatFloat(x, 'g', -1, 64)
	}
	return ""
}

// PriceText returns the text the pipeline writes for the price x with exact
// text t: t when there is one, else x's shortest text in DynamoDB's number
// form (no exponent), as strconv writes it.
func PriceText(x float64, t string) string {
	if t != "" {
		return t
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// ComparePrices compares the prices a and b (floats with their exact texts,
// "" when the float says it): -1, 0 or +1. Rounding to float64 is monotonic,
// so different floats order their exact prices; only equal floats with a
// text on either side are compared as decimals.
func ComparePrices(a float64, at string, b float64, bt string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case at == bt:
		return 0
	}
	return compareDecimals(PriceText(a, at), PriceText(b, bt))
}

// PriceInRange reports whether the price x with exact text t ("" when x
// says it) lies within [MinPrice, MaxPrice], compared exactly
// (ComparePrices): a text just beyond a bound whose float rounds onto it
// (1000000000000000.01 reads as 1e15) is out, as its digits say. Without a
// text it is the float comparison.
func PriceInRange(x float64, t string) bool {
	if t == "" {
		// Almost every price: ComparePrices on two floats without texts,
		// written out so that the call inlines into Validate (a test
		// holds it to ComparePrices, NaN included).
		return !(x < MinPrice) && !(x > MaxPrice)
	}
	return textInRange(x, t)
}

// textInRange is PriceInRange for a price with an exact text.
func textInRange(x float64, t string) bool {
	return ComparePrices(x, t, MinPrice, "") >= 0 && ComparePrices(x, t, MaxPrice, "") <= 0
}

// compareDecimals compares two non-negative canonical decimal texts.
func compareDecimals(a, b string) int {
	ai, af, _ := strings.Cut(a, ".")
	bi, bf, _ := strings.Cut(b, ".")
	if len(ai) != len(bi) { // no leading zeros: longer is larger
		if len(ai) < len(bi) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(ai, bi); c != 0 {
		return c
	}
	// No trailing zeros: a fraction that is a prefix of the other is smaller.
	return strings.Compare(af, bf)
}
