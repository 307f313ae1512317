package naming

import "strings"

// AlarmTopic is the SNS topic every alarm of the pipeline notifies, on ALARM
// and on OK.
func (n Names) AlarmTopic() string { return n.with("MarketDataAlarms") }

// Dashboard is the CloudWatch dashboard of the pipeline.
func (n Names) Dashboard() string { return n.with("MarketData") }

// Alarm identifiers. The alarm's name is Names.Alarm(id); its runbook
// paragraph in README.md is the heading RunbookHeading(id).
const (
	// AlarmDLQVisible: the dead-letter queue holds a visible message.
	AlarmDLQVisible = "DLQMessagesVisible"
	// AlarmQueueAge: the processing queue's oldest message is too old.
	AlarmQueueAge = "QueueMessageAge"
	// AlarmAPI5XXRate: the API's 5XX responses exceed a share of requests.
	AlarmAPI5XXRate = "API5XXRate"
	// AlarmAPILatency: the API's p99 latency exceeds a bound.
	AlarmAPILatency = "APILatencyP99"
	// AlarmAggregationLag: the aggregator's AggregationLag exceeds a bound.
	AlarmAggregationLag = "AggregationLag"
	// AlarmNoPointsAggregated (optional, off by default): nothing was
	// aggregated for a while.
	AlarmNoPointsAggregated = "NoPointsAggregated"
	// AlarmProcessorDuration: the processor's p99 duration nears its timeout.
	AlarmProcessorDuration = "processor-DurationP99"
)

// Kinds of the alarms every function has; FunctionAlarm names them.
const (
	// FunctionLogErrors: the function's error metric filter counted a log
	// event with ERROR or Exception.
	FunctionLogErrors = "LogErrors"
	// FunctionErrors: Lambda's Errors metric (failed invocations).
	FunctionErrors = "Errors"
	// FunctionThrottles: Lambda's Throttles metric.
	FunctionThrottles = "Throttles"
)

// FunctionAlarmKinds lists the per-function alarm kinds.
var FunctionAlarmKinds = []string{FunctionLogErrors, FunctionErrors, FunctionThrottles}

// FunctionAlarm is the identifier of a per-function alarm of a service
// (Services) and kind (FunctionAlarmKinds).
func FunctionAlarm(service, kind string) string { return service + "-" + kind }

// Alarm is the name of the alarm with identifier id.
func (n Names) Alarm(id string) string { return n.with("MarketData-" + id) }

// AlarmIDs are the identifiers of every alarm the stacks create with their
// default config, in the order an operator reads them (the pipeline's flow).
// AlarmNoPointsAggregated is left out: it exists only when configured.
func AlarmIDs() []string {
	ids := []string{AlarmDLQVisible, AlarmQueueAge}
	for _, svc := range Services {
		for _, k := range FunctionAlarmKinds {
			ids = append(ids, FunctionAlarm(svc, k))
		}
	}
	return append(ids, AlarmProcessorDuration, AlarmAggregationLag, AlarmAPI5XXRate, AlarmAPILatency)
}

// RunbookDoc is the document holding the runbook, relative to the
// repository root.
const RunbookDoc = "README.md"

// RunbookHeading is the heading text of an alarm's runbook paragraph. Every
// per-function alarm of a kind shares its kind's paragraph.
func RunbookHeading(id string) string {
	for _, k := range FunctionAlarmKinds {
		for _, svc := range Services {
			if id == FunctionAlarm(svc, k) {
				return "Function" + k
			}
		}
	}
	return id
}

// RunbookLink is the link to an alarm's runbook paragraph: the document and
// the anchor GitHub derives from the heading (lower case; the headings hold
// letters, digits and dashes only).
func RunbookLink(id string) string {
	return RunbookDoc + "#" + strings.ToLower(RunbookHeading(id))
}
