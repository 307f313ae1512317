package triggers

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/marketanalytics/pipeline/tools/internal/lambdarun"
)

// asyncRetryDelays are Lambda's waits before the first and second retry of a
// failed asynchronous invocation.
var asyncRetryDelays = []time.Duration{time.Minute, 2 * time.Minute}

// invokeAsync delivers payload to fn as an asynchronous invocation, the way
// Lambda does for S3 and EventBridge: the caller does not wait; a function
// error is retried up to fn.Async.MaxRetries times while the event is younger
// than fn.Async.MaxAge; what still fails goes to the function's dead-letter
// queue (with Lambda's RequestID/ErrorCode/ErrorMessage attributes) or is
// dropped when it has none. done, when not nil, gets the final outcome.
func (g *Glue) invokeAsync(fn *Function, payload []byte, source string, done func(error)) {
	g.inflight.Add(1)
	g.go_(func() {
		defer g.inflight.Add(-1)
		err := g.invokeWithRetries(fn, payload, source)
		if done != nil {
			done(err)
		}
	})
}

func (g *Glue) invokeWithRetries(fn *Function, payload []byte, source string) error {
	start := time.Now()
	// Every retry of the event carries the same request ID, as on Lambda.
	requestID := uuid.NewString()
	ctx := lambdarun.WithRequestID(g.ctx, requestID)
	var err error
	for attempt := 0; ; attempt++ {
		_, err = g.invoker(fn).Invoke(ctx, payload)
		if err == nil {
			return nil
		}
		if g.ctx.Err() != nil {
			return err
		}
		g.stats.AsyncFailures.Add(1)
		g.logf("%s → %s: attempt %d failed: %v", source, fn.Name, attempt+1, err)
		if attempt >= fn.Async.MaxRetries {
			break
		}
		delay := g.opts.AsyncRetryDelay
		if delay <= 0 {
			delay = asyncRetryDelays[min(attempt, len(asyncRetryDelays)-1)]
		}
		if time.Since(start)+delay > fn.Async.MaxAge {
			g.logf("%s → %s: event older than the maximum event age %s", source, fn.Name, fn.Async.MaxAge)
			break
		}
		if !g.sleep(delay) {
			return err
		}
	}
	if fn.DeadLetterARN == "" {
		g.logf("%s → %s: dropped after retries (no dead-letter target)", source, fn.Name)
		return err
	}
	if dlqErr := g.deadLetter(ctx, fn.DeadLetterARN, payload, err); dlqErr != nil {
		g.logf("%s → %s: dead-letter to %s failed: %v", source, fn.Name, fn.DeadLetterARN, dlqErr)
		return errors.Join(err, dlqErr)
	}
	g.logf("%s → %s: sent to the dead-letter queue %s", source, fn.Name, fn.DeadLetterARN)
	return err
}

// requestID is the invocation's request ID (lambdarun.WithRequestID), or a
// new one.
func requestID(ctx context.Context) string {
	if id := lambdarun.RequestID(ctx); id != "" {
		return id
	}
	return uuid.NewString()
}

// deadLetter sends an undeliverable event to a dead-letter queue with the
// attributes Lambda adds.
func (g *Glue) deadLetter(ctx context.Context, queueArn string, payload []byte, cause error) error {
	url, err := g.queueURL(ctx, queueArn)
	if err != nil {
		return err
	}
	code, msg := "200", cause.Error()
	var fe *lambdarun.FunctionError
	if errors.As(cause, &fe) {
		msg = fe.Message
	}
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	_, err = g.aws.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(url),
		MessageBody: aws.String(string(payload)),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"RequestID":    {DataType: aws.String("String"), StringValue: aws.String(requestID(ctx))},
			"ErrorCode":    {DataType: aws.String("Number"), StringValue: aws.String(code)},
			"ErrorMessage": {DataType: aws.String("String"), StringValue: aws.String(msg)},
		},
	})
	if err == nil {
		g.stats.DeadLettered.Add(1)
	}
	return err
}
