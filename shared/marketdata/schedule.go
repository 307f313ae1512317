package marketdata

import (
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
)

// ScheduledWindows returns the first and last window start that the
// aggregator's schedule tick at tick finalises: the
// limits.ScheduleFinalisedWindows windows that closed last before it, for the
// symbols their ActiveWindows items list. A tick never looks further back.
func ScheduledWindows(tick time.Time) (first, last int64) {
	w := limits.AggregationWindow.Milliseconds()
	current := WindowStart(tick.UnixMilli())
	return current - limits.ScheduleFinalisedWindows*w, current - w
}

// IndexHorizon returns the oldest window start the processor lists in the
// ActiveWindows index for points it stores at now. Only the schedule reads
// that index, and no tick from now on reads a window older than this, so
// listing one would cost a write (one per window: thousands for a historical
// backfill) for nothing; older windows are aggregated through the
// processor's WindowsChanged events alone, which name every window touched.
//
// The horizon reaches one window further back than a tick at now reads, for
// a tick that fired up to a window before now but is read after it (the
// schedule is delivered late, or the clocks differ a little).
func IndexHorizon(now time.Time) int64 {
	first, _ := ScheduledWindows(now.Add(-limits.AggregationWindow))
	return first
}
