package parse

import (
	"fmt"
	"path"
	"strings"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Binance spot klines (data.binance.vision, BTCUSDT-1m-2025-01-02.csv, also
// shipped zipped) have no header and no symbol: 12 numeric columns,
// open_time, open, high, low, close, volume, close_time, quote_asset_volume,
// number_of_trades, taker_buy_base_asset_volume,
// taker_buy_quote_asset_volume, ignore. The symbol and the interval are the
// file name's first two parts (or given with the object: x-amz-meta-symbol,
// x-amz-meta-timeframe). The rows go through the bar path (bars.go): each
// is a marketdata.Bar whose pv is the quote asset volume, exactly Σ
// price×qty, so a window's VWAP from klines is exact.

// klinesColumns is the number of columns of a klines row.
const klinesColumns = 12

// klinesInterval reports whether kind, the second part of a Binance file
// name, is a kline interval as Binance writes them: a count and one of s, m,
// h, d, w, M or mo (1s, 1m, 3m, 15m, 1h, 1d, 1w, 1mo). Any such interval
// names the klines profile, so that a file of 15-minute klines is
// recognised, then refused for its length, rather than not recognised.
func klinesInterval(kind string) bool {
	i := 0
	for i < len(kind) && kind[i] >= '0' && kind[i] <= '9' {
		i++
	}
	if i == 0 || i > 3 || kind[0] == '0' {
		return false
	}
	switch kind[i:] {
	case "s", "m", "h", "d", "w", "M", "mo":
		return true
	}
	return false
}

// klinesIntervalOf returns the interval a Binance file name gives
// (BTCUSDT-1m-2025-01-02.csv: 1m), the length of its klines.
func klinesIntervalOf(name string) (string, bool) {
	if _, rest, ok := strings.Cut(path.Base(name), "-"); ok {
		if kind, _, _ := strings.Cut(rest, "-"); klinesInterval(kind) {
			return kind, true
		}
	}
	return "", false
}

// klinesNoInterval refuses a klines object whose bar length is unknown: its
// name gives no interval and none was given with it.
func klinesNoInterval(name string) error {
	return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
		"%s: the object's name %q names no interval (like BTCUSDT-1m-2025-01-02.csv), so the length of its bars is unknown; give it as metadata x-amz-meta-%s or the query parameter ?%s= (1s, 1m or 5m)",
		marketdata.ProfileBinanceKlines, clipString(path.Base(name)), marketdata.MetadataTimeframe, marketdata.APIQueryTimeframe)}
}

// klinesRow reports whether fields look like a klines row: 12 numbers.
// (Binance's trades and aggTrades rows have 7 and 8 columns, the last two
// booleans.)
func klinesRow(fields [][]byte) bool {
	if len(fields) != klinesColumns {
		return false
	}
	for _, f := range fields {
		if _, why := parseDecimal(f); why != "" {
			return false
		}
	}
	return true
}

// rowFits reports whether fields, a CSV object's first line, look like a
// row of prof, a profile without a header line.
func (prof *profile) rowFits(fields [][]byte) bool {
	if prof.name == marketdata.ProfileBinanceKlines {
		return klinesRow(fields)
	}
	return headerlessRow(fields, len(prof.headerless))
}
