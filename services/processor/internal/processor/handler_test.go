package processor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testEnv struct {
	db   *fakeDynamo
	ev   *fakeEvents
	h    *Handler
	logs *syncBuffer
}

func newEnv(t *testing.T, tweak func(*Config)) *testEnv {
	t.Helper()
	env := &testEnv{db: newFakeDynamo(), ev: &fakeEvents{}, logs: &syncBuffer{}}
	cfg := Config{
		Table: testTable, EventBus: testBus,
		Now:    func() time.Time { return testNow },
		Logger: slog.New(slog.NewJSONHandler(env.logs, nil)),
		Backoff: backoff.Policy{Attempts: 4, Base: time.Millisecond, Max: time.Millisecond,
			Sleep: func(context.Context, time.Duration) error { return nil }},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	h, err := New(env.db, env.ev, cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.h = h
	return env
}

// decoded returns the messages of ev that are valid, by message id.
func decoded(t *testing.T, ev events.SQSEvent) map[string]marketdata.Message {
	t.Helper()
	out := map[string]marketdata.Message{}
	for _, r := range ev.Records {
		m, err := marketdata.DecodeMessage([]byte(r.Body))
		if err == nil {
			err = checkMessage(m, testNow)
		}
		if err == nil {
			out[r.MessageId] = m
		}
	}
	return out
}

func failedIDs(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func ids(ev events.SQSEvent, except ...string) []string {
	var out []string
	for _, r := range ev.Records {
		if !slices.Contains(except, r.MessageId) {
			out = append(out, r.MessageId)
		}
	}
	return out
}

func sval(v dbtypes.AttributeValue) string {
	switch v := v.(type) {
	case *dbtypes.AttributeValueMemberS:
		return v.Value
	case *dbtypes.AttributeValueMemberN:
		return v.Value
	case nil:
		return "<absent>"
	}
	return "<unexpected type>"
}

// svals renders every attribute of an item with sval.
func svals(item map[string]dbtypes.AttributeValue) map[string]string {
	out := make(map[string]string, len(item))
	for a, v := range item {
		out[a] = sval(v)
	}
	return out
}

// wantRawItem is the raw item, as svals renders it, that the processor
// stores at testNow for point p of a message from origin: every attribute in
// canonical form, the optional ones only when set.
func wantRawItem(origin string, p marketdata.QueuedPoint) map[string]string {
	want := map[string]string{
		marketdata.AttrSymbol: p.Symbol, marketdata.AttrTimestamp: p.Key,
		marketdata.AttrPrice:  marketdata.PriceText(p.Price, p.PriceText()),
		marketdata.AttrVolume: p.Volume.String(),
		marketdata.AttrMillis: strconv.FormatInt(p.Timestamp, 10),
		marketdata.AttrOrigin: origin, marketdata.AttrExpiresAt: strconv.FormatInt(marketdata.ExpiresAt(testNow), 10),
	}
	if p.Bid != 0 {
		want[marketdata.AttrBid] = marketdata.PriceText(p.Bid, p.BidText())
	}
	if p.Ask != 0 {
		want[marketdata.AttrAsk] = marketdata.PriceText(p.Ask, p.AskText())
	}
	if p.Exchange != "" {
		want[marketdata.AttrExchange] = p.Exchange
	}
	if p.Conditions != "" {
		want[marketdata.AttrConditions] = p.Conditions
	}
	return want
}

// checkStored asserts every point of the given messages is stored as a raw
// item with every attribute in canonical form, and, if exact, that nothing
// else is.
func checkStored(t *testing.T, env *testEnv, msgs map[string]marketdata.Message, exact bool) {
	t.Helper()
	raw := env.db.rawItems()
	keys := map[tableKey]bool{}
	for id, m := range msgs {
		for _, p := range m.Points {
			keys[tableKey{p.Symbol, p.Key}] = true
			it := raw[tableKey{p.Symbol, p.Key}]
			if it == nil {
				t.Fatalf("%s: point %s/%s not stored", id, p.Symbol, p.Key)
			}
			got, want := svals(it), wantRawItem(m.Origin, p)
			if !maps.Equal(got, want) {
				t.Fatalf("%s: item %v\nwant %v", id, got, want)
			}
		}
	}
	if exact && len(raw) != len(keys) {
		t.Fatalf("%d raw items stored, want %d (points of the successful messages only)", len(raw), len(keys))
	}
	checkPartials(t, env, msgs, exact)
}

// checkPartials checks that each message's partial aggregates are stored,
// one per (symbol, window) it touches under the key its content and origin
// give (so a copy of a message shares them), holding the summary of exactly
// those points; and, with exact, that no other partial is stored.
func checkPartials(t *testing.T, env *testEnv, msgs map[string]marketdata.Message, exact bool) {
	t.Helper()
	env.db.mu.Lock()
	stored := map[tableKey]map[string]dbtypes.AttributeValue{}
	for k, it := range env.db.items {
		if strings.HasPrefix(k.hash, marketdata.PartialPrefix) {
			stored[k] = it
		}
	}
	env.db.mu.Unlock()
	want := map[tableKey]bool{}
	for id, m := range msgs {
		type win struct {
			sym   string
			start int64
		}
		groups := map[win][]marketdata.QueuedPoint{}
		for _, p := range m.Points {
			w := win{p.Symbol, p.Timestamp - p.Timestamp%(5*60*1000)}
			groups[w] = append(groups[w], p)
		}
		for w, pts := range groups {
			var keys []string
			var p marketdata.Partial
			for _, q := range pts {
				keys = append(keys, q.Key)
				ms, disc, err := marketdata.ParseSortKey(q.Key)
				if err != nil {
					t.Fatal(err)
				}
				eff, err := conditions.Of(q.Conditions)
				if err != nil {
					t.Fatal(err)
				}
				p.AddEffect(ms, disc, q.Price, q.Volume, eff)
			}
			k := tableKey{marketdata.PartialKey(w.sym), marketdata.PartialSortKey(w.start, m.Origin, w.sym, keys)}
			want[k] = true
			item := stored[k]
			if item == nil {
				t.Fatalf("%s: no partial %v of its %d points of %s in window %d", id, k, len(pts), w.sym, w.start)
			}
			var it marketdata.PartialItem
			if err := ddbitem.Decode(item, &it); err != nil {
				t.Fatalf("%s: partial %v: %v", id, k, err)
			}
			got, err := it.Partial()
			if err != nil {
				t.Fatalf("%s: partial %v: %v", id, k, err)
			}
			if got.String() != p.String() {
				t.Fatalf("%s: partial %v holds %v, want %v", id, k, got, &p)
			}
			if it.ExpiresAt != marketdata.ExpiresAt(testNow) {
				t.Fatalf("%s: partial expires at %d, want the raw points' %d", id, it.ExpiresAt, marketdata.ExpiresAt(testNow))
			}
		}
	}
	if exact && len(stored) != len(want) {
		t.Fatalf("%d partials stored, want %d (one per message and window of the successful messages)", len(stored), len(want))
	}
}

// expectedWindows computes the (symbol, window) pairs of msgs independently
// of the handler.
func expectedWindows(msgs map[string]marketdata.Message) []marketdata.WindowRef {
	set := map[marketdata.WindowRef]bool{}
	for _, m := range msgs {
		for _, p := range m.Points {
			w := p.Timestamp - p.Timestamp%(5*60*1000)
			set[marketdata.WindowRef{Symbol: p.Symbol, Start: w}] = true
		}
	}
	return slices.SortedFunc(maps.Keys(set), compareRefs)
}

// checkStateAndIndex asserts the latest state of each symbol of msgs and the
// active-symbols index of each window, after one invocation.
func checkStateAndIndex(t *testing.T, env *testEnv, msgs map[string]marketdata.Message, exact bool) {
	t.Helper()
	type state struct {
		last  marketdata.QueuedPoint
		count int
	}
	states := map[string]*state{}
	active := map[int64][]string{}
	for _, m := range msgs {
		for _, p := range m.Points {
			s := states[p.Symbol]
			if s == nil {
				s = &state{last: p}
				states[p.Symbol] = s
			}
			s.count++
			if num(&dbtypes.AttributeValueMemberN{Value: p.Key}).Cmp(num(&dbtypes.AttributeValueMemberN{Value: s.last.Key})) > 0 {
				s.last = p
			}
		}
	}
	// The index lists the windows from the horizon on (the older ones only
	// reach the aggregator through the events).
	for _, w := range expectedWindows(msgs) {
		if w.Start >= marketdata.IndexHorizon(testNow) {
			active[w.Start] = append(active[w.Start], w.Symbol)
		}
	}
	if exact {
		n := 0
		for k := range env.db.items {
			if k.hash == marketdata.ActiveWindows || k.hash == marketdata.SymbolsIndex || strings.HasPrefix(k.hash, marketdata.StatePrefix) {
				n++
			}
		}
		if want := 2*len(states) + len(active); n != want {
			t.Errorf("%d state and index items, want %d", n, want)
		}
	}
	// Every symbol with a state is in the symbols index.
	for sym := range states {
		rng, err := marketdata.SymbolIndexKey(sym)
		if err != nil {
			t.Fatal(err)
		}
		var got marketdata.SymbolIndexItem
		if err := ddbitem.Decode(env.db.item(marketdata.SymbolsIndex, rng), &got); err != nil {
			t.Errorf("symbols index item of %s: %v", sym, err)
		} else if want := (marketdata.SymbolIndexItem{Symbol: sym, ExpiresAt: marketdata.ExpiresAt(testNow.Add(24 * time.Hour))}); got != want {
			t.Errorf("symbols index item of %s: %+v, want %+v", sym, got, want)
		}
	}
	// The items are decoded with the readers' types (shared/marketdata), so
	// this fails if the update expressions and the readers drift apart.
	for sym, s := range states {
		it := env.db.item(marketdata.StateKey(sym), marketdata.StateSortKey)
		var got marketdata.StateItem
		if err := ddbitem.Decode(it, &got); err != nil {
			t.Errorf("state of %s: %v", sym, err)
			continue
		}
		want := marketdata.StateItem{
			LastKey: s.last.Key, LastPrice: s.last.Price, LastMillis: s.last.Timestamp, Points: int64(s.count),
			UpdatedAt: testNow.UnixMilli(), ExpiresAt: marketdata.ExpiresAt(testNow),
		}
		if got != want {
			t.Errorf("state of %s: %+v\nwant %+v", sym, got, want)
		}
	}
	for start, syms := range active {
		it := env.db.item(marketdata.ActiveWindows, strconv.FormatInt(start, 10))
		var got marketdata.ActiveWindowItem
		if err := ddbitem.Decode(it, &got); err != nil {
			t.Errorf("active window %d: %v", start, err)
			continue
		}
		slices.Sort(syms)
		slices.Sort(got.Symbols)
		switch {
		case got.Start != start || got.ExpiresAt != marketdata.ExpiresAt(testNow):
			t.Errorf("active window %d: %+v", start, got)
		case exact && !slices.Equal(got.Symbols, syms):
			t.Errorf("active symbols of window %d: %v, want %v", start, got.Symbols, syms)
		case !exact && slices.ContainsFunc(syms, func(s string) bool { return !slices.Contains(got.Symbols, s) }):
			t.Errorf("active symbols of window %d: %v, want at least %v", start, got.Symbols, syms)
		}
	}
}

// logsOf returns the ERROR records of the logs by message id.
func errorLogs(t *testing.T, logs string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var rec struct {
			Level, MessageID, Reason string `json:",omitempty"`
		}
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		rec.Level, _ = raw["level"].(string)
		rec.MessageID, _ = raw["messageId"].(string)
		rec.Reason, _ = raw["reason"].(string)
		if rec.Level == "ERROR" {
			out[rec.MessageID] = rec.Reason
		}
	}
	return out
}

func TestHandle(t *testing.T) {
	boom := errors.New("InternalServerError: injected")
	batch := loadFixture(t, "batch.json")
	good := decoded(t, batch)
	keyOf := func(id string, i int) tableKey {
		p := good[id].Points[i]
		return tableKey{p.Symbol, p.Key}
	}
	hasSymbol := func(d marketdata.WindowsChanged, sym string) bool {
		return slices.ContainsFunc(d.Windows, func(w marketdata.WindowRef) bool { return w.Symbol == sym })
	}

	tests := []struct {
		name       string
		fixture    string
		cfg        func(*Config)
		faults     func(*fakeDynamo, *fakeEvents)
		wantFailed []string
		wantReason string // in every failure's log line
		// exact: nothing but the successful messages' points, state and
		// windows is stored (true when all succeed or failures are poison;
		// a message failing later may have left idempotent writes behind).
		exact bool
		check func(t *testing.T, env *testEnv, st Stats)
	}{
		{
			name:    "all messages succeed",
			fixture: "batch.json",
			exact:   true,
			check: func(t *testing.T, env *testEnv, st Stats) {
				if st.WriteRequests != 4 || env.db.batchCalls != 4 { // 90 points: 25+25+25+15
					t.Errorf("write requests %d/%d, want 4", st.WriteRequests, env.db.batchCalls)
				}
				if env.ev.calls != 1 {
					t.Errorf("PutEvents calls %d, want 1", env.ev.calls)
				}
			},
		},
		{
			name:       "poison messages fail alone",
			fixture:    "poison.json",
			wantFailed: ids(loadFixture(t, "poison.json"), "good-1", "good-2"),
			wantReason: "poison message",
			exact:      true,
		},
		{
			name:    "UnprocessedItems come back twice, then are stored",
			fixture: "batch.json",
			exact:   true,
			faults: func(db *fakeDynamo, _ *fakeEvents) {
				slow := []tableKey{keyOf("msg-a", 3), keyOf("msg-a", 4), keyOf("msg-c", 29)}
				db.unprocessed = func(k tableKey, sent int) bool { return slices.Contains(slow, k) && sent <= 2 }
			},
			check: func(t *testing.T, env *testEnv, st Stats) {
				if st.Resent != 3*2 || st.WriteRequests != 4+2+2 {
					t.Errorf("resent %d items in %d requests, want 6 in 8", st.Resent, st.WriteRequests)
				}
			},
		},
		{
			name:    "items unprocessed until the attempts run out fail their message only",
			fixture: "batch.json",
			faults: func(db *fakeDynamo, _ *fakeEvents) {
				db.unprocessed = func(k tableKey, _ int) bool { return k == keyOf("msg-c", 29) }
			},
			wantFailed: []string{"msg-c"},
			wantReason: "1 of 30 points not stored: item still unprocessed after 4 attempts",
		},
		{
			name:    "a failing BatchWriteItem request fails only the messages with items in it",
			fixture: "batch.json",
			faults: func(db *fakeDynamo, _ *fakeEvents) {
				// Items 25..49 share a request: msg-a's last five and msg-b's first twenty.
				db.batchErr = func(keys []tableKey) error {
					if slices.Contains(keys, keyOf("msg-a", 27)) {
						return boom
					}
					return nil
				}
			},
			wantFailed: []string{"msg-a", "msg-b"},
			wantReason: "points not stored: BatchWriteItem: InternalServerError",
		},
		{
			name:    "failed event entries are resent alone",
			fixture: "batch.json",
			exact:   true,
			cfg:     func(c *Config) { c.MinWindowsPerEvent = 1 },
			faults: func(_ *fakeDynamo, ev *fakeEvents) {
				ev.failEntry = func(call int, d marketdata.WindowsChanged) string {
					if call == 1 && hasSymbol(d, "MSFT") {
						return "ThrottlingException"
					}
					return ""
				}
			},
			check: func(t *testing.T, env *testEnv, st Stats) {
				if env.ev.calls != 2 || env.ev.entries[1] != 1 {
					t.Errorf("PutEvents calls %d with entries %v; want the one failed entry resent alone", env.ev.calls, env.ev.entries)
				}
			},
		},
		{
			name:    "a failing PutEvents call is retried",
			fixture: "batch.json",
			exact:   true,
			faults: func(_ *fakeDynamo, ev *fakeEvents) {
				ev.callErr = func(call int) error {
					if call == 1 {
						return boom
					}
					return nil
				}
			},
			check: func(t *testing.T, env *testEnv, st Stats) {
				if env.ev.calls != 2 {
					t.Errorf("PutEvents calls %d, want 2", env.ev.calls)
				}
			},
		},
		{
			name:    "undeliverable events fail the messages whose windows they name",
			fixture: "batch.json",
			cfg:     func(c *Config) { c.MinWindowsPerEvent = 1 },
			faults: func(_ *fakeDynamo, ev *fakeEvents) {
				ev.failEntry = func(_ int, d marketdata.WindowsChanged) string {
					if hasSymbol(d, "BTC-USD") {
						return "InternalFailure"
					}
					return ""
				}
			},
			wantFailed: []string{"msg-c"},
			wantReason: "windows-changed event not delivered after 4 attempts",
		},
		{
			name:    "a failing state update fails the messages of that symbol",
			fixture: "batch.json",
			faults: func(db *fakeDynamo, _ *fakeEvents) {
				db.updateErr = func(k tableKey) error {
					if k.hash == marketdata.StateKey("MSFT") {
						return boom
					}
					return nil
				}
			},
			wantFailed: []string{"msg-b"},
			wantReason: "update latest state of MSFT",
		},
		{
			name:    "a failing active-index update fails the messages of that window",
			fixture: "batch.json",
			faults: func(db *fakeDynamo, _ *fakeEvents) {
				first := strconv.FormatInt(testNow.Add(-10*time.Minute).UnixMilli(), 10) // msg-a's first window
				db.updateErr = func(k tableKey) error {
					if k.hash == marketdata.ActiveWindows && k.rng == first {
						return boom
					}
					return nil
				}
			},
			wantFailed: []string{"msg-a"},
			wantReason: "update active symbols of window",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, tc.cfg)
			if tc.faults != nil {
				tc.faults(env.db, env.ev)
			}
			ev := loadFixture(t, tc.fixture)
			resp, st := env.h.Process(context.Background(), ev)
			if got := failedIDs(resp); !slices.Equal(got, tc.wantFailed) {
				t.Fatalf("BatchItemFailures %v, want %v\nlogs:\n%s", got, tc.wantFailed, env.logs)
			}
			if st.Failed != len(tc.wantFailed) || st.Messages != len(ev.Records) {
				t.Errorf("stats %+v disagree with the response", st)
			}
			logged := errorLogs(t, env.logs.String())
			if len(logged) != len(tc.wantFailed) {
				t.Errorf("ERROR logs for %v, want one per failed message %v", slices.Collect(maps.Keys(logged)), tc.wantFailed)
			}
			for _, id := range tc.wantFailed {
				if !strings.Contains(logged[id], tc.wantReason) {
					t.Errorf("%s logged reason %q, want it to contain %q", id, logged[id], tc.wantReason)
				}
			}

			// What succeeded is stored, indexed and announced; nothing of
			// what failed is announced.
			ok := decoded(t, ev)
			for _, id := range tc.wantFailed {
				delete(ok, id)
			}
			checkStored(t, env, ok, tc.exact)
			checkStateAndIndex(t, env, ok, tc.exact)
			if got, want := env.ev.windows(), expectedWindows(ok); !slices.Equal(got, want) {
				t.Errorf("events named windows %v\nwant %v", got, want)
			}
			if tc.check != nil {
				tc.check(t, env, st)
			}
		})
	}
}

func TestHandleNeverReturnsAnError(t *testing.T) {
	env := newEnv(t, nil)
	env.db.batchErr = func([]tableKey) error { return errors.New("everything is down") }
	ev := loadFixture(t, "batch.json")
	resp, err := env.h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle returned %v: SQS would redeliver the whole batch", err)
	}
	if got := failedIDs(resp); !slices.Equal(got, ids(ev)) {
		t.Fatalf("BatchItemFailures %v, want all of %v", got, ids(ev))
	}
}

// TestRedeliveredCopiesInOneBatch: ingestion may queue a message twice (a
// SendMessageBatch entry that failed after all); both copies in one batch
// carry the same keys, which must not end up twice in one BatchWriteItem
// request (DynamoDB rejects that).
func TestRedeliveredCopiesInOneBatch(t *testing.T) {
	ev := loadFixture(t, "batch.json")
	dup := ev.Records[0]
	dup.MessageId = "msg-a-copy"
	ev.Records = append(ev.Records, dup)
	env := newEnv(t, nil)
	resp, st := env.h.Process(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	// Both copies build the same partials (same keys): the copy's are
	// duplicates too.
	copyOf := decoded(t, ev)[dup.MessageId]
	copyPartials := len(expectedWindows(map[string]marketdata.Message{dup.MessageId: copyOf}))
	if copyItems := len(copyOf.Points) + copyPartials; st.Duplicates != copyItems || st.WriteRequests != 4 {
		t.Fatalf("duplicates %d, write requests %d; want the copy's %d items (%d points, %d partials) folded into the original's 4 requests", st.Duplicates, st.WriteRequests, copyItems, len(copyOf.Points), copyPartials)
	}
	checkStored(t, env, decoded(t, ev), true)
}
