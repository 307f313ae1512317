package marketdata

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
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
)

// AttrActiveSymbols is the string-set attribute of an ACTIVE5M item: the
// symbols that received points in that window.
const AttrActiveSymbols = "symbols"

// Attributes of an aggregate item (hash AggregateKey(symbol), range the window
// start), besides the key; the window's volume is AttrVolume. The aggregator
// writes them and the names equal Aggregate's JSON field names.
const (
	AttrWindowEnd = "windowEnd"      // N, exclusive end, epoch ms
	AttrOpen      = "open"           // N
	AttrHigh      = "high"           // N
	AttrLow       = "low"            // N
	AttrClose     = "close"          // N
	AttrVWAP      = "vwap"           // N
	AttrTrades    = "trades"         // N, number of points in the window
	AttrFirstTs   = "firstTimestamp" // N, epoch ms of the earliest point
	AttrLastTs    = "lastTimestamp"  // N, epoch ms of the latest point
	AttrUpdatedAt = "updatedAt"      // N, epoch ms the item was computed at
)

// Item key patterns. Raw point items use the bare symbol as hash key; every
// other kind prefixes its hash key with a tag containing '#', a character no
// valid symbol contains, so the kinds can never collide.
//
//	raw point       symbol=<SYM>                    timestamp=<ms>.<discriminator>
//	latest state    symbol=STATE#<SYM>              timestamp=0
//	aggregate       symbol=AGG5M#<SYM>              timestamp=<window start ms>
//	active symbols  symbol=ACTIVE#5M                timestamp=<window start ms>  (string set "symbols")
//	ingest report   symbol=REPORT#s3://<bucket>/<key> timestamp=<hash of version id or ETag>
const (
	StatePrefix     = "STATE#"
	AggregatePrefix = "AGG5M#"
	ActiveWindows   = "ACTIVE#5M"
	ReportPrefix    = "REPORT#"
)

// StateKey is the hash key of a symbol's latest-state item (range key 0).
func StateKey(symbol string) string { return StatePrefix + symbol }

// AggregateKey is the hash key of a symbol's 5-minute aggregates.
func AggregateKey(symbol string) string { return AggregatePrefix + symbol }

// ReportKey returns the key of the ingestion report of one S3 object version.
// The hash key groups all versions of an object; the range key tells them apart.
func ReportKey(bucket, key, versionOrETag string) (hash, rng string) {
	h := fnv.New64a()
	h.Write([]byte(versionOrETag))
	return ReportPrefix + "s3://" + bucket + "/" + key, strconv.FormatUint(h.Sum64()>>11, 10)
}

// sortKeyDigits is the width of the discriminator that follows the millisecond
// timestamp in a raw point's range key. 13 digits of milliseconds plus 18 of
// discriminator stay well inside DynamoDB's 38 significant digits.
const sortKeyDigits = 18

// SortKey returns the range key of a raw point: its epoch milliseconds, a
// decimal point, and a discriminator hashed from the point's content, where it
// came from (origin, e.g. the S3 object version) and its position there
// (ordinal, e.g. the line number).
//
// Two distinct points of one symbol in the same millisecond get distinct keys
// (their content or position differs), so they never overwrite each other; an
// exact re-delivery of the same point from the same place yields the same key
// and so overwrites itself, which makes every write idempotent. Keys still sort
// by time, so a millisecond range is a numeric BETWEEN.
//
// The result is in DynamoDB's canonical number form (no trailing zeros), so the
// string read back from the table equals the one written.
func SortKey(p Point, origin string, ordinal int64) string {
	h := fnv.New64a()
	var buf [8]byte
	h.Write([]byte(origin))
	binary.LittleEndian.PutUint64(buf[:], uint64(ordinal))
	h.Write(buf[:])
	h.Write([]byte(p.Symbol))
	for _, v := range [...]uint64{uint64(p.Timestamp), math.Float64bits(p.Price), uint64(p.Volume),
		math.Float64bits(p.Bid), math.Float64bits(p.Ask)} {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	h.Write([]byte(p.Exchange))
	d := h.Sum64() % 1_000_000_000_000_000_000 // 10^18
	if d == 0 {
		d = 1 // keep the key distinct from the bare millisecond bound
	}
	frac := strconv.FormatUint(d, 10)
	frac = strings.Repeat("0", sortKeyDigits-len(frac)) + frac
	frac = strings.TrimRight(frac, "0")
	return strconv.FormatInt(p.Timestamp, 10) + "." + frac
}

// SortKeyMillis returns the epoch milliseconds a raw point's range key starts with.
func SortKeyMillis(sortKey string) (int64, error) {
	if i := strings.IndexByte(sortKey, '.'); i >= 0 {
		sortKey = sortKey[:i]
	}
	return strconv.ParseInt(sortKey, 10, 64)
}

// MillisRange returns inclusive range-key bounds selecting every raw point with
// from <= timestamp < to (milliseconds), for a KeyCondition BETWEEN.
func MillisRange(from, to int64) (lo, hi string) {
	return strconv.FormatInt(from, 10), strconv.FormatInt(to-1, 10) + "." + strings.Repeat("9", sortKeyDigits)
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
