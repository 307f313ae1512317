// Package ops is the operator's tooling of the pipeline, behind
// `go run mage.go dlq:list|dlq:show|dlq:redrive|replay|status`: it triages the
// dead-letter queue by origin and sends each message back where it came
// from, re-ingests S3 objects, and prints the pipeline's state on one screen.
// It works the same against a deployed stack and the local pipeline: only
// the clients and the resolved Target differ.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Origin is where a dead-lettered message came from.
type Origin string

const (
	// OriginQueue: moved from the processing queue by its redrive policy
	// (the processor failed it maxReceiveCount times).
	OriginQueue Origin = "queue"
	// OriginIngestion: an S3 event DataIngestion failed asynchronously.
	OriginIngestion Origin = "ingestion"
	// OriginAggregator: an event DataAggregator failed asynchronously.
	OriginAggregator Origin = "aggregator"
	// OriginEventBridge: an event EventBridge could not deliver to its
	// target (the aggregator).
	OriginEventBridge Origin = "eventbridge"
	// OriginUnknown: none of the above; never redriven.
	OriginUnknown Origin = "unknown"
)

// Origins lists the origins in the order they are printed.
var Origins = []Origin{OriginQueue, OriginIngestion, OriginAggregator, OriginEventBridge, OriginUnknown}

// ParseOrigin reads an --origin value ("" is every origin).
func ParseOrigin(s string) (Origin, error) {
	for _, o := range Origins {
		if string(o) == s {
			return o, nil
		}
	}
	if s == "" {
		return "", nil
	}
	return "", fmt.Errorf("unknown origin %q (want one of %v)", s, Origins)
}

// Attributes AWS attaches to dead-lettered messages.
const (
	// Lambda, on a failed asynchronous invocation
	// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
	AttrRequestID    = "RequestID"
	AttrErrorCode    = "ErrorCode"
	AttrErrorMessage = "ErrorMessage"
	// EventBridge, on an undeliverable event
	// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
	AttrEBErrorCode    = "ERROR_CODE"
	AttrEBErrorMessage = "ERROR_MESSAGE"
	AttrEBRuleArn      = "RULE_ARN"
	AttrEBTargetArn    = "TARGET_ARN"
	// SQS system attribute of a message moved by a redrive policy.
	sysDeadLetterSource = "DeadLetterQueueSourceArn"
)

// SQSAPI is what the tools call on SQS.
type SQSAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// LambdaAPI invokes functions.
type LambdaAPI interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Message is a dead-lettered message and what the tools make of it.
type Message struct {
	ID, ReceiptHandle, Body string
	// Attributes are the message attributes (string values).
	Attributes map[string]string
	// System are SQS's system attributes (SentTimestamp, ...).
	System map[string]string
	Sent   time.Time
	Origin Origin
	// Reason explains the origin (unknown: why it cannot be redriven).
	Reason string
	// Error is what AWS (or the body) says went wrong.
	Error string
}

// classify sets m's Origin, Reason and Error.
func (t *Target) classify(m *Message) {
	a := m.Attributes
	switch {
	case a[AttrEBErrorCode] != "" || a[AttrEBRuleArn] != "" || a[AttrEBTargetArn] != "":
		m.Error = fmt.Sprintf("%s: %s (rule %s, target %s)", a[AttrEBErrorCode], a[AttrEBErrorMessage], a[AttrEBRuleArn], a[AttrEBTargetArn])
		if a[AttrEBTargetArn] != t.AggregatorArn {
			m.Origin, m.Reason = OriginUnknown, fmt.Sprintf("undeliverable EventBridge event for target %q, which is not the aggregator %s", a[AttrEBTargetArn], t.AggregatorArn)
			return
		}
		m.Origin, m.Reason = OriginEventBridge, "EventBridge could not deliver it to the aggregator"
	case a[AttrRequestID] != "" || a[AttrErrorCode] != "":
		m.Error = fmt.Sprintf("ErrorCode %s: %s (request %s)", a[AttrErrorCode], a[AttrErrorMessage], a[AttrRequestID])
		switch eventKind(m.Body) {
		case "s3":
			m.Origin, m.Reason = OriginIngestion, "failed asynchronous invocation of the ingestion function (S3 event)"
		case "eventbridge":
			m.Origin, m.Reason = OriginAggregator, "failed asynchronous invocation of the aggregator (EventBridge event)"
		default:
			m.Origin, m.Reason = OriginUnknown, "a failed asynchronous invocation, but the event is neither an S3 nor an EventBridge event"
		}
	case m.System[sysDeadLetterSource] != "":
		if m.System[sysDeadLetterSource] != t.QueueArn {
			m.Origin, m.Reason = OriginUnknown, "moved here from "+m.System[sysDeadLetterSource]+", not from the processing queue"
			return
		}
		m.Origin, m.Reason = OriginQueue, "moved from the processing queue by its redrive policy"
		m.Error = queueMessageError(m)
	default:
		// moto does not set DeadLetterQueueSourceArn: a body that is a
		// queue message is one.
		if _, err := marketdata.DecodeMessageString(m.Body); err != nil {
			m.Origin, m.Reason = OriginUnknown, "no attributes telling its origin, and not a queue message: "+err.Error()
			return
		}
		m.Origin, m.Reason = OriginQueue, "a queue message (the processing queue's redrive)"
		m.Error = queueMessageError(m)
	}
}

// queueMessageError is what can be told of a redriven queue message: SQS
// attaches no error; the processor's log has the reason.
func queueMessageError(m *Message) string {
	if _, err := marketdata.DecodeMessageString(m.Body); err != nil {
		return "undecodable: " + err.Error()
	}
	return fmt.Sprintf("failed %s receives; the processor's log (\"message failed\", messageId %s) has the reason",
		m.System[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)], m.ID)
}

// eventKind tells an S3 event ("s3") from an EventBridge event
// ("eventbridge") by shape, as the functions do.
func eventKind(body string) string {
	var ev struct {
		Records []struct {
			S3 *json.RawMessage `json:"s3"`
		} `json:"Records"`
		DetailType *string `json:"detail-type"`
		Source     *string `json:"source"`
	}
	if json.Unmarshal([]byte(body), &ev) != nil {
		return ""
	}
	if len(ev.Records) > 0 && ev.Records[0].S3 != nil {
		return "s3"
	}
	if ev.DetailType != nil && ev.Source != nil {
		return "eventbridge"
	}
	return ""
}

// receiveAll receives every visible message of the DLQ, hiding each for
// hold, until a receive comes back empty.
func (t *Target) receiveAll(ctx context.Context, hold time.Duration) ([]*Message, error) {
	seen := map[string]bool{}
	var msgs []*Message
	for empty := 0; empty < 2; {
		out, err := t.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(t.DLQURL),
			MaxNumberOfMessages:         10,
			VisibilityTimeout:           int32(hold / time.Second),
			WaitTimeSeconds:             1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return msgs, fmt.Errorf("receiving from the DLQ: %w", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		for _, sm := range out.Messages {
			id := aws.ToString(sm.MessageId)
			if seen[id] {
				continue
			}
			seen[id] = true
			m := &Message{ID: id, ReceiptHandle: aws.ToString(sm.ReceiptHandle), Body: aws.ToString(sm.Body),
				Attributes: map[string]string{}, System: sm.Attributes}
			for k, v := range sm.MessageAttributes {
				m.Attributes[k] = aws.ToString(v.StringValue)
			}
			if ms, err := strconv.ParseInt(sm.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				m.Sent = time.UnixMilli(ms)
			}
			t.classify(m)
			msgs = append(msgs, m)
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].Sent.Before(msgs[j].Sent) })
	return msgs, nil
}

// release makes messages visible again at once.
func (t *Target) release(ctx context.Context, msgs []*Message) error {
	var errs []error
	for _, m := range msgs {
		if _, err := t.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(t.DLQURL), ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: 0,
		}); err != nil {
			errs = append(errs, fmt.Errorf("releasing %s: %w", m.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Group is the DLQ's messages of one origin.
type Group struct {
	Origin   Origin
	Messages []*Message
}

// Oldest is the age of the group's oldest message at now.
func (g Group) Oldest(now time.Time) time.Duration {
	if len(g.Messages) == 0 {
		return 0
	}
	return now.Sub(g.Messages[0].Sent).Truncate(time.Second)
}

// List reads every DLQ message (leaving them in the queue) and groups them
// by origin.
func (t *Target) List(ctx context.Context) ([]Group, error) {
	msgs, err := t.receiveAll(ctx, 30*time.Second)
	if relErr := t.release(ctx, msgs); err == nil {
		err = relErr
	}
	return group(msgs), err
}

func group(msgs []*Message) []Group {
	var gs []Group
	for _, o := range Origins {
		g := Group{Origin: o}
		for _, m := range msgs {
			if m.Origin == o {
				g.Messages = append(g.Messages, m)
			}
		}
		if len(g.Messages) > 0 {
			gs = append(gs, g)
		}
	}
	return gs
}

// PrintList writes the groups: count, oldest age and the distinct errors.
func PrintList(w io.Writer, gs []Group, now time.Time) {
	if len(gs) == 0 {
		fmt.Fprintln(w, "DLQ: empty")
		return
	}
	for _, g := range gs {
		fmt.Fprintf(w, "%-11s %d message(s), oldest %s\n", g.Origin, len(g.Messages), g.Oldest(now))
		counts := map[string]int{}
		var order []string
		for _, m := range g.Messages {
			line := m.Error
			if g.Origin == OriginUnknown || line == "" {
				line = strings.TrimSpace(m.Reason + " " + m.Error)
			}
			if counts[line] == 0 {
				order = append(order, line)
			}
			counts[line]++
		}
		for _, l := range order {
			fmt.Fprintf(w, "  %4d × %s\n", counts[l], l)
		}
	}
}

// Show prints every DLQ message in full (leaving them in the queue).
func (t *Target) Show(ctx context.Context, w io.Writer) error {
	msgs, err := t.receiveAll(ctx, 30*time.Second)
	if relErr := t.release(ctx, msgs); err == nil {
		err = relErr
	}
	for _, m := range msgs {
		fmt.Fprintf(w, "── %s  origin %s  sent %s\n   %s\n", m.ID, m.Origin, m.Sent.UTC().Format(time.RFC3339), m.Reason)
		if m.Error != "" {
			fmt.Fprintf(w, "   error: %s\n", m.Error)
		}
		keys := make([]string, 0, len(m.Attributes))
		for k := range m.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "   %s = %s\n", k, m.Attributes[k])
		}
		fmt.Fprintf(w, "%s\n", m.Body)
	}
	if len(msgs) == 0 {
		fmt.Fprintln(w, "DLQ: empty")
	}
	return err
}

// RedriveResult counts what a redrive did.
type RedriveResult struct {
	Redriven, Kept, Failed map[Origin]int
}

// Redrive sends each DLQ message of origin (all when "") back where it came
// from and deletes it from the DLQ only once that succeeded. Unknown origins
// stay, with the reason printed; dryRun only prints.
func (t *Target) Redrive(ctx context.Context, w io.Writer, origin Origin, dryRun bool) (RedriveResult, error) {
	res := RedriveResult{Redriven: map[Origin]int{}, Kept: map[Origin]int{}, Failed: map[Origin]int{}}
	// Held long enough for the re-sends; released at the end if kept.
	msgs, err := t.receiveAll(ctx, 5*time.Minute)
	var keep []*Message
	defer func() { _ = t.release(context.WithoutCancel(ctx), keep) }()
	if err != nil {
		keep = msgs
		return res, err
	}
	var errs []error
	for _, m := range msgs {
		if origin != "" && m.Origin != origin {
			keep = append(keep, m)
			continue
		}
		if m.Origin == OriginUnknown {
			fmt.Fprintf(w, "kept %s: origin unknown: %s\n", m.ID, m.Reason)
			res.Kept[m.Origin]++
			keep = append(keep, m)
			continue
		}
		if dryRun {
			fmt.Fprintf(w, "would redrive %s (%s) to %s\n", m.ID, m.Origin, t.destination(m.Origin))
			res.Kept[m.Origin]++
			keep = append(keep, m)
			continue
		}
		if m.Origin == OriginIngestion {
			if until, held, err := t.claimHeld(ctx, m.Body); err != nil || held {
				why := fmt.Sprintf("its object's ingestion is still claimed by the failed invocation until %s (the ingestion would skip it); redrive after that", until.UTC().Format(time.RFC3339))
				if err != nil {
					why = "cannot read its object's ingestion report: " + err.Error()
				}
				fmt.Fprintf(w, "kept %s (%s): %s\n", m.ID, m.Origin, why)
				res.Kept[m.Origin]++
				keep = append(keep, m)
				continue
			}
		}
		if err := t.resend(ctx, m); err != nil {
			fmt.Fprintf(w, "kept %s (%s): re-sending failed: %v\n", m.ID, m.Origin, err)
			res.Failed[m.Origin]++
			errs = append(errs, err)
			keep = append(keep, m)
			continue
		}
		if _, err := t.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(t.DLQURL), ReceiptHandle: aws.String(m.ReceiptHandle)}); err != nil {
			// Re-sent but still in the DLQ: a later redrive re-sends it
			// again, which is harmless (every write is idempotent).
			fmt.Fprintf(w, "redriven %s (%s) but not deleted from the DLQ: %v\n", m.ID, m.Origin, err)
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(w, "redriven %s (%s) to %s\n", m.ID, m.Origin, t.destination(m.Origin))
		res.Redriven[m.Origin]++
	}
	return res, errors.Join(errs...)
}

func (t *Target) destination(o Origin) string {
	switch o {
	case OriginQueue:
		return "the processing queue"
	case OriginIngestion:
		return t.IngestionFunction + " (asynchronous invocation)"
	case OriginAggregator, OriginEventBridge:
		return t.AggregatorFunction + " (asynchronous invocation)"
	}
	return "nowhere"
}

// resend sends m back where it came from.
func (t *Target) resend(ctx context.Context, m *Message) error {
	switch m.Origin {
	case OriginQueue:
		_, err := t.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(t.QueueURL), MessageBody: aws.String(m.Body)})
		return err
	case OriginIngestion:
		return t.invokeAsync(ctx, t.IngestionFunction, []byte(m.Body))
	case OriginAggregator, OriginEventBridge:
		return t.invokeAsync(ctx, t.AggregatorFunction, []byte(m.Body))
	}
	return fmt.Errorf("origin %s is not redriven", m.Origin)
}

// invokeAsync invokes function asynchronously (InvocationType Event), as S3
// and EventBridge do: Lambda's own retries and the function's DLQ apply again.
func (t *Target) invokeAsync(ctx context.Context, function string, payload []byte) error {
	out, err := t.Lambda.Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(function), InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload,
	})
	if err != nil {
		return err
	}
	if out.StatusCode != 202 {
		return fmt.Errorf("invoking %s asynchronously: status %d, want 202", function, out.StatusCode)
	}
	return nil
}
