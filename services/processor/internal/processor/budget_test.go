package processor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// pointsEvent returns an SQS event of one message per entry of sizes, each
// of that many points of its own symbol (M0, M1, ...), 1 s apart in the
// window before testNow.
func pointsEvent(t *testing.T, sizes ...int) events.SQSEvent {
	t.Helper()
	var recs []record
	for m, n := range sizes {
		sym := fmt.Sprintf("M%d", m)
		t0 := testNow.Add(-5 * time.Minute).UnixMilli()
		recs = append(recs, record{fmt.Sprintf("msg-%d", m), encodeOne(t, "api:req-"+sym, n, func(i int) marketdata.Point {
			return marketdata.Point{Symbol: sym, Timestamp: t0 + int64(i)*1000, Price: 10 + float64(i)/100, Volume: marketdata.Units(uint64(i))}
		})})
	}
	return fixtureEvent(recs)
}

// TestDeadlineBudget: with a slow table and a deadline too short for the
// whole batch, the handler stores the first messages completely (points,
// state, index, events), does not start the others, reports exactly those,
// and answers before the deadline; with time enough, the budget changes
// nothing.
func TestDeadlineBudget(t *testing.T) {
	const messages, points = 8, 250 // 10 requests each: its own group
	const delay = 40 * time.Millisecond
	tests := []struct {
		name         string
		deadline     time.Duration
		wantAll      bool
		wantSomeDone bool
	}{
		{"a deadline too short for the batch", 400 * time.Millisecond, false, true},
		{"time enough", time.Minute, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, func(c *Config) {
				c.DeadlineReserve = 20 * time.Millisecond
				c.FinishReserve = 60 * time.Millisecond
			})
			env.db.delay = delay
			ev := pointsEvent(t, slices.Repeat([]int{points}, messages)...)
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			deadline, _ := ctx.Deadline()
			resp, st := env.h.Process(ctx, ev)
			if over := time.Since(deadline); over > 0 {
				t.Fatalf("Process answered %s after the deadline: Lambda would have killed it and failed every message", over)
			}

			failed := failedIDs(resp)
			all := decoded(t, ev)
			ok := maps.Clone(all)
			for _, id := range failed {
				delete(ok, id)
			}
			switch {
			case tc.wantAll && len(failed) > 0:
				t.Fatalf("failures %v with time enough", failed)
			case !tc.wantAll && (len(failed) == 0 || st.NotStarted == 0):
				t.Fatalf("failures %v, %d not started: the batch cannot fit its deadline at %s per request", failed, st.NotStarted, delay)
			case tc.wantSomeDone && len(ok) == 0:
				t.Fatalf("every message failed (%v): the budget must let the first ones finish", failed)
			}
			// Messages are stored in order: the failed ones are the last.
			if want := ids(ev)[messages-len(failed):]; !slices.Equal(failed, want) {
				t.Errorf("failed %v, want the last %d messages %v", failed, len(failed), want)
			}
			logged := errorLogs(t, env.logs.String())
			for _, id := range failed {
				if !strings.Contains(logged[id], errNoTime.Error()) && !strings.Contains(logged[id], context.DeadlineExceeded.Error()) {
					t.Errorf("%s failed for %q, want it not started or cut by the deadline", id, logged[id])
				}
			}
			// None lost: what succeeded is stored, indexed and announced;
			// nothing of a message not started was written or announced.
			checkStored(t, env, ok, false)
			checkStateAndIndex(t, env, ok, false)
			if got, want := env.ev.windows(), expectedWindows(ok); !slices.Equal(got, want) {
				t.Errorf("events named %v, want %v (the windows of the messages that succeeded)", got, want)
			}
			raw := env.db.rawItems()
			for _, id := range failed {
				if !strings.Contains(logged[id], errNoTime.Error()) {
					continue
				}
				for _, p := range all[id].Points {
					if raw[tableKey{p.Symbol, p.Key}] != nil {
						t.Fatalf("%s was not started, yet its point %s is stored", id, p.Key)
					}
				}
			}
			if st.Stored != len(ok)*points || st.Failed != len(failed) {
				t.Errorf("stats %+v: stored %d points, want %d (the succeeded messages' only)", st, st.Stored, len(ok)*points)
			}
			t.Logf("deadline %s: %d of %d messages stored, %d not started, %d failed", tc.deadline, len(ok), messages, st.NotStarted, len(failed))
		})
	}
}

// TestSmallMessagesShareAGroup: messages too small to keep the writer's
// requests in flight on their own are written together (the budget works on
// groups of whole messages), so a batch of small messages costs no more
// requests than one Put of all its items (points and partial aggregates).
func TestSmallMessagesShareAGroup(t *testing.T) {
	env := newEnv(t, nil)
	ev := pointsEvent(t, 10, 10, 10, 10, 10) // 50 points
	resp, st := env.h.Process(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	items := 5*10 + st.Partials
	var sum, partial int
	for _, n := range env.db.batchSizes {
		sum += n
		if n < limits.DynamoBatchWriteItems {
			partial++
		}
	}
	if want := (items + limits.DynamoBatchWriteItems - 1) / limits.DynamoBatchWriteItems; st.WriteRequests != want || sum != items || partial > 1 {
		t.Errorf("%d requests of %v items, want %d, all full but one", st.WriteRequests, env.db.batchSizes, want)
	}
	checkStored(t, env, decoded(t, ev), true)
}

// dailyCloses returns one point per weekday at 21:00 UTC from 2000 to 2019
// for each symbol: one point per window, over thousands of windows.
func dailyCloses(symbols ...string) []marketdata.Point {
	var pts []marketdata.Point
	for d := time.Date(2000, 1, 3, 21, 0, 0, 0, time.UTC); d.Year() < 2020; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		for i, s := range symbols {
			pts = append(pts, marketdata.Point{Symbol: s, Timestamp: d.UnixMilli(), Price: 20 + float64(i) + float64(d.YearDay())/100, Volume: "1000"})
		}
	}
	return pts
}

// TestIndexHorizon: a batch holding twenty years of daily closes (thousands
// of windows) and a few recent points adds only the recent windows to the
// active-window index, while its events still name every window.
func TestIndexHorizon(t *testing.T) {
	history := dailyCloses("OLDA", "OLDB")
	var recs []record
	origin := "s3://market-data-test/daily.csv#v1"
	enc, err := marketdata.NewMessageEncoder(origin, limits.QueueMaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	flush := func() {
		recs = append(recs, record{fmt.Sprintf("history-%d", len(recs)), string(enc.Bytes())})
		enc.Reset()
	}
	for i, p := range history {
		ok, err := enc.Add(p, int64(i))
		if err == nil && !ok {
			flush()
			ok, err = enc.Add(p, int64(i))
		}
		if err != nil || !ok {
			t.Fatalf("point %d: %v", i, err)
		}
	}
	flush()
	// Recent points: from 12 minutes before testNow to a minute after.
	t0 := testNow.Add(-12 * time.Minute).UnixMilli()
	recs = append(recs, record{"recent", encodeOne(t, "api:req-recent", 40, func(i int) marketdata.Point {
		return marketdata.Point{Symbol: "NEWA", Timestamp: t0 + int64(i)*20_000, Price: 5, Volume: "1"}
	})})
	ev := fixtureEvent(recs)

	env := newEnv(t, nil)
	resp, st := env.h.Process(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v\n%s", resp.BatchItemFailures, env.logs)
	}
	msgs := decoded(t, ev)
	all := expectedWindows(msgs)
	if len(all) < 10_000 {
		t.Fatalf("only %d windows: the test needs thousands", len(all))
	}
	// The index: only windows a schedule tick from now on reads. The
	// recent message's windows from 15 minutes before testNow are (the tick
	// at testNow reads the two before it, and a tick just before testNow
	// one further back); the history's are not.
	var wantIndexed []int64
	for _, w := range all {
		if w.Symbol == "NEWA" && w.Start >= testNow.Add(-15*time.Minute).UnixMilli() && !slices.Contains(wantIndexed, w.Start) {
			wantIndexed = append(wantIndexed, w.Start)
		}
	}
	var indexed []int64
	for k := range env.db.items {
		if k.hash == marketdata.ActiveWindows {
			start, err := strconv.ParseInt(k.rng, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			indexed = append(indexed, start)
		}
	}
	slices.Sort(indexed)
	if !slices.Equal(indexed, wantIndexed) || st.IndexedWindows != len(wantIndexed) {
		t.Errorf("indexed window starts %v (stats %d), want %v", indexed, st.IndexedWindows, wantIndexed)
	}
	if want := 3 + 3 + len(wantIndexed); st.UpdateRequests != want || env.db.updateCalls != want {
		t.Errorf("%d UpdateItem requests, want %d: per symbol its state and its (first) symbols-index item, and one per indexed window", st.UpdateRequests, want)
	}
	checkStored(t, env, msgs, true)
	checkStateAndIndex(t, env, msgs, true)
	// Every window reaches the aggregator through the events, within
	// PutEvents' limits (the fake refuses more than 10 entries or 256 KiB
	// per call).
	if got := env.ev.windows(); !slices.Equal(got, all) {
		t.Errorf("events named %d windows, want all %d", len(got), len(all))
	}
	t.Logf("%d points in %d windows: %d UpdateItem, %d PutEvents calls with entries %v", st.Points, len(all), st.UpdateRequests, st.PutEventsCalls, env.ev.entries)
}
