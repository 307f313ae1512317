package marketdata

// The custom event the processor emits after storing points, and the
// aggregator consumes (via the compute stack's EventBridge rule).
const (
	EventSource     = "marketanalytics.processor"
	EventDetailType = "MarketDataWindowsChanged"

	// The source and detail type of the event EventBridge sends a schedule
	// rule's targets (AWS's names): the aggregator's schedule, and the
	// local pipeline's timers that stand in for it.
	ScheduledEventSource     = "aws.events"
	ScheduledEventDetailType = "Scheduled Event"
)

// WindowRef names one 5-minute window of one symbol.
type WindowRef struct {
	Symbol string `json:"symbol"`
	// Start is the window start in epoch milliseconds.
	Start int64 `json:"start"`
}

// WindowsChanged is the detail of an EventDetailType event.
type WindowsChanged struct {
	Windows []WindowRef `json:"windows"`
	// FromRaw asks the aggregator to recompute the windows from their raw
	// points rather than from their partials: the repair path (for points
	// stored before partials existed, or a partial lost by hand). The
	// processor never sets it; an operator sends it (ops recompute --from-raw).
	FromRaw bool `json:"fromRaw,omitempty"`
}
