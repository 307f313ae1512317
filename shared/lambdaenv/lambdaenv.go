// Package lambdaenv names the environment variables the compute stack sets on
// the functions and the services read.
package lambdaenv

const (
	// TableName is the DynamoDB table name (all three functions).
	TableName = "TABLE_NAME"
	// QueueURL is the processing queue URL (ingestion).
	QueueURL = "QUEUE_URL"
	// EventBusName is the custom event bus (processor).
	EventBusName = "EVENT_BUS_NAME"
	// MetricNamespace is the CloudWatch namespace the aggregator publishes to.
	MetricNamespace = "METRIC_NAMESPACE"
	// EnvironmentSuffix is the sanitized environment suffix (all three).
	EnvironmentSuffix = "ENVIRONMENT_SUFFIX"
)
