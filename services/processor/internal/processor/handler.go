// Package processor is the DataProcessor Lambda's logic: it takes SQS
// batches of queue messages (marketdata.Message), stores their points as raw
// items, maintains each symbol's latest state and the index of active
// symbols per window, and tells the aggregator which (symbol, window) pairs
// changed with custom EventBridge events.
//
// Failures are reported per message (SQS partial batch responses): a message
// is reported failed unless all of its points were stored, the state and
// index updates its points took part in succeeded, and the events naming its
// windows were delivered. SQS then redelivers exactly those messages, and a
// poison message ends up in the dead-letter queue alone. Every write is
// idempotent (the range key of a point is derived from the point and where it
// came from), so redelivery never duplicates data; only the state item's
// point counter counts a redelivered message again (documented there).
package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"golang.org/x/sync/errgroup"

	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/services/platform/dynamobatch"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// ItemUpdater is the part of the DynamoDB client the state and index updates use.
type ItemUpdater interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// DynamoDB is the part of the DynamoDB client the processor uses.
type DynamoDB interface {
	dynamobatch.API
	ItemUpdater
}

// EventPublisher is the part of the EventBridge client the processor uses.
type EventPublisher interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Config holds what the handler needs besides its clients. Zero fields
// take the defaults below.
type Config struct {
	Table    string // required
	EventBus string // required

	// WriteConcurrency bounds the BatchWriteItem requests in flight.
	WriteConcurrency int
	// UpdateConcurrency bounds the UpdateItem requests in flight.
	UpdateConcurrency int
	// Backoff paces the resending of unprocessed items and failed event
	// entries; its zero fields take the services' one set of defaults
	// (platform/backoff).
	Backoff backoff.Policy
	// DeadlineReserve is kept free at the end of the invocation: retries stop
	// that long before the Lambda deadline, so there is time to answer.
	DeadlineReserve time.Duration
	// FinishReserve is kept, before that, for the state, index and event
	// updates of the messages whose points are stored: no message's points
	// start to be written later than that (see store).
	FinishReserve time.Duration
	// MinWindowsPerEvent is the fewest windows an event carries before the
	// next entry of the same PutEvents call is started (see pack).
	MinWindowsPerEvent int

	Now    func() time.Time // the clock; nil is time.Now
	Logger *slog.Logger     // nil is slog.Default()
}

// Defaults.
const (
	DefaultWriteConcurrency   = 8
	DefaultUpdateConcurrency  = 8
	DefaultDeadlineReserve    = 2 * time.Second
	DefaultFinishReserve      = 5 * time.Second
	DefaultMinWindowsPerEvent = 50
)

// Handler processes SQS batches. Build it once per container with New.
type Handler struct {
	cfg    Config
	db     ItemUpdater
	writer *dynamobatch.Writer
	events EventPublisher
	log    *slog.Logger
	now    func() time.Time
	arenas sync.Pool // of *itemArena
}

// New returns a handler over the given clients.
func New(db DynamoDB, ev EventPublisher, cfg Config) (*Handler, error) {
	if cfg.Table == "" || cfg.EventBus == "" {
		return nil, errors.New("processor: table and event bus names are required")
	}
	if cfg.WriteConcurrency <= 0 {
		cfg.WriteConcurrency = DefaultWriteConcurrency
	}
	if cfg.UpdateConcurrency <= 0 {
		cfg.UpdateConcurrency = DefaultUpdateConcurrency
	}
	if cfg.DeadlineReserve <= 0 {
		cfg.DeadlineReserve = DefaultDeadlineReserve
	}
	if cfg.FinishReserve <= 0 {
		cfg.FinishReserve = DefaultFinishReserve
	}
	if cfg.MinWindowsPerEvent <= 0 {
		cfg.MinWindowsPerEvent = DefaultMinWindowsPerEvent
	}
	h := &Handler{cfg: cfg, db: db, events: ev, log: cfg.Logger, now: cfg.Now}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.arenas.New = func() any { return new(itemArena) }
	h.writer = dynamobatch.New(db, cfg.Table, []string{marketdata.AttrSymbol, marketdata.AttrTimestamp},
		dynamobatch.WithConcurrency(cfg.WriteConcurrency), dynamobatch.WithBackoff(cfg.Backoff))
	return h, nil
}

// message is one SQS record on its way through the handler.
type message struct {
	id       string
	receives string // ApproximateReceiveCount: how close it is to the DLQ
	origin   string
	points   []marketdata.QueuedPoint
	// bars are its raw bar items (written after its points), closes each
	// bar's close as a point (see barCloses): what the latest state and
	// the changed windows take from a bar.
	bars     []dynamobatch.Item
	closes   []marketdata.QueuedPoint
	partials []dynamobatch.Item // its partial aggregate items
	err      error              // why it failed; nil while it has not
}

// batch is the state of one invocation. Failures may be recorded from
// several goroutines.
type batch struct {
	mu   sync.Mutex
	msgs []message
}

func (b *batch) fail(i int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.msgs[i].err == nil {
		b.msgs[i].err = err
	}
}

func (b *batch) ok(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.msgs[i].err == nil
}

// Stats describe one invocation (logged, and used by tests).
type Stats struct {
	Messages, Failed int
	Points           int // points and bars in the messages that decoded and passed the checks
	Stored           int // points and bars in the messages that succeeded
	Bars             int // bars among Points
	Partials         int // partial aggregate items among the items written
	WriteRequests    int
	Resent           int
	Duplicates       int
	UpdateRequests   int
	Windows          int // (symbol, window) pairs announced in events
	IndexedWindows   int // window starts added to the active-window index
	PutEventsCalls   int
	// NotStarted counts the messages failed because too little time was
	// left to store them (see store).
	NotStarted int
}

// Handle processes one SQS batch. It never returns an error: every problem
// is confined to the messages it concerns and reported in BatchItemFailures
// (an error would make SQS redeliver the whole batch).
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp, _ := h.Process(ctx, ev)
	return resp, nil
}

// Process is Handle, also returning the invocation's statistics.
func (h *Handler) Process(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, Stats) {
	ctx, cancel := h.workContext(ctx)
	defer cancel()
	finishBy := h.finishBy(ctx)
	now := h.now()
	b := &batch{msgs: make([]message, len(ev.Records))}
	st := Stats{Messages: len(ev.Records)}

	// 1. Decode and check each message and build its partial aggregates.
	// The raw point items are built later, one write group at a time (see
	// store), so spans[i] are where message i's items will be: its points,
	// then its partials.
	arena := h.arenas.Get().(*itemArena)
	defer func() {
		arena.reset() // the items are not used after Put
		h.arenas.Put(arena)
	}()
	expiresAt := marketdata.ExpiresAt(now)
	var owner []int // message index of each item
	spans := make([]span, len(ev.Records))
	for i, r := range ev.Records {
		b.msgs[i].id, b.msgs[i].receives = r.MessageId, r.Attributes["ApproximateReceiveCount"]
		spans[i] = span{len(owner), len(owner)}
		m, err := marketdata.DecodeMessageString(r.Body)
		if err == nil {
			err = checkMessage(m, now)
		}
		if err != nil {
			b.fail(i, fmt.Errorf("poison message: %w", err))
			continue
		}
		b.msgs[i].points, b.msgs[i].origin = m.Points, m.Origin
		if len(m.Bars) > 0 {
			if b.msgs[i].bars, err = barItems(m, expiresAt); err != nil {
				b.fail(i, fmt.Errorf("poison message: %w", err))
				continue
			}
			b.msgs[i].closes = barCloses(traded(m.Bars))
		}
		// The message's partials go with its points: the message succeeds
		// only when both are stored, so the aggregator, which merges the
		// partials, never misses stored points for long (SQS redelivers).
		b.msgs[i].partials = appendPartials(nil, m, expiresAt)
		st.Partials += len(b.msgs[i].partials)
		for range len(m.Points) + len(m.Bars) + len(b.msgs[i].partials) {
			owner = append(owner, i)
		}
		spans[i].hi = len(owner)
		st.Points += len(m.Points) + len(m.Bars)
		st.Bars += len(m.Bars)
	}

	// 2. Store the points, within the invocation's time budget. Each write
	// group's items are built into the arena just before they are written
	// and the arena is taken back after: a container's first batch builds
	// new item maps for its first group only and reuses them for the next
	// ones, as a warm container does, and a batch holds one group's items
	// at a time instead of all of them.
	builder := newRawItemBuilder(now, arena)
	var items []dynamobatch.Item
	build := func(first, last int) []dynamobatch.Item {
		arena.reset()
		items = items[:0]
		for i := first; i <= last; i++ {
			if spans[i].hi == spans[i].lo { // failed to decode
				continue
			}
			m := &b.msgs[i]
			items = builder.appendItems(items, marketdata.Message{Origin: m.origin, Points: m.points})
			items = append(items, m.bars...)
			items = append(items, m.partials...)
		}
		return items
	}
	h.store(ctx, finishBy, b, build, owner, spans, &st)

	// 3. Latest state per symbol and the active-symbols index per window,
	// from the messages whose points are all stored.
	ch := collectChanges(b)
	st.UpdateRequests, st.IndexedWindows = h.updateState(ctx, b, ch, now)

	// 4. Tell the aggregator which windows changed, for the messages that
	// are still fine.
	refs := ch.windowRefs(b)
	st.Windows = len(refs)
	st.PutEventsCalls = h.publish(ctx, b, refs)

	// 5. Answer.
	var resp events.SQSEventResponse
	for _, m := range b.msgs {
		if m.err == nil {
			st.Stored += len(m.points) + len(m.bars)
			continue
		}
		st.Failed++
		h.log.Error("message failed", "messageId", m.id, "receiveCount", m.receives, "reason", m.err.Error())
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.id})
	}
	h.log.Info("batch processed", "messages", st.Messages, "failed", st.Failed, "notStarted", st.NotStarted,
		"decoded", st.Points, naming.LogFieldStored, st.Stored, "partials", st.Partials, "writeRequests", st.WriteRequests, "resent", st.Resent, "duplicates", st.Duplicates,
		"updateRequests", st.UpdateRequests, "windows", st.Windows, "indexedWindows", st.IndexedWindows,
		"putEventsCalls", st.PutEventsCalls)
	return resp, st
}

// workContext ends the work DeadlineReserve before the Lambda deadline (at
// most a tenth of the time left), so that retries give up in time to report
// what failed instead of the whole batch timing out.
func (h *Handler) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(h.cfg.DeadlineReserve, time.Until(deadline)/10)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// finishBy returns when the last group of messages must be stored (see
// store): FinishReserve (at most a fifth of the time left) before the end of
// ctx, the work context. The zero time means no limit.
func (h *Handler) finishBy(ctx context.Context) time.Time {
	deadline, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	return deadline.Add(-min(h.cfg.FinishReserve, time.Until(deadline)/5))
}

// span is the items of one message: items[lo:hi].
type span struct{ lo, hi int }

// errNoTime fails the messages store does not start.
var errNoTime = errors.New("not started: too little time left before the invocation's deadline")

// store writes the messages' items, a group of whole messages at a time, in
// message order: build(first, last) returns the items of messages
// first..last (spans[first].lo to spans[last].hi), valid until the next
// call. A group starts only if, at the pace of the groups before it, it is
// written by finishBy; once one does not fit, it and every later message
// fail with errNoTime, untouched, and SQS redelivers them. So a batch too big
// for one invocation (a backfill, a slow table) ends with its first messages
// stored, indexed and announced, and only the others reported, instead of
// timing out and failing every message of the batch. The first group always
// starts (the writer itself stops at ctx's deadline).
//
// A group holds whole messages and at least WriteConcurrency requests' worth
// of items, so several small messages share one writer call and its requests
// in flight. Copies of a point in two groups (a message queued twice) are
// simply written twice: the puts are idempotent.
func (h *Handler) store(ctx context.Context, finishBy time.Time, b *batch, build func(first, last int) []dynamobatch.Item, owner []int, spans []span, st *Stats) {
	minGroup := h.cfg.WriteConcurrency * limits.DynamoBatchWriteItems
	var (
		written  int           // items of the groups done
		spent    time.Duration // their time
		lastPace time.Duration // per item, of the last group
	)
	for first := 0; first < len(spans); {
		last := first // the group is messages first..last
		for last+1 < len(spans) && spans[last].hi-spans[first].lo < minGroup {
			last++
		}
		lo, hi := spans[first].lo, spans[last].hi
		if hi == lo { // only failed messages
			first = last + 1
			continue
		}
		if written > 0 && !finishBy.IsZero() {
			pace := max(spent/time.Duration(written), lastPace)
			if need, left := pace*time.Duration(hi-lo), time.Until(finishBy); need > left {
				for i := first; i < len(spans); i++ {
					if b.ok(i) {
						b.fail(i, fmt.Errorf("%w (%s left, storing its %d points would take ~%s at this batch's pace; %d of %d points stored)",
							errNoTime, left.Round(time.Millisecond), spans[i].hi-spans[i].lo, (pace*time.Duration(spans[i].hi-spans[i].lo)).Round(time.Millisecond), written, len(owner)))
						st.NotStarted++
					}
				}
				return
			}
		}
		began := time.Now()
		res := h.writer.Put(ctx, build(first, last))
		took := time.Since(began)
		written += hi - lo
		spent += took
		lastPace = took / time.Duration(hi-lo)
		st.WriteRequests += res.Requests
		st.Resent += res.Resent
		st.Duplicates += res.Duplicates
		type loss struct {
			points, partials int
			err              error // the first
		}
		notStored := make(map[int]*loss)
		for _, f := range res.Failures {
			at := lo + f.Index
			i := owner[at]
			l := notStored[i]
			if l == nil {
				l = &loss{err: f.Err}
				notStored[i] = l
			}
			if at < spans[i].lo+len(b.msgs[i].points)+len(b.msgs[i].bars) { // a message's points and bars come before its partials
				l.points++
			} else {
				l.partials++
			}
		}
		for i, l := range notStored {
			n := len(b.msgs[i].points) + len(b.msgs[i].bars) // "points": its points or bars
			switch {
			case l.partials == 0:
				b.fail(i, fmt.Errorf("%d of %d points not stored: %w", l.points, n, l.err))
			case l.points == 0:
				b.fail(i, fmt.Errorf("%d of %d partial aggregates not stored: %w", l.partials, spans[i].hi-spans[i].lo-n, l.err))
			default:
				b.fail(i, fmt.Errorf("%d of %d partial aggregates and %d of %d points not stored: %w", l.partials, spans[i].hi-spans[i].lo-n, l.points, n, l.err))
			}
		}
		first = last + 1
	}
}

// forEach runs fn(0..n-1) with at most limit calls at a time. fn records its
// own failures (per message), so one failure stops nothing else.
func forEach(n, limit int, fn func(i int)) {
	var g errgroup.Group
	g.SetLimit(limit)
	for i := range n {
		g.Go(func() error { fn(i); return nil })
	}
	_ = g.Wait() // every call returns nil
}
