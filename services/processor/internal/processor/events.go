package processor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// entry is one event: its detail (a marketdata.WindowsChanged) and the
// messages whose windows it names.
type entry struct {
	detail string
	msgs   []int
}

// entrySize is an entry's size as EventBridge counts it against its limit:
// the UTF-8 bytes of Source, DetailType and Detail (no Time, no Resources).
func entrySize(detail string) int { return entryOverhead + len(detail) }

const entryOverhead = len(marketdata.EventSource) + len(marketdata.EventDetailType)

const (
	detailOpen  = `{"windows":[`
	detailClose = `]}`
)

// pack groups the changed windows into events and the events into PutEvents
// calls. A call holds at most limits.EventBridgePutEntries entries whose
// sizes add up to less than limits.EventBridgeEntryBytes (EventBridge's limit
// for an entry, and for the entries of one request together), so a single
// entry never exceeds it either. The windows are spread over the entries of
// a call, minPerEntry at least, so that an SQS batch normally needs exactly
// one call (up to some five thousand windows) while the aggregator still gets
// up to ten events to work on in parallel.
func pack(changes []windowChange, minPerEntry int) [][]entry {
	perEntry := max(minPerEntry, (len(changes)+limits.EventBridgePutEntries-1)/limits.EventBridgePutEntries)
	var (
		calls     [][]entry
		call      []entry
		callBytes int
		cur       []byte // detail under construction, without detailClose
		curN      int
		curMsgs   []int
	)
	closeCall := func() {
		if len(call) > 0 {
			calls = append(calls, call)
		}
		call, callBytes = nil, 0
	}
	closeEntry := func() {
		if curN == 0 {
			return
		}
		d := string(append(cur, detailClose...))
		slices.Sort(curMsgs)
		call = append(call, entry{detail: d, msgs: slices.Compact(curMsgs)})
		callBytes += entrySize(d)
		cur, curN, curMsgs = nil, 0, nil
		if len(call) == limits.EventBridgePutEntries {
			closeCall()
		}
	}
	for _, c := range changes {
		piece, err := json.Marshal(c.ref)
		if err != nil {
			panic(err) // a struct of a string and an int always marshals
		}
		for {
			grown := len(detailOpen) + len(piece) + len(detailClose)
			if curN > 0 {
				grown = len(cur) + 1 + len(piece) + len(detailClose)
			}
			fits := callBytes+entryOverhead+grown < limits.EventBridgeEntryBytes
			// (An empty call takes any window: one always fits.)
			if curN < perEntry && fits || curN == 0 && len(call) == 0 {
				if curN == 0 {
					cur = append(cur, detailOpen...)
				} else {
					cur = append(cur, ',')
				}
				cur = append(cur, piece...)
				curN++
				curMsgs = append(curMsgs, c.msgs...)
				break
			}
			if curN > 0 {
				closeEntry()
			} else {
				closeCall()
			}
		}
	}
	closeEntry()
	closeCall()
	return calls
}

// publish sends the windows-changed events and returns the number of
// PutEvents calls made.
//
// If an event cannot be delivered even after retries, the messages whose
// windows it names are failed: SQS redelivers them, their writes (idempotent
// puts, a conditional state update, a set ADD) are repeated harmlessly, and
// the event is sent again. Otherwise the aggregator would never hear of
// those windows until the scheduled finalisation, and a window that changes
// after its close would not be recomputed at all.
func (h *Handler) publish(ctx context.Context, b *batch, changes []windowChange) int {
	calls := 0
	for _, entries := range pack(changes, h.cfg.MinWindowsPerEvent) {
		calls += h.putEvents(ctx, b, entries)
	}
	return calls
}

// putEvents sends one call's entries, then resends only the entries that
// failed (FailedEntryCount, or the whole call failing after the SDK's own
// retries), with backoff, until all are delivered or the attempts or time
// run out; it then fails the messages of the undelivered entries.
func (h *Handler) putEvents(ctx context.Context, b *batch, entries []entry) (calls int) {
	pending := make([]int, len(entries))
	for i := range pending {
		pending[i] = i
	}
	errs := make([]error, len(entries))
	for attempt := 1; ; attempt++ {
		in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(pending))}
		for j, e := range pending {
			in.Entries[j] = types.PutEventsRequestEntry{
				EventBusName: aws.String(h.cfg.EventBus),
				Source:       aws.String(marketdata.EventSource),
				DetailType:   aws.String(marketdata.EventDetailType),
				Detail:       aws.String(entries[e].detail),
			}
		}
		out, err := h.events.PutEvents(ctx, in)
		calls++
		var failed []int
		switch {
		case err != nil:
			for _, e := range pending {
				errs[e] = fmt.Errorf("PutEvents: %w", err)
			}
			failed = pending
		case out.FailedEntryCount > 0 || len(out.Entries) != len(pending):
			for j, e := range pending {
				switch {
				case j >= len(out.Entries):
					errs[e] = fmt.Errorf("PutEvents answered %d entries for %d", len(out.Entries), len(pending))
				case out.Entries[j].ErrorCode != nil:
					errs[e] = fmt.Errorf("event entry failed: %s: %s", aws.ToString(out.Entries[j].ErrorCode), aws.ToString(out.Entries[j].ErrorMessage))
				default:
					continue
				}
				failed = append(failed, e)
			}
		}
		if len(failed) == 0 {
			return calls
		}
		if werr := h.cfg.Backoff.Wait(ctx, attempt); werr != nil {
			for _, e := range failed {
				for _, m := range entries[e].msgs {
					b.fail(m, fmt.Errorf("windows-changed event not delivered after %d attempts (%w): %w", attempt, werr, errs[e]))
				}
			}
			return calls
		}
		pending = failed
	}
}
