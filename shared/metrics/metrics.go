// Package metrics holds the CloudWatch namespaces, metric names, dimension
// names and statistics of the AWS services the pipeline's alarms and
// dashboard watch. The pipeline's own metrics (the aggregator's, the error
// metric filters') are named in package naming, next to the names they
// derive from.
package metrics

// AWS service namespaces.
const (
	NamespaceSQS        = "AWS/SQS"
	NamespaceLambda     = "AWS/Lambda"
	NamespaceAPIGateway = "AWS/ApiGateway"
)

// Dimension names.
const (
	// DimQueueName is the SQS queue's name.
	DimQueueName = "QueueName"
	// DimFunctionName is the Lambda function's name.
	DimFunctionName = "FunctionName"
	// DimAPIName and DimStage select a REST API stage's metrics.
	DimAPIName = "ApiName"
	DimStage   = "Stage"
)

// SQS metrics.
const (
	SQSVisible         = "ApproximateNumberOfMessagesVisible"
	SQSNotVisible      = "ApproximateNumberOfMessagesNotVisible"
	SQSOldestAge       = "ApproximateAgeOfOldestMessage" // seconds
	SQSMessagesSent    = "NumberOfMessagesSent"
	SQSMessagesDeleted = "NumberOfMessagesDeleted"
)

// Lambda metrics.
const (
	LambdaInvocations          = "Invocations"
	LambdaErrors               = "Errors"
	LambdaThrottles            = "Throttles"
	LambdaDuration             = "Duration" // milliseconds
	LambdaConcurrentExecutions = "ConcurrentExecutions"
	LambdaAsyncEventsDropped   = "AsyncEventsDropped"
)

// API Gateway (REST) metrics.
const (
	APICount    = "Count"
	API4XXError = "4XXError"
	API5XXError = "5XXError"
	APILatency  = "Latency" // milliseconds
)

// Statistics.
const (
	Sum     = "Sum"
	Average = "Average"
	Maximum = "Maximum"
	P50     = "p50"
	P99     = "p99"
)
