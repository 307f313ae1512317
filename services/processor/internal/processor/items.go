package processor

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
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
	for i := range m.Points {
		p := &m.Points[i]
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
		if storableNumber(p.Price) && storableNumber(p.Bid) && storableNumber(p.Ask) {
			continue
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
	for i := range m.Bars {
		b := &m.Bars[i]
		if err := b.Validate(now); err != nil {
			return fmt.Errorf("bar %d: %w", i, err)
		}
		ms, _, err := marketdata.ParseSortKey(b.Key)
		if err != nil {
			return fmt.Errorf("bar %d: %w", i, err)
		}
		if ms != b.Start {
			return fmt.Errorf("bar %d: %w %.40q: not of the bar's start %d", i, marketdata.ErrSortKey, b.Key, b.Start)
		}
		if !storableNumber(b.VWAP) { // its prices are within Validate's bounds
			return fmt.Errorf("bar %d: vwap %v is outside DynamoDB's number range", i, b.VWAP)
		}
	}
	return nil
}

// barItems returns the raw bar items of m's bars, which passed
// checkMessage. They are kept, as raw points are, for audit and for the
// aggregator's from-raw repair path, which folds a window's raw bars with
// its raw points (a bar has no raw points to rebuild it from).
func barItems(m marketdata.Message, expiresAt int64) ([]dynamobatch.Item, error) {
	items := make([]dynamobatch.Item, 0, len(m.Bars))
	for _, b := range m.Bars {
		it, err := ddbitem.EncodeBar(marketdata.RawBarItem{Hash: marketdata.BarKey(b.Symbol), Key: b.Key, Bar: b.Bar,
			Origin: m.Origin, ExpiresAt: expiresAt})
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// traded returns the bars of bars that are not empty (Bar.Empty), bars
// itself when none is: an empty bar is stored as sent (barItems) but is no
// close for the latest state and changes no window.
func traded(bars []marketdata.QueuedBar) []marketdata.QueuedBar {
	if !slices.ContainsFunc(bars, marketdata.QueuedBar.Empty) {
		return bars
	}
	return slices.DeleteFunc(slices.Clone(bars), marketdata.QueuedBar.Empty)
}

// barCloses returns each bar's close as a point: at the bar's last
// millisecond, with the bar key's discriminator, at its close price. The
// latest state takes a bar's close as its last price at the bar's end (so
// a later trade, or a later bar, still wins by time), and the bar's window
// is the window of its end, which is its start's (a bar divides the window).
func barCloses(bars []marketdata.QueuedBar) []marketdata.QueuedPoint {
	out := make([]marketdata.QueuedPoint, len(bars))
	for i, b := range bars {
		_, disc, _ := marketdata.ParseSortKey(b.Key) // checked by checkMessage
		out[i] = marketdata.QueuedPoint{Key: marketdata.FormatSortKey(b.End(), disc),
			Point: marketdata.Point{Symbol: b.Symbol, Timestamp: b.End(), Price: b.Close, Volume: b.Volume}}
		out[i].SetTexts(b.CloseText, "", "") // the close as given
	}
	return out
}

// storableNumber reports whether DynamoDB can store v: zero, or a magnitude
// from 1e-130 up to (excluding) 1e126.
func storableNumber(v float64) bool {
	a := math.Abs(v)
	return a == 0 || a >= 1e-130 && a < 1e126
}

// rawItemBuilder turns decoded points into raw point items. It avoids the
// reflection of attributevalue.MarshalMap and most allocations: the text of
// a message's numbers is one string, and each item is a slot of an arena
// that is reused from batch to batch: its map and the AttributeValue members
// the map's values point to (building a 10-entry map costs more than
// everything else per point).
//
// Items are only valid until the arena is reset: nothing may modify them,
// nor keep them past the invocation (the SDK serialises them during the
// call).
type rawItemBuilder struct {
	expiresAt string
	arena     *itemArena
}

func newRawItemBuilder(now time.Time, arena *itemArena) rawItemBuilder {
	return rawItemBuilder{
		expiresAt: strconv.FormatInt(marketdata.ExpiresAt(now), 10),
		arena:     arena,
	}
}

// shape says which optional attributes an item has.
type shape uint8

const (
	hasBid shape = 1 << iota
	hasAsk
	hasExchange
	hasOrigin
	hasConditions
	shapes = 1 << iota
)

// itemSlot is one item and the members its map's values point to, each
// owned by this item alone. A slot handed out again for an item of the same
// shape already maps exactly that item's keys to its members, so building
// the item only writes the members' Values: no map assignment at all.
type itemSlot struct {
	item                     dynamobatch.Item
	symbol, exchange, origin types.AttributeValueMemberS
	conditions               types.AttributeValueMemberS
	key, ms, price, volume   types.AttributeValueMemberN
	bid, ask, expiresAt      types.AttributeValueMemberN
}

// itemArena hands out item slots, and takes them all back at once with
// reset. A Handler keeps arenas in a sync.Pool, so a warm Lambda container
// builds the items of a batch in the slots of the previous one.
//
// Slots are kept per shape, and reset need not clear anything. Until they
// are overwritten, the values of the previous batch stay reachable (a few
// MiB at most).
type itemArena struct {
	slots [shapes][]*itemSlot
	used  [shapes]int
	free  []itemSlot // the rest of the chunk new slots are taken from
	buf   []byte     // number text of one message
	ends  []int32    // where each number's text ends in buf
}

// slotChunk is the least number of slots a chunk holds.
const slotChunk = 1 << 9

// attrs is the number of attributes of an item of shape sh: symbol,
// timestamp, ms, price, volume and expiresAt, plus one per optional one.
func attrs(sh shape) int { return 6 + bits.OnesCount8(uint8(sh)) }

// slot returns a slot of shape sh, its members to be written. want is how
// many slots the message still needs, counting this one: a new chunk has
// room for all of them, so a container's first message allocates its
// slots at once, and allocates (and the runtime zeroes) only what it uses.
func (a *itemArena) slot(sh shape, want int) *itemSlot {
	if a.used[sh] < len(a.slots[sh]) {
		s := a.slots[sh][a.used[sh]]
		a.used[sh]++
		return s
	}
	if len(a.free) == 0 {
		a.free = make([]itemSlot, max(want, slotChunk))
	}
	s := &a.free[0]
	a.free = a.free[1:]
	// Sized to its shape, not to the most attributes: a map of at most 8
	// entries is one group of slots (two allocations, no table), while a
	// hint of 9 or more builds a table of 16 slots in four allocations.
	it := make(dynamobatch.Item, attrs(sh))
	it[marketdata.AttrSymbol] = &s.symbol
	it[marketdata.AttrTimestamp] = &s.key
	it[marketdata.AttrMillis] = &s.ms
	it[marketdata.AttrPrice] = &s.price
	it[marketdata.AttrVolume] = &s.volume
	it[marketdata.AttrExpiresAt] = &s.expiresAt
	if sh&hasBid != 0 {
		it[marketdata.AttrBid] = &s.bid
	}
	if sh&hasAsk != 0 {
		it[marketdata.AttrAsk] = &s.ask
	}
	if sh&hasExchange != 0 {
		it[marketdata.AttrExchange] = &s.exchange
	}
	if sh&hasOrigin != 0 {
		it[marketdata.AttrOrigin] = &s.origin
	}
	if sh&hasConditions != 0 {
		it[marketdata.AttrConditions] = &s.conditions
	}
	s.item = it
	if a.slots[sh] == nil {
		a.slots[sh] = make([]*itemSlot, 0, want)
	}
	a.slots[sh] = append(a.slots[sh], s)
	a.used[sh]++
	return s
}

// reset takes back every item handed out.
func (a *itemArena) reset() {
	a.used = [shapes]int{}
}

// numbers per point whose text is formatted: price, volume, bid, ask. The
// milliseconds are the range key's integer part: checkMessage made sure it
// is p.Timestamp in canonical form.
const formatted = 4

// textPerPoint is room for the formatted numbers of a typical point (prices
// of a few digits, a volume); more only regrows the buffer.
const textPerPoint = 32

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
	for i := range m.Points {
		p := &m.Points[i]
		buf = appendPrice(buf, p.Price, p.PriceText())
		ends = append(ends, int32(len(buf)))
		buf = append(buf, p.Volume.String()...) // canonical decimal text: checkMessage validated it
		ends = append(ends, int32(len(buf)))
		if p.Bid != 0 {
			buf = appendPrice(buf, p.Bid, p.BidText())
		}
		ends = append(ends, int32(len(buf)))
		if p.Ask != 0 {
			buf = appendPrice(buf, p.Ask, p.AskText())
		}
		ends = append(ends, int32(len(buf)))
	}
	text := string(buf)
	a.buf, a.ends = buf, ends

	var base shape
	if m.Origin != "" {
		base = hasOrigin
	}
	start := int32(0)
	for i := range m.Points {
		p := &m.Points[i]
		e := ends[i*formatted : i*formatted+formatted]
		price, volume, bid, ask := text[start:e[0]], text[e[0]:e[1]], text[e[1]:e[2]], text[e[2]:e[3]]
		start = e[3]
		ms := p.Key[:strings.IndexByte(p.Key, '.')]

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
		if p.Conditions != "" {
			sh |= hasConditions
		}
		// Every member is written, those of the attributes the shape
		// lacks too (with ""), so a slot holds nothing of an older item.
		s := a.slot(sh, n-i)
		s.symbol.Value = p.Symbol
		s.key.Value = p.Key
		s.ms.Value = ms
		s.price.Value = price
		s.volume.Value = volume
		s.bid.Value = bid
		s.ask.Value = ask
		s.exchange.Value = p.Exchange
		s.origin.Value = m.Origin
		s.conditions.Value = p.Conditions
		s.expiresAt.Value = b.expiresAt
		dst = append(dst, s.item)
	}
	return dst
}

// appendPrice writes the price v with its exact text (Point.PriceText,
// validated canonical by checkMessage): the text when there is one, so the
// item stores the price as given, else v's shortest text.
func appendPrice(b []byte, v float64, text string) []byte {
	if text != "" {
		return append(b, text...)
	}
	return appendNumber(b, v)
}

// priceNumber is appendPrice as a string.
func priceNumber(v float64, text string) string {
	if text != "" {
		return text
	}
	return string(appendNumber(nil, v))
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
//
// Most prices have two decimals, so k = 2 is tried first: when it holds,
// the smallest k is 2 less the trailing zeros of r (at most two), since
// r/10^k for that k is the same rational, so the same float.
func appendNumber(b []byte, v float64) []byte {
	if v > 0 && v < 1e13 {
		if r := math.Round(v * 100); r/100 == v {
			u, k := uint64(r), 2
			switch {
			case u%100 == 0:
				u, k = u/100, 0
			case u%10 == 0:
				u, k = u/10, 1
			}
			return appendScaled(b, u, k)
		}
	}
	if v > 0 && v < 1e15 {
		for k, p := range pow10 {
			r := math.Round(v * p)
			if r >= 1e15 {
				break
			}
			if r/p == v {
				return appendScaled(b, uint64(r), k)
			}
		}
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendScaled writes u·10^-k (u < 10^15, k <= 6) as a plain decimal,
// digits from the last: the point after k of them, and a leading "0." and
// zeros when u has no more than k.
func appendScaled(b []byte, u uint64, k int) []byte {
	var t [24]byte // 15 digits, the point and up to 6 zeros before them
	i := len(t)
	for d := 0; u > 0 || d <= k; d++ {
		if d == k && k > 0 {
			i--
			t[i] = '.'
		}
		i--
		t[i] = byte('0' + u%10)
		u /= 10
	}
	return append(b, t[i:]...)
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
		eff, _ := p.Effect()                          // checked by checkMessage (Validate)
		g.p.AddExact(ms, disc, p.Price, p.PriceText(), p.Volume, eff)
		g.hash.Add(p.Key)
	}
	for _, b := range m.Bars { // bars are one more summary to merge (Partial.AddBar)
		if b.Empty() {
			continue // it folds nothing: no partial for it alone
		}
		w := window{b.Symbol, marketdata.WindowStart(b.Start)}
		i, ok := index[w]
		if !ok {
			i = len(groups)
			index[w] = i
			groups = append(groups, group{window: w, hash: marketdata.NewPartialHash(m.Origin, b.Symbol)})
		}
		g := &groups[i]
		ms, disc, _ := marketdata.ParseSortKey(b.Key) // checked by checkMessage
		g.p.AddBar(ms, disc, b.Bar)
		g.hash.Add(b.Key)
	}
	for i := range groups {
		g := &groups[i]
		dst = append(dst, ddbitem.EncodePartial(g.p.Item(g.symbol, g.hash.SortKey(g.start), expiresAt)))
	}
	return dst
}
