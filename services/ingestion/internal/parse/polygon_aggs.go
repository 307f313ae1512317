package parse

import (
	"fmt"
	"path"
	"strings"
	"time"

	// The Lambda's provided.al2023 image is not promised to ship the zone
	// database: embedded (about 450 kB), America/New_York loads anywhere.
	_ "time/tzdata"

	"github.com/marketanalytics/pipeline/shared/limits"
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
// row). A day file under another name is caught by its rows: a day
// aggregate starts at midnight New York time, which no US-stock minute bar
// does (dayAggregateErr).
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

// newYork is the zone of the US-stock sessions (tzdata is embedded above,
// so the load cannot fail but on a broken build).
var newYork = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(fmt.Sprintf("parse: %v", err))
	}
	return loc
}()

// dayAggregateErr refuses a Polygon aggregate starting at ms (epoch ms)
// that starts at midnight New York time: that is where a US-stock day
// aggregate starts, and no minute bar does (the SIP sessions run 04:00 to
// 20:00 ET), so the file is a day_aggs file under another name. It returns
// nil for any other start, or when the bar length was given
// (Options.Timeframe): the sender then says what the bars are.
func (p *Parser) dayAggregateErr(ms int64) *RecordError {
	if p.prof != polygonMinuteAggs || p.Options.Timeframe != "" || !midnightNewYork(ms) {
		return nil
	}
	return recordErr(marketdata.ErrBarLength.Error(),
		"%d starts at midnight New York time (%s), as a day aggregate does (day_aggs_v1, longer than %s; no US-stock minute bar starts then): if it really is a minute bar, give the timeframe %s (metadata x-amz-meta-%s or the query parameter ?%s=)",
		ms*1_000_000, time.UnixMilli(ms).In(newYork).Format("2006-01-02 15:04 MST"), limits.AggregationWindow,
		minuteTimeframe, marketdata.MetadataTimeframe, marketdata.APIQueryTimeframe)
}

// minuteTimeframe is the timeframe that says an object's bars are a minute
// long (a marketdata.BarLengths name; a test holds it to one).
const minuteTimeframe = "1Min"

// midnightNewYork reports whether ms (epoch ms, >= 0) is 00:00 in New York:
// on the hour, 04:00 or 05:00 UTC (EDT, EST) before the zone is asked, so
// that the usual bar costs two divisions.
func midnightNewYork(ms int64) bool {
	const hour, day = 3_600_000, 86_400_000
	if ms < 0 || ms%hour != 0 {
		return false
	}
	if h := ms % day / hour; h != 4 && h != 5 {
		return false
	}
	t := time.UnixMilli(ms).In(newYork)
	return t.Hour() == 0 && t.Minute() == 0
}
