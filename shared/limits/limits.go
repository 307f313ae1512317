// Package limits holds the numbers both the stacks and the services depend on.
package limits

import "time"

const (
	// QueueMaxMessageBytes is the queues' maximum message size (256 KiB);
	// ingestion packs points into messages up to this size. It is the
	// largest size pulumi-aws v6's typed sqs.Queue accepts (1024-262144).
	// SQS takes 1 MiB since August 2025, but larger messages would buy
	// nothing: SQS bills per 64 KiB chunk whatever the message size, a
	// SendMessageBatch call carries SQSBatchMaxBytes whatever the message
	// size, and Lambda's SQS trigger delivers at most LambdaPayloadBytes per
	// invocation.
	QueueMaxMessageBytes = 256 << 10
	// QueueVisibilityTimeout is the processing queue's visibility timeout.
	QueueVisibilityTimeout = 300 * time.Second
	// QueueRetention is the processing queue's message retention (4 days).
	QueueRetention = 4 * 24 * time.Hour
	// DLQRetention is the dead-letter queue's message retention (14 days).
	DLQRetention = 14 * 24 * time.Hour
	// MaxReceiveCount is how often a message is received before the redrive
	// moves it to the dead-letter queue.
	MaxReceiveCount = 3
	// QueueBatchSize is the most messages the processor's SQS trigger
	// delivers in one invocation (its event source mapping's BatchSize).
	QueueBatchSize = 10
	// SQSBatchEntries is the most entries one SendMessageBatch call takes.
	SQSBatchEntries = 10
	// SQSBatchMaxBytes is the most bytes one SendMessageBatch call may carry:
	// the sum of its entries' bodies (and attributes), 1 MiB since SQS raised
	// the message size limit in August 2025. A call therefore carries four
	// full QueueMaxMessageBytes messages.
	SQSBatchMaxBytes = 1 << 20
	// SQSBillingChunkBytes is the unit SQS bills a request by: every 64 KiB
	// of payload is one request.
	SQSBillingChunkBytes = 64 << 10

	// LambdaPayloadBytes is Lambda's limit on a synchronous invocation's
	// payload (the 6 MB of its quotas; Lambda's RequestEntityTooLarge
	// message names 6291456 bytes). An SQS event source mapping's batch, as
	// the encoded event, must stay below it.
	LambdaPayloadBytes = 6 << 20

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
	// ScheduleFinalisedWindows is how many closed windows each schedule tick
	// finalises: the one that closed last before the tick and the one before
	// it, so a late or missed tick loses nothing (marketdata.ScheduledWindows).
	ScheduleFinalisedWindows = 2
	// MaxFutureSkew is how far in the future a point's timestamp may be.
	MaxFutureSkew = 24 * time.Hour
	// MaxSymbolLen is the longest symbol accepted.
	MaxSymbolLen = 16

	// UnzippedMaxBytes bounds the file a zipped S3 object may unpack to
	// (data.binance.vision ships each CSV alone in a .zip): an entry that
	// declares more, or yields more while read, is refused as a zip bomb
	// before the ingestion function spends its 15-minute timeout on it.
	// 2 GiB is tens of millions of trade rows, more than one function run
	// ingests, and more than a day of one Binance spot pair; larger
	// (monthly) files are refused with this limit in the reason.
	UnzippedMaxBytes = 2 << 30

	// APIProxyEnvelopeBytes bounds the API Gateway proxy event around a
	// POST /ingest body: headers and multiValueHeaders (API Gateway caps a
	// request's headers at 10 KiB, and the event carries them twice),
	// requestContext with the caller's identity, and the event's own keys.
	// The ingestion handler's tests measure a realistic SigV4-signed event
	// and fail if it outgrows this.
	APIProxyEnvelopeBytes = 32 << 10
	// APIMaxBodyBytes is the largest POST /ingest body accepted: the largest
	// that still reaches the function. API Gateway itself takes 10 MB, but
	// Lambda refuses a synchronous invocation whose event exceeds
	// LambdaPayloadBytes, and the event carries the body as a JSON string,
	// where a valid JSON body at worst doubles (every '"' and '\' of its
	// strings, and its \t \n \r whitespace, gain a backslash; raw control
	// characters are not valid JSON). Hence (6 MiB − envelope) / 2 =
	// 3,129,344 bytes; the handler answers 413 above it.
	APIMaxBodyBytes = (LambdaPayloadBytes - APIProxyEnvelopeBytes) / 2

	// QueryMaxSymbols is the most symbols one POST /query names.
	QueryMaxSymbols = 100
	// QueryMaxAggregates is the most aggregates one POST /query answer
	// carries; a larger answer is paged (its "next" token). An aggregate's
	// JSON takes at most QueryAggregateMaxBytes (the aggregator's tests
	// measure the largest one, and its escaping in the Lambda response), so
	// an answer stays well inside LambdaPayloadBytes.
	QueryMaxAggregates = 5000
	// QueryAggregateMaxBytes bounds one aggregate's JSON in an answer,
	// escaped as a string of the Lambda proxy response.
	QueryAggregateMaxBytes = 640
	// DynamoBatchGetItems is the most keys one BatchGetItem call takes; it
	// is also GET /symbols's largest page (one BatchGetItem of the
	// symbols' latest states per page).
	DynamoBatchGetItems = 100
)
