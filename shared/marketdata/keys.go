package marketdata

import (
	"hash/fnv"
	"strconv"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
)

// Table attribute names. The key schema (hash "symbol" S, range "timestamp" N)
// is fixed by the storage stack; every item kind below shares it.
const (
	AttrSymbol    = "symbol"
	AttrTimestamp = "timestamp"
	// AttrExpiresAt is the TTL attribute (epoch seconds).
	AttrExpiresAt = "expiresAt"
)

// Attributes of a raw point item (besides the key and AttrExpiresAt). The
// processor writes them and the aggregator reads them.
const (
	AttrPrice    = "price"    // N
	AttrVolume   = "volume"   // N
	AttrBid      = "bid"      // N, absent when the point has no bid
	AttrAsk      = "ask"      // N, absent when the point has no ask
	AttrExchange = "exchange" // S, absent when empty
	AttrMillis   = "ms"       // N, the point's epoch milliseconds
	AttrOrigin   = "origin"   // S, where the point came from (S3 object version or API request)
	// AttrConditions is the point's sale conditions (Point.Conditions), S,
	// absent for a trade without conditions.
	AttrConditions = "conditions"
)

// AttrActiveSymbols is the string-set attribute of an ACTIVE5M item: the
// symbols that received points in that window.
const AttrActiveSymbols = "symbols"

// Attributes of an aggregate item that expressions name: the aggregator's
// write guard compares AttrTrades, and the latest-state item shares
// AttrUpdatedAt. Every other attribute name of the low-volume items is a
// dynamodbav tag of its type in items.go.
const (
	AttrTrades    = "trades"    // N, number of points in the window
	AttrUpdatedAt = "updatedAt" // N, epoch ms the item was computed at
)

// Attributes of a partial item (PartialItem's tags; besides the key,
// AttrTrades and AttrExpiresAt), which the processor builds by hand.
const (
	AttrOpenKey  = "openKey"  // S
	AttrOpen     = "open"     // N
	AttrCloseKey = "closeKey" // S
	AttrClose    = "close"    // N
	AttrHigh     = "high"     // N
	AttrLow      = "low"      // N
	AttrSumVol   = "volume"   // S, exact decimal integer
	AttrSumPV    = "pv"       // S, exact, absent for one point
	AttrSumPrice = "prices"   // S, exact, absent for one point
	AttrExcluded = "excluded" // N, trades excluded from the price fields; absent when 0
	AttrBars     = "bars"     // N, bars folded in; absent when 0
	AttrNoVWAP   = "noVwap"   // N, bars without a VWAP; absent when 0
)

// Item key patterns. Raw point items use the bare symbol as hash key; every
// other kind prefixes its hash key with a tag containing '#', a character no
// valid symbol contains, so the kinds can never collide.
//
//	raw point       symbol=<SYM>                    timestamp=<ms>.<discriminator>
//	latest state    symbol=STATE#<SYM>              timestamp=0
//	aggregate       symbol=AGG5M#<SYM>              timestamp=<window start ms>
//	partial         symbol=PART5M#<SYM>             timestamp=<window start ms>.<discriminator>
//	active symbols  symbol=ACTIVE#5M                timestamp=<window start ms>  (string set "symbols")
//	symbols index   symbol=INDEX#SYMBOLS            timestamp=SymbolIndexKey(<SYM>)  (see symbolindex.go)
//	ingest report   symbol=REPORT#s3://<bucket>/<key> timestamp=<hash of version id or ETag>
const (
	StatePrefix     = "STATE#"
	AggregatePrefix = "AGG5M#"
	PartialPrefix   = "PART5M#"
	ActiveWindows   = "ACTIVE#5M"
	ReportPrefix    = "REPORT#"
)

// StateKey is the hash key of a symbol's latest-state item (range key 0).
func StateKey(symbol string) string { return StatePrefix + symbol }

// AggregateKey is the hash key of a symbol's 5-minute aggregates.
func AggregateKey(symbol string) string { return AggregatePrefix + symbol }

// PartialKey is the hash key of a symbol's partial aggregates (one per
// stored message and window it touches; see Partial). Their range key is
// PartialSortKey.
func PartialKey(symbol string) string { return PartialPrefix + symbol }

// ReportContent is what tells one ingestion report of an object key from
// another: the ETag, which for a single-part upload to the SSE-S3 bucket is
// the content's MD5, so an identical re-upload (a new version id on the
// versioned bucket) finds the first upload's report; the version id only
// for an event without an ETag. See README, "Re-uploading a file".
func ReportContent(eTag, versionID string) string {
	if eTag != "" {
		return eTag
	}
	return versionID
}

// ReportKey returns the key of the ingestion report of one content
// (ReportContent) of an S3 object. The hash key groups all of the object's
// reports; the range key tells them apart.
func ReportKey(bucket, key, content string) (hash, rng string) {
	h := fnv.New64a()
	h.Write([]byte(content))
	return ReportPrefix + "s3://" + bucket + "/" + key, strconv.FormatUint(h.Sum64()>>11, 10)
}

// WindowStart returns the start (ms) of the aggregation window holding ms.
func WindowStart(ms int64) int64 {
	w := limits.AggregationWindow.Milliseconds()
	return ms - ms%w
}

// WindowEnd returns the exclusive end (ms) of the window starting at start.
func WindowEnd(start int64) int64 { return start + limits.AggregationWindow.Milliseconds() }

// ExpiresAt returns the TTL value (epoch seconds) for an item written at now.
func ExpiresAt(now time.Time) int64 { return now.Add(limits.DataRetention).Unix() }
