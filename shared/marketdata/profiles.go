package marketdata

import "strings"

// An ingestion profile maps a file layout (the pipeline's own, or a market
// data vendor's export) to points: which columns or members hold the symbol,
// time, price and size, and in which units. Ingestion detects the profile
// from a CSV header or the first JSON object's member names, or takes it as
// forced by the object's metadata (MetadataProfile), its key prefix
// (IncomingPrefix) or POST /ingest's APIQueryProfile; the ingestion report
// records the profile used (IngestionReport.Profile).
const (
	// ProfileNative is the pipeline's own CSV / NDJSON / JSON.
	ProfileNative = "native"
	// ProfilePolygonTrades is Polygon.io (Massive) flat-file trades CSV.
	ProfilePolygonTrades = "polygon-trades"
	// ProfileDatabentoTrades is Databento's trades schema as CSV, with
	// integer or "pretty" (ISO) timestamps and prices.
	ProfileDatabentoTrades = "databento-trades"
	// ProfileAlpacaTrades is Alpaca's trades as JSON or NDJSON.
	ProfileAlpacaTrades = "alpaca-trades"
	// ProfileTardisTrades is tardis.dev's trades CSV.
	ProfileTardisTrades = "tardis-trades"
	// ProfileBinanceTrades and ProfileBinanceAggTrades are Binance's spot
	// trades and aggTrades CSV (data.binance.vision): no header, no symbol.
	ProfileBinanceTrades    = "binance-trades"
	ProfileBinanceAggTrades = "binance-aggtrades"

	// Bar profiles: their records are OHLCV bars (Bar), not trades.
	// ProfilePolygonMinuteAggs is Polygon.io (Massive) flat-file minute
	// aggregates CSV (us_stocks_sip/minute_aggs_v1): 1-minute bars.
	ProfilePolygonMinuteAggs = "polygon-minute-aggs"
	// ProfileAlpacaBars is Alpaca's bars as JSON or NDJSON; their length
	// is the timeframe given with the object (MetadataTimeframe,
	// APIQueryTimeframe), DefaultBarLength without one.
	ProfileAlpacaBars = "alpaca-bars"
	// ProfileBinanceKlines is Binance's spot klines CSV
	// (data.binance.vision, BTCUSDT-1m-2025-01-02.csv): no header, no
	// symbol; the symbol and interval come from the file name or metadata.
	ProfileBinanceKlines = "binance-klines"
)

// Profiles are the ingestion profiles, in the order detection tries them.
var Profiles = []string{ProfileNative, ProfilePolygonTrades, ProfileDatabentoTrades, ProfileAlpacaTrades,
	ProfileTardisTrades, ProfileBinanceTrades, ProfileBinanceAggTrades, ProfilePolygonMinuteAggs,
	ProfileAlpacaBars, ProfileBinanceKlines}

// ValidProfile reports whether name is one of Profiles.
func ValidProfile(name string) bool {
	for _, p := range Profiles {
		if p == name {
			return true
		}
	}
	return false
}

// Where a profile, a symbol or a timestamp unit is forced instead of detected.
const (
	// MetadataProfile is the S3 user metadata key forcing an object's
	// profile (sent as the header x-amz-meta-format).
	MetadataProfile = "format"
	// MetadataSymbol is the S3 user metadata key giving the symbol of an
	// object whose rows have none (Binance), instead of its file name
	// (x-amz-meta-symbol).
	MetadataSymbol = "symbol"
	// MetadataTimestampUnit is the S3 user metadata key naming the unit of
	// the pipeline's own integer timestamps (s, ms, us or ns) instead of
	// reading it from their magnitude (x-amz-meta-timestamp-unit).
	MetadataTimestampUnit = "timestamp-unit"
	// IncomingPrefix is the key prefix forcing a profile: an object under
	// incoming/<profile>/ is read with that profile.
	IncomingPrefix = "incoming/"
	// APIQueryProfile, APIQuerySymbol and APIQueryTimestampUnit are POST
	// /ingest's query parameters, with the meanings of the metadata above.
	APIQueryProfile       = "format"
	APIQuerySymbol        = "symbol"
	APIQueryTimestampUnit = "timestampUnit"
)

// ProfileFromKey returns the profile an object key's incoming/<profile>/
// prefix forces; ok is false when the key has no such prefix. A folder
// under incoming/ that names no profile (incoming/2024-06-01/...) forces
// nothing: the profile is then detected.
func ProfileFromKey(key string) (profile string, ok bool) {
	rest, found := strings.CutPrefix(key, IncomingPrefix)
	if !found {
		return "", false
	}
	name, _, found := strings.Cut(rest, "/")
	if !found || !ValidProfile(name) {
		return "", false
	}
	return name, true
}
