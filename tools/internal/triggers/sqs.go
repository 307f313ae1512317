package triggers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// esm is one SQS event source mapping.
type esm struct {
	g          *Glue
	fn         *Function
	queueArn   string
	queueURL   string
	batchSize  int
	window     time.Duration
	reportFail bool
	workers    int
}

// wireEventSourceMappings starts a poller per SQS event source mapping, with
// the mapping's batch size, batching window, ReportBatchItemFailures and
// maximum concurrency. The queue keeps its own visibility timeout and
// redrive policy (moto moves a message to the DLQ once it was received
// maxReceiveCount times), as with Lambda's pollers.
func (g *Glue) wireEventSourceMappings(ctx context.Context) error {
	for _, r := range g.plan.OfType("aws:lambda/eventSourceMapping:EventSourceMapping") {
		src := r.Str("eventSourceArn")
		if !strings.HasPrefix(src, "arn:aws:sqs:") {
			return fmt.Errorf("%s: only SQS event sources are wired locally (got %q)", r, src)
		}
		fn, err := g.function(r.Str("functionName"))
		if err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		if v, ok := r.Get("enabled"); ok && v == false {
			g.NotWired = append(g.NotWired, fmt.Sprintf("%s → %s: mapping disabled", src, fn.Name))
			continue
		}
		url, err := g.queueURL(ctx, src)
		if err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		e := &esm{g: g, fn: fn, queueArn: src, queueURL: url,
			batchSize: r.Int("batchSize", 10),
			window:    time.Duration(r.Int("maximumBatchingWindowInSeconds", 0)) * time.Second,
			workers:   fn.Concurrency,
		}
		for _, t := range r.Strings("functionResponseTypes") {
			e.reportFail = e.reportFail || t == "ReportBatchItemFailures"
		}
		if mc := synthread.Int(r.Map("scalingConfig"), "maximumConcurrency", 0); mc > 0 && mc < e.workers {
			e.workers = mc
		}
		if e.workers < 1 {
			e.workers = 1
		}
		for i := 0; i < e.workers; i++ {
			g.go_(e.poll)
		}
		g.Wired = append(g.Wired, fmt.Sprintf("%s → %s (batch %d, window %s, ReportBatchItemFailures %v, %d pollers)",
			queueName(src), fn.Name, e.batchSize, e.window, e.reportFail, e.workers))
	}
	return nil
}

func queueName(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

// pending is a received message and its record in the invocation's event.
type pending struct {
	msg sqstypes.Message
	rec []byte
}

// poll gathers batches and invokes the function with them, until the glue stops.
func (e *esm) poll() {
	var carry []pending
	for e.g.ctx.Err() == nil {
		batch, rest := e.gather(carry)
		carry = rest
		if len(batch) == 0 {
			continue
		}
		e.g.inflight.Add(1)
		e.process(batch)
		e.g.inflight.Add(-1)
	}
}

// gather receives messages until the batch is full (batch size, or the
// event would exceed Lambda's 6 MB payload: the size of the encoded event,
// where a JSON body grows by its escaped quotes) or the batching window since
// the first message has passed. Messages that did not fit stay in flight and
// start the next batch.
func (e *esm) gather(carry []pending) (batch, rest []pending) {
	size := len(`{"Records":[]}`)
	var deadline time.Time
	add := func(ps []pending) {
		for i, p := range ps {
			n := len(p.rec) + 1 // the comma
			if len(batch) >= e.batchSize || (len(batch) > 0 && size+n > limits.LambdaPayloadBytes) {
				rest = append(rest, ps[i:]...)
				return
			}
			if len(batch) == 0 {
				deadline = time.Now().Add(e.window)
			}
			batch = append(batch, p)
			size += n
		}
	}
	add(carry)
	for len(rest) == 0 && len(batch) < e.batchSize && e.g.ctx.Err() == nil {
		wait := int32(1)
		if len(batch) > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			wait = int32(min(20, max(0, int(left.Round(time.Second)/time.Second))))
		}
		out, err := e.g.aws.SQS.ReceiveMessage(e.g.ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(e.queueURL),
			MaxNumberOfMessages:         int32(min(10, e.batchSize-len(batch))),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if e.g.ctx.Err() == nil {
				e.g.logf("%s: receive: %v", queueName(e.queueArn), err)
				e.g.sleep(time.Second)
			}
			break
		}
		ps := make([]pending, 0, len(out.Messages))
		for _, m := range out.Messages {
			rec, err := json.Marshal(toEvent(m, e.queueArn, e.g.aws.Config.Region))
			if err != nil {
				e.g.logf("%s: encode message %s: %v", queueName(e.queueArn), aws.ToString(m.MessageId), err)
				continue
			}
			ps = append(ps, pending{m, rec})
		}
		add(ps)
		if len(out.Messages) == 0 && len(batch) > 0 && wait == 0 {
			break
		}
	}
	return batch, rest
}

// process invokes the function with one batch and deletes exactly the
// messages that succeeded: all of them on success; with
// ReportBatchItemFailures all but the reported ones; none when the
// invocation failed or its response is invalid.
func (e *esm) process(pb []pending) {
	g := e.g
	batch := make([]sqstypes.Message, len(pb))
	recs := make([][]byte, len(pb))
	ids := map[string]bool{}
	for i, p := range pb {
		batch[i], recs[i] = p.msg, p.rec
		ids[aws.ToString(p.msg.MessageId)] = true
		if redelivered(p.msg) {
			g.stats.SQSRedelivered.Add(1)
		}
	}
	// The events.SQSEvent document, from the records already encoded.
	payload := append(append([]byte(`{"Records":[`), bytes.Join(recs, []byte(","))...), "]}"...)
	g.stats.SQSBatches.Add(1)
	g.stats.SQSMessages.Add(int64(len(batch)))
	resp, err := e.fn.Invoker.Invoke(g.ctx, payload)
	failed := map[string]bool{}
	switch {
	case err != nil:
		g.logf("%s → %s: batch of %d failed: %v", queueName(e.queueArn), e.fn.Name, len(batch), err)
		for id := range ids {
			failed[id] = true
		}
	case e.reportFail:
		var r events.SQSEventResponse
		if jerr := json.Unmarshal(resp, &r); jerr != nil && strings.TrimSpace(string(resp)) != "null" {
			g.logf("%s → %s: invalid batch response, the whole batch is retried: %v", queueName(e.queueArn), e.fn.Name, jerr)
			for id := range ids {
				failed[id] = true
			}
			break
		}
		for _, f := range r.BatchItemFailures {
			if !ids[f.ItemIdentifier] {
				g.logf("%s → %s: batchItemFailures names unknown message %q, the whole batch is retried",
					queueName(e.queueArn), e.fn.Name, f.ItemIdentifier)
				for id := range ids {
					failed[id] = true
				}
				break
			}
			failed[f.ItemIdentifier] = true
		}
	}
	g.stats.SQSFailedMessages.Add(int64(len(failed)))
	var del []sqstypes.DeleteMessageBatchRequestEntry
	var retry []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	for i, m := range batch {
		id := strconv.Itoa(i)
		if failed[aws.ToString(m.MessageId)] {
			retry = append(retry, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(id), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(g.opts.RetryVisibility / time.Second),
			})
			continue
		}
		del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: m.ReceiptHandle})
	}
	ctx := context.WithoutCancel(g.ctx)
	for len(del) > 0 {
		n := min(10, len(del))
		out, err := g.aws.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(e.queueURL), Entries: del[:n]})
		if err != nil {
			g.logf("%s: delete: %v", queueName(e.queueArn), err)
		} else if len(out.Failed) > 0 {
			g.logf("%s: delete: %d entries failed, e.g. %s", queueName(e.queueArn), len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
		del = del[n:]
	}
	if g.opts.RetryVisibility > 0 {
		for len(retry) > 0 {
			n := min(10, len(retry))
			if _, err := g.aws.SQS.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
				QueueUrl: aws.String(e.queueURL), Entries: retry[:n],
			}); err != nil {
				g.logf("%s: change visibility: %v", queueName(e.queueArn), err)
			}
			retry = retry[n:]
		}
	}
}

// redelivered reports whether m was received before (its
// ApproximateReceiveCount, which the pollers ask for, is above 1).
func redelivered(m sqstypes.Message) bool {
	n, err := strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	return err == nil && n > 1
}

// toEvent renders a received message as Lambda's SQS event record.
func toEvent(m sqstypes.Message, queueArn, region string) events.SQSMessage {
	rec := events.SQSMessage{
		MessageId:         aws.ToString(m.MessageId),
		ReceiptHandle:     aws.ToString(m.ReceiptHandle),
		Body:              aws.ToString(m.Body),
		Md5OfBody:         aws.ToString(m.MD5OfBody),
		Attributes:        m.Attributes,
		EventSource:       "aws:sqs",
		EventSourceARN:    queueArn,
		AWSRegion:         region,
		MessageAttributes: map[string]events.SQSMessageAttribute{},
	}
	if m.MD5OfMessageAttributes != nil {
		rec.Md5OfMessageAttributes = *m.MD5OfMessageAttributes
	}
	for k, v := range m.MessageAttributes {
		rec.MessageAttributes[k] = events.SQSMessageAttribute{
			StringValue: v.StringValue, BinaryValue: v.BinaryValue, DataType: aws.ToString(v.DataType),
			StringListValues: v.StringListValues, BinaryListValues: v.BinaryListValues,
		}
	}
	return rec
}
