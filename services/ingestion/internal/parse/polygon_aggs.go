package parse

import (
	"path"
	"strings"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// polygonMinuteAggs is Polygon.io's (Massive's) flat-file minute aggregates,
// us_stocks_sip/minute_aggs_v1 (README "Ingestion profiles" names the
// source): one 1-minute bar per row, window_start its start in ns,
// transactions its trade count; no VWAP, so the VWAP of a window holding one
// is unknown (marketdata.Partial.VWAPKnown). The header is the same as the
// day aggregates' (day_aggs_v1), whose bars are a day long: a file under a
// day_aggs folder is refused as such, and a minute-aggs file otherwise means
// 1 minute, the window_start spacing being no guide (a quiet minute has no
// row).
var polygonMinuteAggs = &profile{
	name: marketdata.ProfilePolygonMinuteAggs,
	columns: []column{{"ticker", fieldSymbol}, {"volume", fieldBarVolume}, {"open", fieldOpen}, {"close", fieldClose},
		{"high", fieldHigh}, {"low", fieldLow}, {"window_start", fieldBarStart}, {"transactions", fieldTrades}},
	signature:   []string{"ticker", "window_start"},
	units:       []int{unit("ns")},
	bars:        true,
	barLength:   "1m",
	barLengthOf: polygonAggsLength,
}

// polygonAggsLength reads the bar length from a Polygon flat file's path:
// us_stocks_sip/day_aggs_v1/2025/01/2025-01-02.csv.gz holds day bars.
func polygonAggsLength(name string) (string, bool) {
	for _, part := range strings.Split(path.Dir(name), "/") {
		if strings.HasPrefix(part, "day_aggs") {
			return "1d", true
		}
	}
	return "", false
}
