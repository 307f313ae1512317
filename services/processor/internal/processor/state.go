package processor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// symbolChange is what one invocation adds to a symbol's latest state.
type symbolChange struct {
	last  marketdata.QueuedPoint // the point with the greatest range key
	key   sortKey                // last's range key, parsed
	count int64
	msgs  []int // contributing messages, ascending
}

// windowChange is one (symbol, window) pair the invocation changed.
type windowChange struct {
	ref  marketdata.WindowRef
	msgs []int // contributing messages, ascending
}

// changes are the state, index and event updates an invocation makes.
type changes struct {
	symbols map[string]*symbolChange
	windows map[marketdata.WindowRef]*windowChange
}

// sortKey is a parsed range key: (ms, disc) pairs order keys as DynamoDB
// orders them (see marketdata.ParseSortKey).
type sortKey struct {
	ms   int64
	disc uint64
}

func (k sortKey) compare(o sortKey) int {
	return cmp.Or(cmp.Compare(k.ms, o.ms), cmp.Compare(k.disc, o.disc))
}

// parseKeys parses the range keys of points into dst[:0].
func parseKeys(dst []sortKey, points []marketdata.QueuedPoint) ([]sortKey, error) {
	dst = dst[:0]
	for _, p := range points {
		ms, disc, err := marketdata.ParseSortKey(p.Key)
		if err != nil {
			return dst, err
		}
		dst = append(dst, sortKey{ms, disc})
	}
	return dst, nil
}

// collectChanges gathers the changes from the messages that have not failed.
func collectChanges(b *batch) *changes {
	ch := &changes{symbols: map[string]*symbolChange{}, windows: map[marketdata.WindowRef]*windowChange{}}
	var (
		prevSym *symbolChange
		prevWin *windowChange
		keys    []sortKey
		err     error
	)
	for i, m := range b.msgs {
		if m.err != nil {
			continue
		}
		// checkMessage has parsed every key of a message that did not
		// fail; should one not parse, its message fails before any of its
		// points counts.
		points := m.points
		if len(m.closes) > 0 { // a bar counts as its close (barCloses)
			points = append(slices.Clip(m.points), m.closes...)
		}
		if keys, err = parseKeys(keys, points); err != nil {
			b.fail(i, err)
			continue
		}
		prevSym, prevWin = nil, nil
		for j, p := range points {
			s := prevSym
			if s == nil || s.last.Symbol != p.Symbol {
				s = ch.symbols[p.Symbol]
				if s == nil {
					s = &symbolChange{last: p, key: keys[j]}
					ch.symbols[p.Symbol] = s
				}
				prevSym = s
			}
			if keys[j].compare(s.key) > 0 {
				s.last, s.key = p, keys[j]
			}
			s.count++
			s.msgs = addMsg(s.msgs, i)

			ref := marketdata.WindowRef{Symbol: p.Symbol, Start: marketdata.WindowStart(p.Timestamp)}
			w := prevWin
			if w == nil || w.ref != ref {
				w = ch.windows[ref]
				if w == nil {
					w = &windowChange{ref: ref}
					ch.windows[ref] = w
				}
				prevWin = w
			}
			w.msgs = addMsg(w.msgs, i)
		}
	}
	return ch
}

// addMsg appends message i unless it is already last (points of one message
// are visited together, so the lists stay sorted and free of duplicates).
func addMsg(msgs []int, i int) []int {
	if n := len(msgs); n > 0 && msgs[n-1] == i {
		return msgs
	}
	return append(msgs, i)
}

// windowRefs returns the changed windows that still have a contributing
// message that has not failed, with only those messages, sorted by symbol
// and start.
func (ch *changes) windowRefs(b *batch) []windowChange {
	var out []windowChange
	for _, w := range ch.windows {
		var msgs []int
		for _, i := range w.msgs {
			if b.ok(i) {
				msgs = append(msgs, i)
			}
		}
		if len(msgs) > 0 {
			out = append(out, windowChange{ref: w.ref, msgs: msgs})
		}
	}
	slices.SortFunc(out, func(x, y windowChange) int {
		return cmp.Or(strings.Compare(x.ref.Symbol, y.ref.Symbol), cmp.Compare(x.ref.Start, y.ref.Start))
	})
	return out
}

// updateState makes one conditional update of the latest state per symbol
// and one update of the active-symbols index per window start from
// marketdata.IndexHorizon(now) on, never one per point: only the schedule
// reads the index, and it reads no older window, so a backfill spanning
// thousands of windows costs no more updates than a live batch (its windows
// reach the aggregator through the events, which name every window). A
// failed update fails the messages that contributed to it. It returns the
// number of UpdateItem requests and of window starts indexed.
func (h *Handler) updateState(ctx context.Context, b *batch, ch *changes, now time.Time) (requests, indexed int) {
	type task struct {
		what string
		msgs []int
		run  func() (requests int, err error)
	}
	var tasks []task
	updatedAt := &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)}
	expiresAt := &types.AttributeValueMemberN{Value: strconv.FormatInt(marketdata.ExpiresAt(now), 10)}

	for _, sym := range slices.Sorted(maps.Keys(ch.symbols)) {
		s := ch.symbols[sym]
		tasks = append(tasks, task{"latest state of " + sym, s.msgs, func() (int, error) {
			return h.updateSymbol(ctx, sym, s, now, updatedAt, expiresAt)
		}})
	}

	active := map[int64]*windowChange{} // per window start: symbols (as refs) and messages
	symbols := map[int64][]string{}
	horizon := marketdata.IndexHorizon(now)
	for _, w := range ch.windows {
		if w.ref.Start < horizon {
			continue
		}
		a := active[w.ref.Start]
		if a == nil {
			a = &windowChange{}
			active[w.ref.Start] = a
		}
		a.msgs = append(a.msgs, w.msgs...)
		symbols[w.ref.Start] = append(symbols[w.ref.Start], w.ref.Symbol)
	}
	for _, start := range slices.Sorted(maps.Keys(active)) {
		a := active[start]
		slices.Sort(a.msgs)
		msgs := slices.Compact(a.msgs)
		syms := symbols[start]
		slices.Sort(syms)
		tasks = append(tasks, task{"active symbols of window " + strconv.FormatInt(start, 10), msgs, func() (int, error) {
			return 1, h.markActive(ctx, start, syms, expiresAt)
		}})
	}

	var n atomic.Int64
	forEach(len(tasks), h.cfg.UpdateConcurrency, func(i int) {
		r, err := tasks[i].run()
		n.Add(int64(r))
		if err != nil {
			for _, m := range tasks[i].msgs {
				b.fail(m, fmt.Errorf("update %s: %w", tasks[i].what, err))
			}
		}
	})
	return int(n.Load()), len(active)
}

// State update expressions. The first moves "last" forward only: it applies
// when the stored latest key is absent or smaller than this invocation's, so
// points arriving out of order (older batch after newer one, retries, two
// concurrent invocations) never move it backwards. When its condition fails
// the item already holds a later point, and the second update only counts.
const (
	stateAdvance = "SET #price = :price, #ms = :ms, #key = :key, #upd = :upd, #exp = :exp ADD #n :n"
	stateIfNewer = "attribute_not_exists(#key) OR #key < :key"
	stateCount   = "SET #upd = :upd, #exp = :exp ADD #n :n"
)

// updateSymbol advances sym's latest state (one or two UpdateItem requests)
// and, when the state did not exist or was last updated on an earlier UTC
// day (its old updatedAt, returned by the update), writes sym's item of the
// symbols index: about one index write per symbol per day.
func (h *Handler) updateSymbol(ctx context.Context, sym string, s *symbolChange, now time.Time, updatedAt, expiresAt types.AttributeValue) (int, error) {
	n, old, err := h.advanceState(ctx, sym, s, updatedAt, expiresAt)
	if err != nil || !indexDue(old, now) {
		return n, err
	}
	return n + 1, h.indexSymbol(ctx, sym, now)
}

// indexDue reports whether a state whose previous update was at old (epoch
// ms; 0 for a new state) needs its symbol's index item written at now.
func indexDue(old int64, now time.Time) bool {
	const day = 24 * time.Hour
	return old <= 0 || time.UnixMilli(old).UTC().Truncate(day) != now.UTC().Truncate(day)
}

// indexSymbol writes sym's item of the symbols index. Its TTL is a day
// beyond the state's at now: the item is rewritten at most daily while the
// state's TTL moves on every batch, so it outlives the state it lists.
func (h *Handler) indexSymbol(ctx context.Context, sym string, now time.Time) error {
	rng, err := marketdata.SymbolIndexKey(sym)
	if err != nil {
		return err
	}
	_, err = h.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.cfg.Table),
		Key: map[string]types.AttributeValue{
			marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: marketdata.SymbolsIndex},
			marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: rng},
		},
		UpdateExpression:         aws.String(indexSet),
		ExpressionAttributeNames: map[string]string{"#name": marketdata.AttrIndexedSymbol, "#exp": marketdata.AttrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":name": &types.AttributeValueMemberS{Value: sym},
			":exp":  &types.AttributeValueMemberN{Value: strconv.FormatInt(marketdata.ExpiresAt(now.Add(24*time.Hour)), 10)},
		},
	})
	return err
}

// indexSet writes a symbols-index item (idempotent).
const indexSet = "SET #name = :name, #exp = :exp"

// advanceState makes the state updates of updateSymbol; old is the state's
// previous updatedAt (0 when it did not exist).
func (h *Handler) advanceState(ctx context.Context, sym string, s *symbolChange, updatedAt, expiresAt types.AttributeValue) (requests int, old int64, err error) {
	key := ddbitem.StateKey(sym)
	count := &types.AttributeValueMemberN{Value: strconv.FormatInt(s.count, 10)}
	out, err := h.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(h.cfg.Table),
		Key:                 key,
		UpdateExpression:    aws.String(stateAdvance),
		ConditionExpression: aws.String(stateIfNewer),
		ReturnValues:        types.ReturnValueUpdatedOld,
		ExpressionAttributeNames: map[string]string{
			"#price": marketdata.AttrLastPrice, "#ms": marketdata.AttrLastMillis, "#key": marketdata.AttrLastKey,
			"#upd": marketdata.AttrUpdatedAt, "#exp": marketdata.AttrExpiresAt, "#n": marketdata.AttrPointCount,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":price": &types.AttributeValueMemberN{Value: priceNumber(s.last.Price, s.last.PriceText())},
			":ms":    &types.AttributeValueMemberN{Value: strconv.FormatInt(s.last.Timestamp, 10)},
			":key":   &types.AttributeValueMemberN{Value: s.last.Key},
			":upd":   updatedAt, ":exp": expiresAt, ":n": count,
		},
	})
	var stale *types.ConditionalCheckFailedException
	if !errors.As(err, &stale) {
		return 1, updatedBefore(out), err
	}
	out, err = h.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(h.cfg.Table),
		Key:              key,
		UpdateExpression: aws.String(stateCount),
		ReturnValues:     types.ReturnValueUpdatedOld,
		ExpressionAttributeNames: map[string]string{
			"#upd": marketdata.AttrUpdatedAt, "#exp": marketdata.AttrExpiresAt, "#n": marketdata.AttrPointCount,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":upd": updatedAt, ":exp": expiresAt, ":n": count},
	})
	return 2, updatedBefore(out), err
}

// updatedBefore returns the updatedAt (epoch ms) an UPDATED_OLD answer
// holds, 0 when there is none (the item was new) or it is unreadable (the
// index is then written again, which is harmless).
func updatedBefore(out *dynamodb.UpdateItemOutput) int64 {
	if out == nil {
		return 0
	}
	v, ok := out.Attributes[marketdata.AttrUpdatedAt].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	ms, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0
	}
	return ms
}

// activeAdd adds symbols to a window's entry of the active-symbols index,
// which the aggregator's schedule reads to find the symbols of a window
// without a Scan. Adding to a string set is idempotent.
const activeAdd = "ADD #syms :syms SET #exp = :exp"

func (h *Handler) markActive(ctx context.Context, start int64, symbols []string, expiresAt types.AttributeValue) error {
	_, err := h.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.cfg.Table),
		Key: map[string]types.AttributeValue{
			marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: marketdata.ActiveWindows},
			marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: strconv.FormatInt(start, 10)},
		},
		UpdateExpression:         aws.String(activeAdd),
		ExpressionAttributeNames: map[string]string{"#syms": marketdata.AttrActiveSymbols, "#exp": marketdata.AttrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":syms": &types.AttributeValueMemberSS{Value: symbols},
			":exp":  expiresAt,
		},
	})
	return err
}
