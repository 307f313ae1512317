// Package limits holds the numbers both the stacks and the services depend on.
package limits

import "time"

const (
	// QueueMaxMessageBytes is the processing queue's maximum message size
	// (1 MiB); ingestion packs points into messages up to this size.
	QueueMaxMessageBytes = 1 << 20
	// QueueVisibilityTimeout is the processing queue's visibility timeout.
	QueueVisibilityTimeout = 300 * time.Second
	// QueueRetention is the processing queue's message retention (4 days).
	QueueRetention = 4 * 24 * time.Hour
	// DLQRetention is the dead-letter queue's message retention (14 days).
	DLQRetention = 14 * 24 * time.Hour
	// MaxReceiveCount is how often a message is received before the redrive
	// moves it to the dead-letter queue.
	MaxReceiveCount = 3
	// SQSBatchEntries is the most entries one SendMessageBatch call takes.
	SQSBatchEntries = 10
	// SQSBatchMaxBytes is the most bytes one SendMessageBatch call may carry:
	// the sum of its entries' bodies (and attributes), 1 MiB since SQS raised
	// the message size limit in August 2025. With full 1 MiB messages a call
	// therefore carries one of them; smaller ones share a call.
	SQSBatchMaxBytes = 1 << 20

	// DataRetention is how long raw files, raw points and state live.
	DataRetention = 30 * 24 * time.Hour
	// DataRetentionDays is DataRetention in days (S3 lifecycle).
	DataRetentionDays = 30
	// LogRetentionDays is the functions' log retention.
	LogRetentionDays = 7

	// DynamoBatchWriteItems is the most items one BatchWriteItem call takes.
	DynamoBatchWriteItems = 25
	// EventBridgePutEntries is the most entries one PutEvents call takes.
	EventBridgePutEntries = 10
	// EventBridgeEntryBytes is the most bytes one PutEvents entry may carry.
	EventBridgeEntryBytes = 256 * 1024

	// AggregationWindow is the width of an aggregate window.
	AggregationWindow = 5 * time.Minute
	// MaxFutureSkew is how far in the future a point's timestamp may be.
	MaxFutureSkew = 24 * time.Hour
	// MaxSymbolLen is the longest symbol accepted.
	MaxSymbolLen = 16

	// APIMaxBodyBytes is API Gateway's payload limit for POST /ingest.
	APIMaxBodyBytes = 10 << 20
)
