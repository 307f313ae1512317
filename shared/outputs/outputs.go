// Package outputs holds the stack output keys each layer exports and the next
// one reads through a StackReference.
package outputs

// EnvironmentSuffix is the suffix of every resource name of a layer. The
// storage, messaging and compute layers export it; each upper layer compares
// its own with those of the layers it references and fails on a mismatch
// (common.Layer.RequireSuffix), so no layer wires itself to resources of
// another environment.
const EnvironmentSuffix = "environmentSuffix"

// storage layer
const (
	BucketName = "bucketName"
	BucketArn  = "bucketArn"
	TableName  = "tableName"
	TableArn   = "tableArn"
)

// messaging layer
const (
	QueueURL     = "queueUrl"
	QueueArn     = "queueArn"
	DLQURL       = "dlqUrl"
	DLQArn       = "dlqArn"
	EventBusName = "eventBusName"
	EventBusArn  = "eventBusArn"
)

// compute layer
const (
	IngestionFunctionName  = "ingestionFunctionName"
	IngestionFunctionArn   = "ingestionFunctionArn"
	IngestionInvokeArn     = "ingestionInvokeArn"
	ProcessorFunctionName  = "processorFunctionName"
	ProcessorFunctionArn   = "processorFunctionArn"
	AggregatorFunctionName = "aggregatorFunctionName"
	AggregatorFunctionArn  = "aggregatorFunctionArn"
	AggregatorInvokeArn    = "aggregatorInvokeArn"
)

// api layer; it also re-exports BucketName and TableArn, the spec's outputs.
const (
	// APIURL is the stage's invoke URL, the spec's "API Gateway URL".
	APIURL        = "apiUrl"
	IngestURL     = "ingestUrl"
	AggregatesURL = "aggregatesUrl"
	APIID         = "apiId"
	StageName     = "stageName"
)

// messaging layer, for every layer's alarms: the SNS topic they notify. The
// compute layer re-exports it under the same key for the API layer, which
// references compute, not messaging.
const AlarmTopicArn = "alarmTopicArn"
