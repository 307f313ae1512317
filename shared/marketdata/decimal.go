package marketdata

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is a non-negative decimal number held as its canonical text: the
// form DynamoDB gives a number back in (no sign, no exponent, no leading
// zeros, no trailing zeros after the point, no point without a fraction), so
// an item read back equals what was written, byte for byte. A point's volume
// is one (crypto sizes are fractional: "0.015"); so is an aggregate's sum of
// them, which may be longer. The zero value is 0.
//
// Why text and not a coefficient and a scale: it is exactly what the queue
// message, the raw item and the API carry, so the processor copies the
// message's substring into the item without formatting anything, and the
// SDK's attributevalue stores a string type with Float64, Int64 and String
// methods as a number (N) and reads one back into it (as it does
// json.Number), which keeps this module free of the SDK. Integer volumes
// look exactly as they did when volume was an int64: on the wire, in items
// and in the API, so items written before read back unchanged.
//
// Arithmetic goes through ParseDecimal's checks: a Decimal built by a
// conversion from arbitrary text is checked by Point.Validate and
// MarshalJSON, never trusted.
type Decimal string

// MaxDecimalScale is the most fraction digits a volume may have (after its
// trailing zeros are dropped): 18, the scale of the finest crypto units
// (ETH's wei). With at most 19 integer digits (int64, as integer volumes
// always were) a volume has at most 37 significant digits, within the 38
// DynamoDB keeps.
const MaxDecimalScale = 18

// maxVolumeInteger is the largest integer part of a point's volume.
const maxVolumeInteger = "9223372036854775807" // math.MaxInt64

// maxSumDigits bounds the integer digits of a sum read back (an aggregate's
// volume), only to refuse absurd input: 2^63 points of the largest volume
// have fewer than 40.
const maxSumDigits = 60

// ErrDecimal means a text is not a decimal number Decimal holds.
var ErrDecimal = errors.New("invalid decimal")

// Units returns the integer n as a Decimal.
func Units(n uint64) Decimal { return Decimal(strconv.FormatUint(n, 10)) }

// String returns the canonical text ("0" for the zero value).
func (d Decimal) String() string {
	if d == "" {
		return "0"
	}
	return string(d)
}

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d == "" || d == "0" }

// Float64 returns the float64 nearest to d (attributevalue's number
// interface; also for charts, the float fallbacks and Bar.Validate's
// Σ price×volume check, once per bar).
//
// Only decimal text is a number: strconv's "NaN", "Inf" and hexadecimal
// forms are refused (a Decimal never holds them; DynamoDB numbers don't).
func (d Decimal) Float64() (float64, error) {
	if x, ok := fastFloat(string(d)); ok {
		return x, nil
	}
	s := d.String()
	if strings.IndexFunc(s, func(c rune) bool { return !strings.ContainsRune("0123456789.+-eE", c) }) >= 0 {
		return 0, &strconv.NumError{Func: "Decimal.Float64", Num: s, Err: strconv.ErrSyntax}
	}
	return strconv.ParseFloat(s, 64)
}

// fastFloat converts the plain text digits[.digits] of at most 15 digits
// (so an integer below 2^53) and 22 fraction digits: the digits and the
// power of ten are then exact float64s, and one division is correctly
// rounded, so the result is strconv.ParseFloat's (Clinger's fast path; a
// test compares them). ok is false for anything else.
func fastFloat(s string) (x float64, ok bool) {
	var m uint64
	digits, frac, point := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if point {
				frac++
			}
		case c == '.' && !point && digits > 0:
			point = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 || frac > 22 || point && frac == 0 {
		return 0, false
	}
	return float64(m) / exactPow10[frac], true // message_fast.go's table
}

// Int64 returns d as an int64 when it is an integer in range (attributevalue's
// number interface).
func (d Decimal) Int64() (int64, error) { return strconv.ParseInt(d.String(), 10, 64) }

// ParseDecimal reads s as a point's volume: an optional sign, digits with an
// optional fraction (".5" and "5." too) and an optional exponent, at most
// MaxDecimalScale fraction digits once trailing zeros are dropped, an
// integer part at most math.MaxInt64; negative zero is 0, any other negative
// number is refused. The error wraps ErrDecimal and says why, in words a
// rejection reason can carry ("negative", "more than 18 fraction digits", ...).
func ParseDecimal(s string) (Decimal, error) {
	b, why := AppendDecimal(nil, []byte(s))
	if why != "" {
		return "", decimalError(s, why)
	}
	if string(b) == s {
		return Decimal(s), nil // no second copy of canonical input
	}
	return Decimal(b), nil
}

func decimalError(s, why string) error {
	return errors.Join(ErrDecimal, errors.New(strconv.Quote(clip(s))+": "+why))
}

// AppendDecimal appends the canonical text of the volume v (see ParseDecimal)
// to dst, or returns why v is not one. It does not allocate beyond dst, so
// ingestion converts a field with it and interns the result.
func AppendDecimal(dst, v []byte) ([]byte, string) {
	return appendCanonical(dst, v, &volumeLimits)
}

// decimalLimits are what appendCanonical accepts: at most maxScale fraction
// digits and maxInt integer digits (and, when intBound is set and the
// integer part has that many digits, at most intBound), at most maxSig
// significant digits when maxSig > 0. Negative numbers are refused (-0 is 0).
type decimalLimits struct {
	maxScale, maxInt, maxSig int
	intBound                 string
}

// The limits of a point's volume, of a sum of volumes, and of a price's
// exact text (ExactPrice).
var (
	volumeLimits = decimalLimits{maxScale: MaxDecimalScale, maxInt: len(maxVolumeInteger), intBound: maxVolumeInteger}
	sumLimits    = decimalLimits{maxScale: MaxDecimalScale, maxInt: maxSumDigits}
)

// appendCanonical appends the canonical text of v, within lim, to dst, or
// returns why v is not one.
func appendCanonical(dst, v []byte, lim *decimalLimits) ([]byte, string) {
	i, neg := 0, false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		i++
	}
	// The digits, wherever the point is: v[intStart:intEnd] and
	// v[fracStart:fracEnd].
	intStart := i
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	intEnd, fracStart, fracEnd := i, i, i
	if i < len(v) && v[i] == '.' {
		i++
		fracStart = i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	if intEnd == intStart && fracEnd == fracStart {
		if len(v) == 0 {
			return dst, "empty"
		}
		return dst, "not a decimal number"
	}
	exp := 0
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		eneg := false
		if i < len(v) && (v[i] == '-' || v[i] == '+') {
			eneg = v[i] == '-'
			i++
		}
		start := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			if exp < 1_000_000 { // far beyond any accepted shift; no overflow
				exp = exp*10 + int(v[i]-'0')
			}
			i++
		}
		if i == start {
			return dst, "not a decimal number"
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(v) {
		return dst, "not a decimal number"
	}
	// The significant digits d (no leading or trailing zeros) and where the
	// point falls in them: pos digits before it (pos <= 0: 0.000d).
	digit := func(k int) byte { // k-th digit of int then frac part
		if n := intEnd - intStart; k < n {
			return v[intStart+k]
		} else {
			return v[fracStart+k-n]
		}
	}
	n := intEnd - intStart + fracEnd - fracStart
	lo, hi := 0, n
	for lo < hi && digit(lo) == '0' {
		lo++
	}
	for hi > lo && digit(hi-1) == '0' {
		hi--
	}
	if lo == hi {
		return append(dst, '0'), "" // zero, "-0" included
	}
	if neg {
		return dst, "negative; want a number >= 0"
	}
	pos := intEnd - intStart + exp - lo // digits before the point
	sig := hi - lo
	if lim.maxSig > 0 && sig > lim.maxSig {
		return dst, strconv.Itoa(sig) + " significant digits, more than the " + strconv.Itoa(lim.maxSig) + " a DynamoDB number keeps"
	}
	if sig-pos > lim.maxScale {
		return dst, "more than " + strconv.Itoa(lim.maxScale) + " fraction digits"
	}
	if pos > lim.maxInt {
		return dst, "out of range"
	}
	start := len(dst)
	switch {
	case pos <= 0:
		dst = append(dst, '0', '.')
		for range -pos {
			dst = append(dst, '0')
		}
		for k := lo; k < hi; k++ {
			dst = append(dst, digit(k))
		}
	case pos >= sig:
		for k := lo; k < hi; k++ {
			dst = append(dst, digit(k))
		}
		for range pos - sig {
			dst = append(dst, '0')
		}
	default:
		for k := lo; k < lo+pos; k++ {
			dst = append(dst, digit(k))
		}
		dst = append(dst, '.')
		for k := lo + pos; k < hi; k++ {
			dst = append(dst, digit(k))
		}
	}
	if lim.intBound != "" && pos == len(lim.intBound) && string(dst[start:start+pos]) > lim.intBound {
		return dst[:start], "out of range"
	}
	return dst, ""
}

// canonical reports whether s is already the canonical text of a decimal
// (the queue decoder's fast path takes such literals as they are), and
// then its integer digits and fraction digits: one pass, as Validate runs
// it on every point the processor receives.
func canonical(s string) (ok bool, intLen, scale int) {
	n, dot := len(s), -1
	for i := 0; i < n; i++ {
		c := s[i]
		if c == '.' && dot < 0 {
			dot = i
		} else if c < '0' || c > '9' {
			return false, 0, 0
		}
	}
	intLen = n
	if dot >= 0 {
		intLen, scale = dot, n-dot-1
	}
	ok = intLen > 0 && (s[0] != '0' || intLen == 1) && (dot < 0 || scale > 0 && s[n-1] != '0')
	return ok, intLen, scale
}

// check reports why d is not a valid volume, or "".
func (d Decimal) check() string {
	if d == "" {
		return ""
	}
	if ok, intLen, scale := canonical(string(d)); ok { // the common case, without a copy
		switch {
		case scale > MaxDecimalScale:
			return "more than " + strconv.Itoa(MaxDecimalScale) + " fraction digits"
		case intLen > len(maxVolumeInteger) || intLen == len(maxVolumeInteger) && string(d[:intLen]) > maxVolumeInteger:
			return "out of range"
		}
		return ""
	}
	b, why := AppendDecimal(nil, []byte(d))
	if why == "" && string(b) != string(d) {
		return "not in canonical form (want " + string(b) + ")"
	}
	return why
}

// scale returns the number of fraction digits of canonical d.
func (d Decimal) scale() int {
	for i := 0; i < len(d); i++ {
		if d[i] == '.' {
			return len(d) - i - 1
		}
	}
	return 0
}

// parts splits canonical d into coefficient and scale (d = coef × 10^-scale);
// ok is false when the coefficient does not fit in 64 bits.
func (d Decimal) parts() (coef uint64, scale int, ok bool) {
	digits := 0
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c == '.' {
			scale = len(d) - i - 1
			continue
		}
		if digits++; digits > 19 {
			return 0, 0, false
		}
		coef = coef*10 + uint64(c-'0')
	}
	return coef, scale, true // 19 digits never exceed 2^64
}

// bigParts is parts for any canonical d.
func (d Decimal) bigParts() (*big.Int, int) {
	s := d.String()
	scale := d.scale()
	if scale > 0 {
		s = s[:len(s)-scale-1] + s[len(s)-scale:]
	}
	coef, ok := new(big.Int).SetString(s, 10)
	if !ok {
		coef = new(big.Int) // unreachable for a canonical d
	}
	return coef, scale
}

// decimalOf returns coef × 10^-scale in canonical form (coef >= 0).
func decimalOf(coef *big.Int, scale int) Decimal {
	s := coef.String()
	if scale == 0 || coef.Sign() == 0 {
		return Decimal(s)
	}
	for len(s) <= scale {
		s = "0" + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	end := len(s)
	for s[end-1] == '0' {
		end--
	}
	if s[end-1] == '.' {
		end--
	}
	return Decimal(s[:end])
}

// pow10Int returns 10^n.
func pow10Int(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// Add returns d + e, exactly. Both must be canonical (as ParseDecimal,
// ParseSum and Add return them).
func (d Decimal) Add(e Decimal) Decimal {
	if a, sa, ok := d.parts(); ok {
		if b, sb, ok := e.parts(); ok && sa == 0 && sb == 0 && a+b >= a {
			return Units(a + b)
		}
	}
	a, sa := d.bigParts()
	b, sb := e.bigParts()
	s := max(sa, sb)
	a.Mul(a, pow10Int(s-sa))
	b.Mul(b, pow10Int(s-sb))
	return decimalOf(a.Add(a, b), s)
}

// ParseSum reads a sum of volumes (an aggregate's or a partial's volume as
// stored): canonical-izes like ParseDecimal, without the per-point bound on
// the integer part.
func ParseSum(s string) (Decimal, error) {
	b, why := appendCanonical(nil, []byte(s), &sumLimits)
	if why != "" {
		return "", decimalError(s, why)
	}
	return Decimal(b), nil
}

// MarshalJSON writes d as a JSON number with its exact digits.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d == "" {
		return []byte("0"), nil
	}
	if ok, _, _ := canonical(string(d)); !ok {
		return nil, decimalError(string(d), "not in canonical form")
	}
	return []byte(d), nil
}

// UnmarshalJSON reads a JSON number (any form: 1.50, 15e-1) into its
// canonical text; null leaves d unchanged, as encoding/json does for
// numbers. A sum's size is allowed (aggregates in API answers); a point's
// bound is Point.Validate's.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	out, why := appendCanonical(nil, b, &sumLimits)
	if why != "" {
		return decimalError(string(b), why)
	}
	*d = Decimal(out)
	return nil
}

// appendUnits appends coef × 10^-scale in canonical form.
func appendUnits(dst []byte, coef uint64, scale int) []byte {
	if scale == 0 || coef == 0 {
		return strconv.AppendUint(dst, coef, 10)
	}
	var digits [20]byte
	s := strconv.AppendUint(digits[:0], coef, 10)
	for len(s) > 0 && scale > 0 && s[len(s)-1] == '0' {
		s, scale = s[:len(s)-1], scale-1
	}
	if scale == 0 {
		return append(dst, s...)
	}
	if len(s) <= scale {
		dst = append(dst, '0', '.')
		for range scale - len(s) {
			dst = append(dst, '0')
		}
		return append(dst, s...)
	}
	dst = append(dst, s[:len(s)-scale]...)
	dst = append(dst, '.')
	return append(dst, s[len(s)-scale:]...)
}
