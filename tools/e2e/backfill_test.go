//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
)

// dailyCloses returns one closing trade per weekday from 1999 to 2018 for
// symbol, at 21:00 UTC: one point per window, over thousands of windows.
func dailyCloses(symbol string, seed float64) []marketdata.Point {
	var pts []marketdata.Point
	price := 20 + seed
	for d := time.Date(1999, 1, 1, 21, 0, 0, 0, time.UTC); d.Year() < 2019; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		i := float64(len(pts))
		price = math.Max(1, price*(1+0.01*math.Sin(i*0.7+seed)))
		pts = append(pts, marketdata.Point{Symbol: symbol, Timestamp: d.UnixMilli(),
			Price: math.Round(price*100) / 100, Volume: marketdata.Units(uint64(1_000_000 + (int(i)*7919)%500_000))})
	}
	return pts
}

// historicTicks returns n points spread round-robin over symbols, every 6 s
// from start: 50 points per symbol and window, over thousands of windows.
func historicTicks(symbols []string, start time.Time, n int) []marketdata.Point {
	pts := make([]marketdata.Point, 0, n)
	for i := range n {
		sym := symbols[i%len(symbols)]
		k := i / len(symbols)
		price := 50 + float64(i%len(symbols))*10 + 5*math.Sin(float64(k)/40)
		p := marketdata.Point{Symbol: sym, Timestamp: start.Add(time.Duration(k) * 6 * time.Second).UnixMilli(),
			Price: math.Round(price*100) / 100, Volume: marketdata.Units(uint64(1 + (i*31)%400)), Exchange: "XNYS"}
		if k%2 == 0 {
			p.Bid, p.Ask = p.Price-0.01, p.Price+0.01
		}
		pts = append(pts, p)
	}
	return pts
}

// TestBackfillFirstDelivery loads twenty years of daily closes (one point per
// window: thousands of windows in one SQS batch) and a 200,000-point file of
// historical ticks, and requires every queue message to succeed on its first
// delivery: none redelivered, none reported failed, the DLQ empty. Every
// window must then equal an independent computation, reached through the
// processor's custom events alone (the windows are far older than the
// active-window index's horizon, and the tests run no schedule). It prints
// how long the run took.
//
// It has a pipeline of its own, so that the trigger counters are its own:
// moto's Query shim on (the aggregator queries tens of thousands of windows
// in a table of a quarter of a million points) and one emulator per function
// (moto is one Python process; see the README's Running locally).
func TestBackfillFirstDelivery(t *testing.T) {
	synthDir, buildDir := requireBuild(t)
	p := startOwn(t, pipeline.Config{SynthDir: synthDir, BuildDir: buildDir, Instances: 1, FreshMoto: true, FastQuery: true})
	ctx, cancelRun := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancelRun()

	var daily []marketdata.Point
	for i, s := range []string{"BFDA", "BFDB", "BFDC"} {
		daily = append(daily, dailyCloses(s, float64(i))...)
	}
	ticks := historicTicks([]string{"BFTA", "BFTB", "BFTC", "BFTD"}, time.Date(2025, 6, 2, 13, 30, 0, 0, time.UTC), 200_000)
	objects := []struct {
		key string
		pts []marketdata.Point
	}{
		{"backfill/daily-1999-2018.csv", daily},
		{"backfill/ticks-200k.csv", ticks},
	}
	bySymbol := map[string][]marketdata.Point{}
	windows := 0
	for _, o := range objects {
		for _, pt := range o.pts {
			bySymbol[pt.Symbol] = append(bySymbol[pt.Symbol], pt)
		}
	}
	for _, pts := range bySymbol {
		windows += len(expectedAggregates(pts))
	}

	start := time.Now()
	for _, o := range objects {
		if _, err := upload(ctx, p, o.key, csvObject(o.pts)); err != nil {
			t.Fatal(err)
		}
	}
	var messages int64
	for _, o := range objects {
		rep, err := waitReport(ctx, p, o.key, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != marketdata.ReportCompleted || rep.Accepted != int64(len(o.pts)) || rep.Rejected != 0 {
			t.Fatalf("%s: report %s, accepted %d of %d, rejected %d: %+v", o.key, rep.Status, rep.Accepted, len(o.pts), rep.Rejected, rep)
		}
		messages += rep.Messages
	}

	// Until the queue is drained and the glue idle, any redelivery or
	// reported failure ends the test at once (before the fix, the batches
	// of daily closes timed out and were retried for minutes).
	qurl, dlq := queueURL(t, p, outputs.QueueArn), queueURL(t, p, outputs.DLQArn)
	st := p.Glue.Stats()
	firstDelivery := func() error {
		if n := st.SQSRedelivered.Load(); n > 0 {
			return fmt.Errorf("%d queue messages were delivered more than once", n)
		}
		if n := st.SQSFailedMessages.Load(); n > 0 {
			return fmt.Errorf("%d queue messages were reported failed or timed out", n)
		}
		if n, err := p.QueueDepth(ctx, dlq, true); err != nil || n > 0 {
			return fmt.Errorf("the DLQ holds %d messages (%v)", n, err)
		}
		return nil
	}
	for quiet := 0; quiet < 3; {
		if err := firstDelivery(); err != nil {
			t.Fatalf("after %s: %v", time.Since(start).Round(time.Second), err)
		}
		depth, err := p.QueueDepth(ctx, qurl, true)
		if err != nil {
			t.Fatal(err)
		}
		if depth == 0 && p.Glue.Busy() == 0 {
			quiet++
		} else {
			quiet = 0
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after %s: the processing queue still holds %d messages", time.Since(start).Round(time.Second), depth)
		case <-time.After(time.Second):
		}
	}
	stored := time.Since(start)
	if got := st.SQSMessages.Load(); got != messages {
		t.Errorf("%d queue messages delivered to the processor, ingestion queued %d", got, messages)
	}

	// Every window equals an independent computation.
	symbols := slices.Sorted(maps.Keys(bySymbol))
	for _, s := range symbols {
		want := expectedAggregates(bySymbol[s])
		if err := eventually(ctx, 5*time.Minute, func() error {
			got, err := table(p).Aggregates(ctx, s)
			if err != nil {
				return err
			}
			if err := checkAggregates(got, want); err != nil {
				time.Sleep(3 * time.Second) // each look reads thousands of items from moto
				return err
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	aggregated := time.Since(start)
	if err := firstDelivery(); err != nil {
		t.Fatal(err)
	}
	// None of these windows is recent enough for the schedule: the index
	// lists none of the symbols.
	active, err := table(p).ActiveSymbols(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range symbols {
		if slices.Contains(active, s) {
			t.Errorf("the active-window index lists %s, whose windows are all years or months old", s)
		}
	}
	t.Logf("backfill: %d points (%d daily closes 1999-2018, %d ticks) in %d windows of %d symbols, %d queue messages in %d batches, each delivered once, DLQ empty: stored in %s, aggregated in %s",
		len(daily)+len(ticks), len(daily), len(ticks), windows, len(symbols), messages, st.SQSBatches.Load(),
		stored.Round(time.Second), aggregated.Round(time.Second))
	points := float64(len(daily) + len(ticks))
	for k, n := range p.Proxy.Counts() {
		if k.Caller == "processor" || k.Caller == "aggregator" {
			t.Logf("  %s %s %s: %d (%.0f per million points)", k.Caller, k.Service, k.Operation, n, float64(n)*1e6/points)
		}
	}
}
