package marketdata

import (
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
)

func TestScheduledWindows(t *testing.T) {
	tick := time.Date(2024, 3, 5, 14, 35, 0, 0, time.UTC)
	for _, tc := range []struct {
		tick        time.Time
		first, last time.Time
	}{
		// The tick at 14:35 finalises 14:25 and 14:30; 14:35 is still open.
		{tick, tick.Add(-10 * time.Minute), tick.Add(-5 * time.Minute)},
		{tick.Add(4*time.Minute + 59*time.Second), tick.Add(-10 * time.Minute), tick.Add(-5 * time.Minute)},
		{tick.Add(-time.Millisecond), tick.Add(-15 * time.Minute), tick.Add(-10 * time.Minute)},
	} {
		first, last := ScheduledWindows(tc.tick)
		if first != tc.first.UnixMilli() || last != tc.last.UnixMilli() {
			t.Errorf("ScheduledWindows(%s) = %s..%s, want %s..%s", tc.tick.Format(time.TimeOnly),
				time.UnixMilli(first).UTC().Format(time.TimeOnly), time.UnixMilli(last).UTC().Format(time.TimeOnly),
				tc.first.Format(time.TimeOnly), tc.last.Format(time.TimeOnly))
		}
		if n := (last-first)/limits.AggregationWindow.Milliseconds() + 1; n != limits.ScheduleFinalisedWindows {
			t.Errorf("a tick finalises %d windows, want %d", n, limits.ScheduleFinalisedWindows)
		}
	}
}

// TestIndexHorizonCoversTheSchedule ties the processor's index horizon to the
// aggregator's schedule: every window a tick from a window before now on
// reads is at or after the horizon (the index lists it), and the window
// just before the horizon is read by none of them (listing it would be
// wasted).
func TestIndexHorizonCoversTheSchedule(t *testing.T) {
	w := limits.AggregationWindow
	base := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	for _, off := range []time.Duration{0, time.Millisecond, 17 * time.Second, w / 2, w - time.Millisecond} {
		now := base.Add(off)
		horizon := IndexHorizon(now)
		if WindowStart(horizon) != horizon {
			t.Fatalf("horizon %d is not a window start", horizon)
		}
		oldestRead := int64(1) << 62
		// Ticks from one window before now to a day after, every second.
		for tick := now.Add(-w); tick.Before(now.Add(24 * time.Hour)); tick = tick.Add(time.Second) {
			first, _ := ScheduledWindows(tick)
			oldestRead = min(oldestRead, first)
			if first < horizon {
				t.Fatalf("now %s: the tick at %s reads window %d, older than the horizon %d", now, tick, first, horizon)
			}
		}
		if oldestRead != horizon {
			t.Errorf("now %s: horizon %d, but the oldest window a tick still reads is %d", now, horizon, oldestRead)
		}
	}
}
