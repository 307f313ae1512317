// Package lambdaenv names the environment variables the compute stack sets on
// the functions and the services read, and lists, per service, exactly the
// variables it gets: the compute stack sets these and nothing else, and each
// service's main loads these and nothing else (services/platform/envconfig),
// so a variable added to a list reaches both, and tests on both sides fail if
// either drifts from the list.
package lambdaenv

// The variables.
const (
	// TableName is the DynamoDB table name (all three functions).
	TableName = "TABLE_NAME"
	// QueueURL is the processing queue URL (ingestion).
	QueueURL = "QUEUE_URL"
	// EventBusName is the custom event bus (processor).
	EventBusName = "EVENT_BUS_NAME"
	// MetricNamespace is the CloudWatch namespace of the pipeline's metrics
	// (ingestion logs them in embedded metric format, the aggregator
	// publishes them). The stack computes it once, from naming; no service
	// derives it from a suffix of its own.
	MetricNamespace = "METRIC_NAMESPACE"
)

// Names is every variable above.
var Names = []string{TableName, QueueURL, EventBusName, MetricNamespace}

// The variables of each function, by service. Every entry is required: the
// services refuse to start without it.
var (
	Ingestion  = []string{TableName, QueueURL, MetricNamespace}
	Processor  = []string{TableName, EventBusName}
	Aggregator = []string{TableName, MetricNamespace}
)
