package marketdata

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A raw point's range key is its epoch milliseconds, a decimal point, and an
// 18-digit discriminator (written without its trailing zeros) of two parts:
//
//	1772463600123.004512 483790412071
//	              ^^^^^^ the nanoseconds within the millisecond (Point.SubMilliNanos)
//	                     ^^^^^^^^^^^^ a hash of the point's content, where it came
//	                                  from (origin, e.g. the S3 object version) and
//	                                  its position there (ordinal, e.g. the line)
//
// (written without the space). Keys so sort by time to the nanosecond a
// vendor gives (µs and ns timestamps, RFC 3339 fractions; 0 when it gives
// milliseconds), and the points of one nanosecond by hash. Two distinct
// points of one symbol get distinct keys (their time, content or position
// differs, and the hash tells them apart but for a 1 in 10^12 chance), so
// they never overwrite each other; an exact re-delivery of the same point
// from the same place yields the same key and so overwrites itself, which
// makes every write idempotent. A millisecond range is a numeric BETWEEN
// (MillisRange). Why the nanoseconds ride in the key and not in a field of
// their own: the key is already what orders the points of a window (the
// partials' and the aggregator's open and close break ties by it), and it
// travels in the queue message, so the processor needs no change.
//
// Keys written before the nanoseconds were kept have all 18 digits hashed;
// they have the same form and parse as before, and order among themselves
// within a millisecond by hash, as they always did.
//
// The key is in DynamoDB's canonical number form (no leading zeros, no
// trailing zeros after the point), so the string read back from the table
// equals the one written. AppendSortKey is the only formatter and
// ParseSortKey the only parser of this form.

// sortKeyDigits is the width of the discriminator. 13 digits of milliseconds
// plus 18 of discriminator stay well inside DynamoDB's 38 significant digits.
const sortKeyDigits = 18

// discModulus is 10^sortKeyDigits.
const discModulus = 1_000_000_000_000_000_000

// hashModulus is 10^(sortKeyDigits - 6): the discriminator's digits after
// the 6 of the nanoseconds within the millisecond (NanosPerMilli = 10^6).
// A discriminator is so SubMilliNanos·hashModulus + hash % hashModulus.
const hashModulus = discModulus / NanosPerMilli

// FNV-1a 64-bit (hash/fnv), inlined so that a key costs no allocation: the
// ingestion packs millions of points per object through AppendSortKey.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

func fnvUint64(h, v uint64) uint64 {
	for i := 0; i < 8; i++ { // little endian
		h ^= v & 0xff
		h *= fnvPrime64
		v >>= 8
	}
	return h
}

// AppendSortKey appends the range key of point p, read at position ordinal
// of origin, to dst without allocating. p must be valid (Point.Validate:
// its SubMilliNanos within 0 to NanosPerMilli-1).
func AppendSortKey(dst []byte, p Point, origin string, ordinal int64) []byte {
	return appendSortKey(dst, p, fnvString(fnvOffset64, origin), ordinal)
}

// appendSortKey continues h, the hash of the origin (MessageEncoder hashes
// its origin once for all its points).
func appendSortKey(dst []byte, p Point, h uint64, ordinal int64) []byte {
	h = fnvUint64(h, uint64(ordinal))
	h = fnvString(h, p.Symbol)
	h = fnvUint64(h, uint64(p.Timestamp))
	h = fnvUint64(h, math.Float64bits(p.Price))
	h = hashVolume(h, p.Volume)
	h = fnvUint64(h, math.Float64bits(p.Bid))
	h = fnvUint64(h, math.Float64bits(p.Ask))
	h = fnvString(h, p.Exchange)
	h = fnvString(h, p.Conditions) // none: the hash, and the keys, of points before conditions
	// The modulo only keeps an invalid SubMilliNanos (which Validate
	// refuses before any key is made) from widening the key.
	return appendKey(dst, p.Timestamp, uint64(p.SubMilliNanos)%NanosPerMilli*hashModulus+h%hashModulus)
}

// hashVolume hashes a volume into h: an integer as the int64 it was before
// volumes could be fractional, so that the keys of integer points, and with
// them the idempotence of re-ingesting a file, did not change; a fraction as
// its text (a distinct input: its '.' is never part of an integer's bytes
// hashed as a uint64, and the ordinal already keeps two points apart).
func hashVolume(h uint64, v Decimal) uint64 {
	var n uint64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return fnvString(fnvUint64(h, 0xfdfdfdfdfdfdfdfd), string(v))
		}
		n = n*10 + uint64(c-'0')
	}
	return fnvUint64(h, n)
}

// appendKey appends the key <ms>.<d> (d < discModulus, as 18 digits without
// the trailing zeros).
func appendKey(dst []byte, ms int64, d uint64) []byte {
	if d == 0 {
		d = 1 // keep the key distinct from the bare millisecond bound of MillisRange
	}
	dst = strconv.AppendInt(dst, ms, 10)
	dst = append(dst, '.')
	var digits [sortKeyDigits]byte
	for i := sortKeyDigits - 1; i >= 0; i-- {
		digits[i] = byte('0' + d%10)
		d /= 10
	}
	n := sortKeyDigits
	for digits[n-1] == '0' { // d > 0, so a non-zero digit remains
		n--
	}
	return append(dst, digits[:n]...)
}

// ErrSortKey means a string is not a raw point's range key.
var ErrSortKey = errors.New("invalid range key")

// ParseSortKey splits a raw point's range key into its epoch milliseconds and
// its discriminator scaled to sortKeyDigits digits (the fraction × 10^18), so
// that comparing (ms, disc) pairs orders keys exactly as DynamoDB orders them
// as numbers. It accepts exactly the canonical form AppendSortKey writes: a
// non-negative integer without sign or leading zeros, '.', and 1 to 18 digits
// not ending in 0. The processor checks every key it receives with it, so a
// malformed one fails its message alone instead of the whole BatchWriteItem
// request it would share.
func ParseSortKey(key string) (ms int64, disc uint64, err error) {
	dot := strings.IndexByte(key, '.')
	if dot <= 0 || dot > 1 && key[0] == '0' {
		return 0, 0, fmt.Errorf("%w %q: want <epoch ms>.<discriminator>", ErrSortKey, clip(key))
	}
	whole, end := appendDigits(0, key[:dot], 0)
	if end != dot {
		return 0, 0, fmt.Errorf("%w %q: want <epoch ms>.<discriminator>", ErrSortKey, clip(key))
	}
	ms = int64(whole)
	// Up to 18 digits cannot overflow; strconv checks longer ones.
	if dot > 18 {
		ms, err = strconv.ParseInt(key[:dot], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%w %q: milliseconds out of range", ErrSortKey, clip(key))
		}
	}
	frac := key[dot+1:]
	if len(frac) == 0 || len(frac) > sortKeyDigits || frac[len(frac)-1] == '0' {
		return 0, 0, fmt.Errorf("%w %q: want 1-%d digits after the point, the last not 0", ErrSortKey, clip(key), sortKeyDigits)
	}
	if disc, end = appendDigits(0, frac, 0); end != len(frac) {
		return 0, 0, fmt.Errorf("%w %q: want digits after the point", ErrSortKey, clip(key))
	}
	for range sortKeyDigits - len(frac) {
		disc *= 10
	}
	return ms, disc, nil
}

// MillisRange returns inclusive range-key bounds selecting every raw point with
// from <= timestamp < to (milliseconds), for a KeyCondition BETWEEN.
func MillisRange(from, to int64) (lo, hi string) {
	return strconv.FormatInt(from, 10), strconv.FormatInt(to-1, 10) + "." + strings.Repeat("9", sortKeyDigits)
}

// FormatSortKey is the inverse of ParseSortKey: the canonical range key of
// (ms, disc), disc scaled to sortKeyDigits digits as ParseSortKey returns it.
// A partial keeps its first and last points as (ms, disc) and writes their
// keys back with it.
func FormatSortKey(ms int64, disc uint64) string {
	return string(appendKey(nil, ms, disc%discModulus))
}

// PartialSortKey returns the range key of the partial aggregate of one
// message's points of one symbol in the window starting at start:
// <window start ms>.<discriminator>, the discriminator hashed from the
// message's origin, the symbol and the range keys of those points in
// message order. The points' keys already hash their content, origin and
// position, so the same message delivered again yields the same key and its
// partial overwrites itself (it never counts twice), while two messages
// with different points get different keys. The form is a raw point's, so
// the partials of a window are the range BETWEEN of PartialRange.
func PartialSortKey(start int64, origin, symbol string, pointKeys []string) string {
	h := NewPartialHash(origin, symbol)
	for _, k := range pointKeys {
		h.Add(k)
	}
	return h.SortKey(start)
}

// PartialHash computes PartialSortKey incrementally, a point key at a time,
// so that the processor need not keep the keys of every group.
type PartialHash struct{ h uint64 }

// NewPartialHash starts the hash of a partial of symbol from origin.
func NewPartialHash(origin, symbol string) PartialHash {
	return PartialHash{fnvString(fnvString(fnvOffset64, origin), symbol)}
}

// Add adds the next point key, in message order.
func (p *PartialHash) Add(key string) {
	p.h = fnvString(p.h, key)
	p.h = fnvUint64(p.h, uint64(len(key))) // "1.2"+"3" must differ from "1.23"
}

// SortKey returns the partial's range key in the window starting at start.
func (p PartialHash) SortKey(start int64) string {
	return string(appendKey(nil, start, p.h%discModulus))
}

// PartialRange returns inclusive range-key bounds selecting every partial
// of the window starting at start.
func PartialRange(start int64) (lo, hi string) { return MillisRange(start, start+1) }
