package dynamobatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/backoff"
)

const table = "MarketDataState-test"

var keyAttrs = []string{"symbol", "timestamp"}

// item i has the key (AAPL, i).
func item(i int) Item {
	return Item{
		"symbol":    &types.AttributeValueMemberS{Value: "AAPL"},
		"timestamp": &types.AttributeValueMemberN{Value: strconv.Itoa(i) + ".5"},
		"price":     &types.AttributeValueMemberN{Value: strconv.Itoa(100 + i)},
	}
}

func items(n int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = item(i)
	}
	return out
}

func keyOf(it Item) string { return it["timestamp"].(*types.AttributeValueMemberN).Value }

// fakeDB answers BatchWriteItem with respond, which sees how often each key
// was sent before (this request included) and returns the keys to hand back
// unprocessed, or an error for the whole request.
type fakeDB struct {
	respond func(seen map[string]int, keys []string) (unprocessed []string, err error)
	delay   time.Duration

	mu       sync.Mutex
	seen     map[string]int
	requests [][]string

	inFlight, maxInFlight atomic.Int32
}

func (f *fakeDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(f.delay)
	if len(in.RequestItems) != 1 {
		return nil, fmt.Errorf("want one table, got %d", len(in.RequestItems))
	}
	reqs := in.RequestItems[table]
	if len(reqs) == 0 || len(reqs) > 25 {
		return nil, fmt.Errorf("ValidationException: %d write requests", len(reqs))
	}
	byKey := map[string]types.WriteRequest{}
	var keys []string
	for _, r := range reqs {
		k := keyOf(r.PutRequest.Item)
		if _, dup := byKey[k]; dup {
			return nil, errors.New("ValidationException: Provided list of item keys contains duplicates")
		}
		byKey[k] = r
		keys = append(keys, k)
	}
	f.mu.Lock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	for _, k := range keys {
		f.seen[k]++
	}
	f.requests = append(f.requests, keys)
	seen := maps(f.seen)
	f.mu.Unlock()

	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	if f.respond == nil {
		return out, nil
	}
	un, err := f.respond(seen, keys)
	if err != nil {
		return nil, err
	}
	for _, k := range un {
		// DynamoDB hands back fresh copies of the requests.
		r := byKey[k]
		cp := Item{}
		for a, v := range r.PutRequest.Item {
			cp[a] = v
		}
		out.UnprocessedItems[table] = append(out.UnprocessedItems[table], types.WriteRequest{PutRequest: &types.PutRequest{Item: cp}})
	}
	return out, nil
}

func maps(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func key(i int) string { return strconv.Itoa(i) + ".5" }

// unprocessedWhile hands back the keys of idx while they were sent at most
// times times.
func unprocessedWhile(times int, idx ...int) func(map[string]int, []string) ([]string, error) {
	return func(seen map[string]int, keys []string) ([]string, error) {
		var un []string
		for _, k := range keys {
			for _, i := range idx {
				if k == key(i) && seen[k] <= times {
					un = append(un, k)
				}
			}
		}
		return un, nil
	}
}

func TestPut(t *testing.T) {
	boom := errors.New("InternalServerError")
	tests := []struct {
		name         string
		items        []Item
		attempts     int
		respond      func(map[string]int, []string) ([]string, error)
		wantFailed   []int
		wantErr      []error // each failure's error wraps all of these
		wantRequests int
		wantResent   int
		wantDups     int
		wantSleeps   int
	}{
		{
			name:         "all stored, 25 per request",
			items:        items(60),
			wantRequests: 3,
		},
		{
			name:         "unprocessed twice, then stored",
			items:        items(30),
			attempts:     5,
			respond:      unprocessedWhile(2, 3, 7, 26),
			wantRequests: 2 + 2 + 2, // each chunk: first send and two resends
			wantResent:   3 * 2,
			wantSleeps:   2 + 2,
		},
		{
			name:         "given up: exactly the items still unprocessed fail",
			items:        items(30),
			attempts:     4,
			respond:      unprocessedWhile(1000, 4, 11, 27),
			wantFailed:   []int{4, 11, 27},
			wantErr:      []error{ErrUnprocessed, backoff.ErrExhausted},
			wantRequests: 4 + 4,
			wantResent:   3 * 3,
			wantSleeps:   3 + 3,
		},
		{
			name:     "a request error fails its chunk only",
			items:    items(60),
			attempts: 3,
			respond: func(_ map[string]int, keys []string) ([]string, error) {
				if slices.Contains(keys, key(30)) {
					return nil, boom
				}
				return nil, nil
			},
			wantFailed:   seq(25, 50),
			wantErr:      []error{boom},
			wantRequests: 3,
		},
		{
			name:     "duplicates are written once and share the outcome",
			items:    append(items(30), item(3), item(29)),
			attempts: 2,
			respond: func(_ map[string]int, keys []string) ([]string, error) {
				if slices.Contains(keys, key(3)) {
					return nil, boom
				}
				return nil, nil
			},
			wantFailed:   append(seq(0, 25), 30),
			wantErr:      []error{boom},
			wantRequests: 2,
			wantDups:     2,
		},
		{
			name: "an item without a key fails alone and is never sent",
			items: append(items(3), Item{"symbol": &types.AttributeValueMemberS{Value: "AAPL"}},
				Item{"symbol": &types.AttributeValueMemberS{Value: "AAPL"}, "timestamp": &types.AttributeValueMemberS{Value: ""}},
				Item{"symbol": &types.AttributeValueMemberS{Value: "AAPL"}, "timestamp": &types.AttributeValueMemberBOOL{Value: true}}),
			wantFailed:   []int{3, 4, 5},
			wantErr:      []error{ErrKey},
			wantRequests: 1,
		},
		{
			name:  "nothing to do",
			items: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := &fakeDB{respond: tc.respond}
			var sleeps atomic.Int32
			w := New(db, table, keyAttrs, WithConcurrency(4), WithBackoff(backoff.Policy{
				Attempts: tc.attempts,
				Sleep:    func(context.Context, time.Duration) error { sleeps.Add(1); return nil },
			}))
			res := w.Put(context.Background(), tc.items)

			var failed []int
			for _, f := range res.Failures {
				failed = append(failed, f.Index)
				for _, want := range tc.wantErr {
					if !errors.Is(f.Err, want) {
						t.Errorf("item %d: error %v does not wrap %v", f.Index, f.Err, want)
					}
				}
			}
			if !slices.Equal(failed, tc.wantFailed) {
				t.Fatalf("failed items %v, want %v", failed, tc.wantFailed)
			}
			if res.Requests != tc.wantRequests || len(db.requests) != tc.wantRequests {
				t.Errorf("requests: result says %d, fake saw %d, want %d", res.Requests, len(db.requests), tc.wantRequests)
			}
			if res.Resent != tc.wantResent {
				t.Errorf("resent %d, want %d", res.Resent, tc.wantResent)
			}
			if got := int(sleeps.Load()); got != tc.wantSleeps {
				t.Errorf("backoff sleeps %d, want %d (one before each resend)", got, tc.wantSleeps)
			}
			if res.Duplicates != tc.wantDups {
				t.Errorf("duplicates %d, want %d", res.Duplicates, tc.wantDups)
			}
			// Every item not reported failed was sent at least once.
			for i, it := range tc.items {
				if slices.Contains(tc.wantFailed, i) {
					continue
				}
				if db.seen[keyOf(it)] == 0 {
					t.Errorf("item %d reported stored but never sent", i)
				}
			}
		})
	}
}

func seq(lo, hi int) []int {
	var s []int
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func TestPutResendsOnlyUnprocessedItems(t *testing.T) {
	db := &fakeDB{respond: unprocessedWhile(2, 5, 6)}
	var slept []time.Duration
	w := New(db, table, keyAttrs, WithBackoff(backoff.Policy{
		Base: 100 * time.Millisecond, Attempts: 5,
		Rand:  func(n int64) int64 { return n - 1 }, // the top of the jitter range
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
	}))
	res := w.Put(context.Background(), items(10))
	if len(res.Failures) != 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	want := [][]string{keysOf(items(10)), {key(5), key(6)}, {key(5), key(6)}}
	if !slices.EqualFunc(db.requests, want, slices.Equal) {
		t.Fatalf("requests %v, want %v", db.requests, want)
	}
	wantSlept := []time.Duration{100*time.Millisecond - 1, 200*time.Millisecond - 1}
	if !slices.Equal(slept, wantSlept) {
		t.Fatalf("slept %v, want %v (exponential caps)", slept, wantSlept)
	}
}

func keysOf(its []Item) []string {
	var ks []string
	for _, it := range its {
		ks = append(ks, keyOf(it))
	}
	return ks
}

func TestPutResendsEverythingWhenUnprocessedItemsCannotBeMatched(t *testing.T) {
	calls := 0
	db := &fakeDB{respond: func(_ map[string]int, keys []string) ([]string, error) {
		calls++
		return nil, nil
	}}
	// Wrap the fake: the first answer hands back an item whose key number is
	// written differently ("5.50"), which the writer cannot match.
	first := true
	api := apiFunc(func(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
		out, err := db.BatchWriteItem(ctx, in, o...)
		if first && err == nil {
			first = false
			it := item(5)
			it["timestamp"] = &types.AttributeValueMemberN{Value: "5.50"}
			out.UnprocessedItems[table] = []types.WriteRequest{{PutRequest: &types.PutRequest{Item: it}}}
		}
		return out, err
	})
	w := New(api, table, keyAttrs, WithBackoff(backoff.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}))
	res := w.Put(context.Background(), items(4))
	if len(res.Failures) != 0 || res.Requests != 2 || res.Resent != 4 {
		t.Fatalf("result %+v, want two requests, all 4 items resent, no failure", res)
	}
}

type apiFunc func(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)

func (f apiFunc) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return f(ctx, in, o...)
}

func TestPutGivesUpBeforeTheDeadline(t *testing.T) {
	db := &fakeDB{respond: unprocessedWhile(1000, 1)}
	// A real timer policy whose first wait (up to 10 s) cannot fit before a
	// deadline 50 ms away.
	w := New(db, table, keyAttrs, WithBackoff(backoff.Policy{Base: 10 * time.Second, Max: 10 * time.Second,
		Rand: func(n int64) int64 { return n - 1 }}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := w.Put(ctx, items(3))
	if time.Since(start) > 40*time.Millisecond {
		t.Fatalf("Put took %s: it slept instead of giving up", time.Since(start))
	}
	if len(res.Failures) != 1 || res.Failures[0].Index != 1 || !errors.Is(res.Failures[0].Err, backoff.ErrDeadline) {
		t.Fatalf("failures %v, want item 1 with ErrDeadline", res.Failures)
	}
}

func TestPutFailsWithoutCallingOnceTheContextIsDone(t *testing.T) {
	db := &fakeDB{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := New(db, table, keyAttrs).Put(ctx, items(30))
	if len(res.Failures) != 30 || len(db.requests) != 0 || !errors.Is(res.Failures[0].Err, context.Canceled) {
		t.Fatalf("failures %d, requests %d; want 30 failures and no request", len(res.Failures), len(db.requests))
	}
}

func TestPutBoundsConcurrency(t *testing.T) {
	db := &fakeDB{delay: 20 * time.Millisecond}
	res := New(db, table, keyAttrs, WithConcurrency(3)).Put(context.Background(), items(25*12))
	if len(res.Failures) != 0 || res.Requests != 12 {
		t.Fatalf("result %+v", res)
	}
	if got := db.maxInFlight.Load(); got > 3 || got < 2 {
		t.Fatalf("max requests in flight %d, want 2..3 (parallel, bounded by 3)", got)
	}
}
