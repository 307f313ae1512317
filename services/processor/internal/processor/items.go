package processor

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/services/platform/dynamobatch"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// checkMessage re-validates every point of a decoded message, as a defence:
// ingestion validated them, but a message that would fail in DynamoDB must
// fail alone here rather than take the other items of its BatchWriteItem
// requests down with it.
func checkMessage(m marketdata.Message, now time.Time) error {
	for i, p := range m.Points {
		if err := p.Validate(now); err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
		// The key must be a range key of this very point's millisecond:
		// the item's ms attribute and the window it is announced in come
		// from p.Timestamp, its place in the table from the key.
		ms, _, err := marketdata.ParseSortKey(p.Key)
		if err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
		if ms != p.Timestamp {
			return fmt.Errorf("point %d: %w %.40q: not of the point's millisecond %d", i, marketdata.ErrSortKey, p.Key, p.Timestamp)
		}
		for _, v := range [...]struct {
			name string
			v    float64
		}{{marketdata.AttrPrice, p.Price}, {marketdata.AttrBid, p.Bid}, {marketdata.AttrAsk, p.Ask}} {
			if !storableNumber(v.v) {
				return fmt.Errorf("point %d: %s %v is outside DynamoDB's number range", i, v.name, v.v)
			}
		}
	}
	return nil
}

// storableNumber reports whether DynamoDB can store v: zero, or a magnitude
// from 1e-130 up to (excluding) 1e126.
func storableNumber(v float64) bool {
	a := math.Abs(v)
	return a == 0 || a >= 1e-130 && a < 1e126
}

// rawItemBuilder turns decoded points into raw point items. It avoids the
// reflection of attributevalue.MarshalMap and most allocations: values
// shared by many items (TTL, origin, symbol, exchange) are one AttributeValue
// each, the text of a message's numbers is one string, and the item maps and
// numeric members come from an arena that is reused from batch to batch
// (building a 10-entry map costs more than everything else per point).
//
// Items may therefore share AttributeValues, and they are only valid until
// the arena is reset: nothing may modify them, nor keep them past the
// invocation (the SDK serialises them during the call).
type rawItemBuilder struct {
	expiresAt types.AttributeValue
	arena     *itemArena
}

func newRawItemBuilder(now time.Time, arena *itemArena) rawItemBuilder {
	return rawItemBuilder{
		expiresAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(marketdata.ExpiresAt(now), 10)},
		arena:     arena,
	}
}

// maxAttrs is the most attributes a raw point item has.
const maxAttrs = 10

// shape says which optional attributes an item has.
type shape uint8

const (
	hasBid shape = 1 << iota
	hasAsk
	hasExchange
	hasOrigin
	shapes = 1 << iota
)

// itemArena hands out item maps and numeric members, and takes them all back
// at once with reset. A Handler keeps arenas in a sync.Pool, so a warm Lambda
// container builds the items of a batch in the maps of the previous one.
//
// Maps are kept per shape: a map handed out again for an item of the same
// shape already has exactly that item's keys, so building the item only
// overwrites values, and reset need not clear anything. Until they are
// overwritten, the values of the previous batch stay reachable (a few MiB
// at most).
type itemArena struct {
	maps    [shapes][]dynamobatch.Item
	used    [shapes]int
	nums    [][]types.AttributeValueMemberN // chunks; never regrown, so pointers stay valid
	chunk   int                             // the chunk members are taken from
	numUsed int                             // members taken from it
	buf     []byte                          // number text of one message
	ends    []int32                         // where each number's text ends in buf
}

// numChunk is the least number of numeric members a chunk holds.
const numChunk = 1 << 12

// attrs is the number of attributes of an item of shape sh: symbol,
// timestamp, ms, price, volume and expiresAt, plus one per optional one.
func attrs(sh shape) int { return 6 + bits.OnesCount8(uint8(sh)) }

// item returns a map holding exactly the keys of shape sh (with stale
// values), or an empty one.
//
// A new map is sized to its shape, not to maxAttrs: a map of at most 8
// entries is one group of slots (one allocation, no table), while a hint
// of 9 or more builds a table of 16 slots in four allocations, which is
// most of what a container's first batch spends per point.
func (a *itemArena) item(sh shape) dynamobatch.Item {
	if a.used[sh] == len(a.maps[sh]) {
		a.maps[sh] = append(a.maps[sh], make(dynamobatch.Item, attrs(sh)))
	}
	m := a.maps[sh][a.used[sh]]
	a.used[sh]++
	return m
}

// reserve makes sure the current chunk has n members left, moving to the
// next chunk (allocated with room for at least n) if not, so that num never
// checks for room.
//
// A chunk of at least n rather than a fixed size: a container's first
// message allocates (and the runtime zeroes) only what it uses.
func (a *itemArena) reserve(n int) {
	if a.chunk < len(a.nums) && len(a.nums[a.chunk])-a.numUsed >= n {
		return
	}
	if a.chunk < len(a.nums) && a.numUsed > 0 {
		a.chunk, a.numUsed = a.chunk+1, 0
	}
	for a.chunk < len(a.nums) && len(a.nums[a.chunk]) < n {
		a.chunk++ // too small for this message: kept for later ones
	}
	if a.chunk == len(a.nums) {
		a.nums = append(a.nums, make([]types.AttributeValueMemberN, max(n, numChunk)))
	}
}

// num takes one member from the current chunk; reserve made room for it.
func (a *itemArena) num(s string) *types.AttributeValueMemberN {
	v := &a.nums[a.chunk][a.numUsed]
	v.Value = s
	a.numUsed++
	return v
}

// reset takes back every item and member handed out.
func (a *itemArena) reset() {
	a.used = [shapes]int{}
	a.chunk, a.numUsed = 0, 0
}

// numbers per point whose text is formatted: milliseconds, price, volume,
// bid, ask.
const formatted = 5

// textPerPoint is room for the formatted numbers of a typical point
// (13-digit milliseconds, prices of a few digits, a volume); more only
// regrows the buffer.
const textPerPoint = 40

// appendItems appends one item per point of m to dst. The points must have
// passed checkMessage.
func (b rawItemBuilder) appendItems(dst []dynamobatch.Item, m marketdata.Message) []dynamobatch.Item {
	n := len(m.Points)
	if n == 0 {
		return dst
	}
	a := b.arena
	// The text of every formatted number, in one buffer, then one string.
	// Both are sized for the message up front: a new arena's would
	// otherwise be regrown (and copied) a dozen times.
	if cap(a.ends) < n*formatted {
		a.ends = make([]int32, 0, n*formatted)
	}
	if want := n * textPerPoint; cap(a.buf) < want {
		a.buf = make([]byte, 0, want)
	}
	buf, ends := a.buf[:0], a.ends[:0]
	for _, p := range m.Points {
		buf = strconv.AppendInt(buf, p.Timestamp, 10) // checkMessage: the key's milliseconds
		ends = append(ends, int32(len(buf)))
		buf = appendNumber(buf, p.Price)
		ends = append(ends, int32(len(buf)))
		buf = strconv.AppendInt(buf, p.Volume, 10)
		ends = append(ends, int32(len(buf)))
		if p.Bid != 0 {
			buf = appendNumber(buf, p.Bid)
		}
		ends = append(ends, int32(len(buf)))
		if p.Ask != 0 {
			buf = appendNumber(buf, p.Ask)
		}
		ends = append(ends, int32(len(buf)))
	}
	text := string(buf)
	a.buf, a.ends = buf, ends
	a.reserve(n * (formatted + 1)) // the formatted numbers and the range key

	var origin types.AttributeValue
	var base shape
	if m.Origin != "" {
		origin = &types.AttributeValueMemberS{Value: m.Origin}
		base = hasOrigin
	}
	strs := map[string]*types.AttributeValueMemberS{} // symbols and exchanges
	str := func(s string) *types.AttributeValueMemberS {
		v, ok := strs[s]
		if !ok {
			v = &types.AttributeValueMemberS{Value: s}
			strs[s] = v
		}
		return v
	}

	start := int32(0)
	for i, p := range m.Points {
		e := ends[i*formatted : i*formatted+formatted]
		ms, price, volume, bid, ask := text[start:e[0]], text[e[0]:e[1]], text[e[1]:e[2]], text[e[2]:e[3]], text[e[3]:e[4]]
		start = e[4]

		sh := base
		if bid != "" {
			sh |= hasBid
		}
		if ask != "" {
			sh |= hasAsk
		}
		if p.Exchange != "" {
			sh |= hasExchange
		}
		it := a.item(sh)
		it[marketdata.AttrSymbol] = str(p.Symbol)
		it[marketdata.AttrTimestamp] = a.num(p.Key)
		it[marketdata.AttrMillis] = a.num(ms)
		it[marketdata.AttrPrice] = a.num(price)
		it[marketdata.AttrVolume] = a.num(volume)
		if sh&hasBid != 0 {
			it[marketdata.AttrBid] = a.num(bid)
		}
		if sh&hasAsk != 0 {
			it[marketdata.AttrAsk] = a.num(ask)
		}
		if sh&hasExchange != 0 {
			it[marketdata.AttrExchange] = str(p.Exchange)
		}
		if sh&hasOrigin != 0 {
			it[marketdata.AttrOrigin] = origin
		}
		it[marketdata.AttrExpiresAt] = b.expiresAt
		dst = append(dst, it)
	}
	return dst
}

// pow10 are the scales appendNumber tries.
var pow10 = [...]float64{1, 10, 100, 1000, 10000, 100000, 1000000}

// appendNumber writes v in DynamoDB's canonical number form: plain decimal,
// no exponent, no trailing zeros, the shortest text that reads back as v
// (strconv's 'f' format with precision -1). What is read back from the table
// is then the very same text.
//
// Prices mostly have a few decimals, which a shortcut formats as an integer:
// if r/10^k == v for the integer r = round(v·10^k), then r·10^-k is the
// decimal with the fewest digits that reads back as v (float division and
// decimal parsing both round the same rational to the nearest float, and
// below 10^15 two k-decimal numbers never share a float), i.e. exactly what
// strconv would write. A test compares the two on many values.
func appendNumber(b []byte, v float64) []byte {
	if v > 0 && v < 1e15 {
		for k, p := range pow10 {
			r := math.Round(v * p)
			if r >= 1e15 {
				break
			}
			if r/p != v {
				continue
			}
			n := len(b)
			b = strconv.AppendUint(b, uint64(r), 10)
			if k == 0 {
				return b
			}
			digits := len(b) - n
			if digits <= k { // 0.000ddd: pad with zeros after "0."
				pad := k - digits + 2
				b = append(b, make([]byte, pad)...)
				copy(b[n+pad:], b[n:n+digits])
				b[n], b[n+1] = '0', '.'
				for i := n + 2; i < n+pad; i++ {
					b[i] = '0'
				}
				return b
			}
			b = append(b, 0)
			copy(b[len(b)-k:], b[len(b)-k-1:len(b)-1])
			b[len(b)-k-1] = '.'
			return b
		}
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendPartials appends the partial aggregate items of m to dst: one per
// (symbol, window) its points touch, in the order of their first point,
// keyed by marketdata.PartialSortKey (the message's origin and the keys of
// those points), so a redelivered message overwrites its own partials. The
// points must have passed checkMessage. Items are built by hand
// (ddbitem.EncodePartial): sparse data makes one per point.
func appendPartials(dst []dynamobatch.Item, m marketdata.Message, expiresAt int64) []dynamobatch.Item {
	type window struct {
		symbol string
		start  int64
	}
	type group struct {
		window
		p    marketdata.Partial
		hash marketdata.PartialHash
	}
	// Groups by value, in the order of their first point: a Partial is
	// only copied (when the slice grows) before its sums use math/big.
	groups := make([]group, 0, 8)
	index := make(map[window]int, 8)
	last := -1 // points of one group often follow each other
	for _, p := range m.Points {
		w := window{p.Symbol, marketdata.WindowStart(p.Timestamp)}
		if last < 0 || groups[last].window != w {
			i, ok := index[w]
			if !ok {
				i = len(groups)
				index[w] = i
				groups = append(groups, group{window: w, hash: marketdata.NewPartialHash(m.Origin, p.Symbol)})
			}
			last = i
		}
		g := &groups[last]
		ms, disc, _ := marketdata.ParseSortKey(p.Key) // checked by checkMessage
		g.p.Add(ms, disc, p.Price, p.Volume)
		g.hash.Add(p.Key)
	}
	for i := range groups {
		g := &groups[i]
		dst = append(dst, ddbitem.EncodePartial(g.p.Item(g.symbol, g.hash.SortKey(g.start), expiresAt)))
	}
	return dst
}
