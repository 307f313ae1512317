// Package dynamobatch puts many items into one DynamoDB table with
// BatchWriteItem and reports exactly which items were not stored.
//
// Items are sent in requests of at most limits.DynamoBatchWriteItems, several
// requests at a time (bounded). Items DynamoDB hands back as UnprocessedItems
// are sent again, alone, after a capped exponential backoff with full jitter,
// until they are stored, the attempts run out, or the next wait would pass the
// context's deadline. Errors of a whole request (after the SDK's own retries)
// fail that request's items; the other requests carry on.
//
// DynamoDB rejects a request holding two puts of the same key, so items are
// deduplicated by key first: items with equal keys are taken to be the same
// item (the last one is written, as sequential puts would leave it) and share
// one outcome. Keys are compared as written, so numbers in key attributes must
// be in one canonical form (no "1.50" next to "1.5").
package dynamobatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/shared/limits"
)

// API is the part of the DynamoDB client the writer uses.
type API interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Item is one item to put.
type Item = map[string]types.AttributeValue

// DefaultConcurrency is how many requests are in flight at once by default.
const DefaultConcurrency = 8

var (
	// ErrKey means an item lacks a key attribute or has one of a type keys
	// cannot have; such an item is never sent.
	ErrKey = errors.New("invalid key")
	// ErrUnprocessed means DynamoDB kept handing the item back unprocessed
	// until the attempts or the time ran out.
	ErrUnprocessed = errors.New("item still unprocessed")
)

// Writer puts items into one table. It is safe for concurrent use.
type Writer struct {
	client      API
	table       string
	keys        []string
	concurrency int
	backoff     backoff.Policy
}

// Option configures a Writer.
type Option func(*Writer)

// WithConcurrency bounds the requests in flight (default DefaultConcurrency).
func WithConcurrency(n int) Option {
	return func(w *Writer) {
		if n > 0 {
			w.concurrency = n
		}
	}
}

// WithBackoff sets the retry policy for unprocessed items (default: the
// zero backoff.Policy).
func WithBackoff(p backoff.Policy) Option { return func(w *Writer) { w.backoff = p } }

// New returns a writer to table, whose key attributes (hash, then range if
// any) are named keyAttrs.
func New(client API, table string, keyAttrs []string, opts ...Option) *Writer {
	w := &Writer{client: client, table: table, keys: slices.Clone(keyAttrs), concurrency: DefaultConcurrency}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Failure is an item that was not stored: its index in the slice given to
// Put, and why.
type Failure struct {
	Index int
	Err   error
}

// Result says how a Put went.
type Result struct {
	// Failures lists the items not stored, by ascending Index. Every other
	// item was stored.
	Failures []Failure
	// Requests is the number of BatchWriteItem calls made.
	Requests int
	// Resent is the number of items sent again after coming back unprocessed.
	Resent int
	// Duplicates is the number of items whose key an earlier item had.
	Duplicates int
}

// slot is one distinct key to write.
type slot struct {
	key  string
	item Item
}

// Put writes items and reports which were not stored. It never returns early:
// every item is either stored or listed in Result.Failures.
func (w *Writer) Put(ctx context.Context, items []Item) Result {
	var res Result
	slotOf := make([]int, len(items)) // item index -> slot, or -1
	slots := make([]slot, 0, len(items))
	first := make(map[string]int, len(items))
	var keyBuf []byte
	for i, it := range items {
		var err error
		keyBuf, err = w.appendKey(keyBuf[:0], it)
		if err != nil {
			slotOf[i] = -1
			res.Failures = append(res.Failures, Failure{Index: i, Err: err})
			continue
		}
		if s, ok := first[string(keyBuf)]; ok {
			slots[s].item = it // the last of equal items wins
			slotOf[i] = s
			res.Duplicates++
			continue
		}
		k := string(keyBuf)
		first[k] = len(slots)
		slotOf[i] = len(slots)
		slots = append(slots, slot{key: k, item: it})
	}

	slotErr := make([]error, len(slots))
	var (
		mu sync.Mutex
		g  errgroup.Group
	)
	g.SetLimit(w.concurrency)
	for lo := 0; lo < len(slots); lo += limits.DynamoBatchWriteItems {
		hi := min(lo+limits.DynamoBatchWriteItems, len(slots))
		g.Go(func() error {
			requests, resent := w.writeChunk(ctx, slots, lo, hi, slotErr)
			mu.Lock()
			res.Requests += requests
			res.Resent += resent
			mu.Unlock()
			return nil
		})
	}
	// A chunk's failure is its slots' (slotErr), never the group's: one
	// failed request must not stop the others, so every Go returns nil.
	_ = g.Wait()

	for i, s := range slotOf {
		if s >= 0 && slotErr[s] != nil {
			res.Failures = append(res.Failures, Failure{Index: i, Err: slotErr[s]})
		}
	}
	slices.SortFunc(res.Failures, func(a, b Failure) int { return a.Index - b.Index })
	return res
}

// writeChunk writes slots[lo:hi] with one request, then resends what comes
// back unprocessed. It records the error of each slot not stored in
// slotErr (each goroutine owns its range of it).
func (w *Writer) writeChunk(ctx context.Context, slots []slot, lo, hi int, slotErr []error) (requests, resent int) {
	pending := make([]int, 0, hi-lo)
	for s := lo; s < hi; s++ {
		pending = append(pending, s)
	}
	fail := func(idx []int, err error) {
		for _, s := range idx {
			slotErr[s] = err
		}
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			fail(pending, fmt.Errorf("not written: %w", err))
			return requests, resent
		}
		reqs := make([]types.WriteRequest, len(pending))
		for i, s := range pending {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: slots[s].item}}
		}
		out, err := w.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{w.table: reqs},
		})
		requests++
		if err != nil {
			fail(pending, fmt.Errorf("BatchWriteItem: %w", err))
			return requests, resent
		}
		left := w.unprocessed(out, slots, pending)
		if len(left) == 0 {
			return requests, resent
		}
		if err := w.backoff.Wait(ctx, attempt); err != nil {
			fail(left, fmt.Errorf("%w after %d attempts: %w", ErrUnprocessed, attempt, err))
			return requests, resent
		}
		resent += len(left)
		pending = left
	}
}

// unprocessed returns the pending slots DynamoDB handed back. Should it hand
// back anything it cannot match to a pending slot (say a key number in
// another form), all pending slots are taken as unprocessed: putting an item
// twice is harmless, losing one is not.
func (w *Writer) unprocessed(out *dynamodb.BatchWriteItemOutput, slots []slot, pending []int) []int {
	var left []int
	var keyBuf []byte
	for _, reqs := range out.UnprocessedItems {
		for _, r := range reqs {
			if r.PutRequest == nil {
				return pending
			}
			var err error
			keyBuf, err = w.appendKey(keyBuf[:0], r.PutRequest.Item)
			if err != nil {
				return pending
			}
			i := slices.IndexFunc(pending, func(s int) bool { return slots[s].key == string(keyBuf) })
			if i < 0 {
				return pending
			}
			if !slices.Contains(left, pending[i]) {
				left = append(left, pending[i])
			}
		}
	}
	return left
}

// appendKey appends an unambiguous rendering of item's key to b: per key
// attribute its type, the length of its value and the value.
func (w *Writer) appendKey(b []byte, item Item) ([]byte, error) {
	for _, name := range w.keys {
		var typ byte
		var val string
		switch v := item[name].(type) {
		case *types.AttributeValueMemberS:
			typ, val = 'S', v.Value
		case *types.AttributeValueMemberN:
			typ, val = 'N', v.Value
		case *types.AttributeValueMemberB:
			typ, val = 'B', string(v.Value)
		case nil:
			return b, fmt.Errorf("%w: no attribute %q", ErrKey, name)
		default:
			return b, fmt.Errorf("%w: attribute %q is a %T, not S, N or B", ErrKey, name, v)
		}
		if val == "" {
			return b, fmt.Errorf("%w: attribute %q is empty", ErrKey, name)
		}
		b = append(b, typ)
		b = strconv.AppendInt(b, int64(len(val)), 10)
		b = append(b, ':')
		b = append(b, val...)
	}
	return b, nil
}
