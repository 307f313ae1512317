package parse

import "github.com/marketanalytics/pipeline/shared/marketdata"

// plainDecimal returns the canonical text of the common plain decimal
// (marketdata.AppendDecimal's): 1 to 18 integer digits without a leading
// zero, or a single 0, then optionally a point and digits, at most
// marketdata.MaxDecimalScale of them once trailing zeros are dropped, as
// vendors write sizes and bar volumes (Binance's 2.50000000). That text is
// a prefix of v (the trailing zeros, and a point left without digits,
// dropped), so nothing is copied; ok is false for anything else, which
// AppendDecimal then reads (a test and a fuzz target compare both).
func plainDecimal(v []byte) (dec []byte, ok bool) {
	i := 0
	for i < len(v) && v[i]-'0' <= 9 {
		i++
	}
	if i == 0 || i > 18 || v[0] == '0' && i > 1 {
		return nil, false
	}
	if i == len(v) {
		return v, true
	}
	if v[i] != '.' {
		return nil, false
	}
	end := i // the canonical text ends here unless a non-zero fraction digit follows
	for j := i + 1; j < len(v); j++ {
		c := v[j]
		if c-'0' > 9 {
			return nil, false
		}
		if c != '0' {
			end = j + 1
		}
	}
	if end-i-1 > marketdata.MaxDecimalScale {
		return nil, false
	}
	return v[:end], true
}
