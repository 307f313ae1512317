// Package naming derives every AWS resource name of the pipeline from the
// environment suffix, and holds the tags and Pulumi project names.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Region is the only region the pipeline is deployed to.
const Region = "us-east-1"

// MaxSuffixLen bounds the environment suffix so that the longest derived name
// (an IAM role, 64 characters) stays valid. Longer suffixes are shortened
// deterministically by Suffix.
const MaxSuffixLen = 32

// Tags returns the tags every taggable resource carries. A new map is returned
// on each call so callers may extend it without affecting others.
func Tags() map[string]string {
	return map[string]string{
		"Environment": "Production",
		"Project":     "MarketAnalytics",
	}
}

// Pulumi project names of the four layers, in deploy order.
const (
	ProjectStorage   = "market-data-storage"
	ProjectMessaging = "market-data-messaging"
	ProjectCompute   = "market-data-compute"
	ProjectAPI       = "market-data-api"
)

// Layers lists the four layers in deploy order (directory names under stacks/).
var Layers = []string{"storage", "messaging", "compute", "api"}

// Suffix turns a raw environment suffix (usually the Pulumi stack name) into one
// that is valid in every AWS name the pipeline derives from it: characters
// outside [A-Za-z0-9-] become '-', runs of '-' collapse, leading and trailing
// '-' are trimmed, and a suffix longer than MaxSuffixLen is cut and given a
// short hash of the original so that distinct long names stay distinct.
func Suffix(raw string) (string, error) {
	var b strings.Builder
	lastDash := true // trims leading dashes
	for _, r := range raw {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		switch {
		case ok:
			b.WriteRune(r)
			lastDash = false
		case !lastDash:
			b.WriteByte('-')
			lastDash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if s == "" {
		return "", fmt.Errorf("environment suffix %q has no letters or digits", raw)
	}
	if len(s) > MaxSuffixLen {
		sum := sha256.Sum256([]byte(raw))
		h := hex.EncodeToString(sum[:])[:7]
		s = strings.TrimRight(s[:MaxSuffixLen-len(h)-1], "-") + "-" + h
	}
	return s, nil
}

// Names derives resource names from a sanitized environment suffix.
type Names struct {
	suffix string
}

// New sanitizes raw with Suffix and returns the names for it.
func New(raw string) (Names, error) {
	s, err := Suffix(raw)
	if err != nil {
		return Names{}, err
	}
	return Names{suffix: s}, nil
}

// MustNew is New for suffixes known to be valid (tests, tools).
func MustNew(raw string) Names {
	n, err := New(raw)
	if err != nil {
		panic(err)
	}
	return n
}

// Suffix returns the sanitized environment suffix.
func (n Names) Suffix() string { return n.suffix }

func (n Names) with(base string) string { return base + "-" + n.suffix }

// Bucket is the raw-data bucket. S3 demands lower case.
func (n Names) Bucket() string { return strings.ToLower(n.with("market-data")) }

// Table is the DynamoDB table holding points, state, aggregates and reports.
func (n Names) Table() string { return n.with("MarketDataState") }

// ProcessingQueue is the SQS queue between ingestion and processor.
func (n Names) ProcessingQueue() string { return n.with("ProcessingQueue") }

// DeadLetterQueue receives what the pipeline could not deliver: the processing
// queue's redrive, the asynchronous invocations' failures, and the EventBridge
// targets' undeliverable events.
func (n Names) DeadLetterQueue() string { return n.with("ProcessingDLQ") }

// EventBus is the custom EventBridge bus the processor publishes to.
func (n Names) EventBus() string { return n.with("MarketDataEvents") }

// Function names.
func (n Names) Ingestion() string  { return n.with("DataIngestion") }
func (n Names) Processor() string  { return n.with("DataProcessor") }
func (n Names) Aggregator() string { return n.with("DataAggregator") }

// Functions lists the three function names.
func (n Names) Functions() []string {
	return []string{n.Ingestion(), n.Processor(), n.Aggregator()}
}

// Role is the execution role of a function.
func (n Names) Role(function string) string { return function + "-role" }

// LogGroup is the CloudWatch log group Lambda writes a function's logs to.
func (n Names) LogGroup(function string) string { return "/aws/lambda/" + function }

// ErrorMetric is the metric the error metric filter of a function counts into.
func (n Names) ErrorMetric(function string) string { return function + "-Errors" }

// MetricNamespace is the CloudWatch namespace of the pipeline's own metrics.
func (n Names) MetricNamespace() string { return "MarketAnalytics/Pipeline-" + n.suffix }

// Metrics the aggregator publishes into MetricNamespace, without dimensions.
const (
	// MetricPointsAggregated counts the raw points read into aggregates (Count).
	MetricPointsAggregated = "PointsAggregated"
	// MetricWindowsWritten counts the aggregate items written (Count).
	MetricWindowsWritten = "WindowsWritten"
	// MetricItemsRead counts the items the aggregator read to compute
	// aggregates: partials, or raw points on the from-raw path (Count).
	// Over the points stored it is the read amplification.
	MetricItemsRead = "AggregatorItemsRead"
	// MetricAggregationLag is the time between an invocation and the newest
	// point it aggregated (Milliseconds).
	MetricAggregationLag = "AggregationLag"
)

// Metrics the ingestion function emits into MetricNamespace as embedded
// metric format (EMF) log records, without dimensions: one per finished S3
// object, so no IAM grant is needed.
const (
	// MetricRejectedObjects is 1 for an object whose every record was
	// refused (report status REJECTED), else 0 (Count).
	MetricRejectedObjects = "RejectedObjects"
)

// ScheduleRule triggers the aggregator every five minutes (default bus).
func (n Names) ScheduleRule() string { return n.with("AggregatorSchedule") }

// EventsRule routes the processor's custom events to the aggregator (custom bus).
func (n Names) EventsRule() string { return n.with("AggregatorOnWindows") }

// API is the REST API.
func (n Names) API() string { return n.with("MarketDataAPI") }

// APIStage is the single stage of the REST API.
func (n Names) APIStage() string { return "prod" }

// APIGatewayLogsRole is the role the api stack creates for API Gateway's
// account-level CloudWatch setting when the account has none.
func (n Names) APIGatewayLogsRole() string { return n.with("MarketDataAPIGatewayLogs") }

// Metrics the compute layer's metric filters count from the functions' JSON
// logs into MetricNamespace, and the log fields they read: every log record
// carrying the field adds its value.
const (
	// MetricPointsIngested sums LogFieldAccepted of DataIngestion's records
	// (one per object or POST /ingest body).
	MetricPointsIngested = "PointsIngested"
	// MetricPointsStored sums LogFieldStored of DataProcessor's records (one
	// per batch).
	MetricPointsStored = "PointsStored"
	// LogFieldAccepted is ingestion's count of valid points queued.
	LogFieldAccepted = "accepted"
	// LogFieldStored is the processor's count of the points of a batch's
	// messages that succeeded (a message reported failed counts on the
	// delivery that succeeds).
	LogFieldStored = "points"
)
