package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	queueArn = "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-dev"
	aggArn   = "arn:aws:lambda:us-east-1:123456789012:function:DataAggregator-dev"
	s3Event  = `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k.csv","versionId":"v1"}}}]}`
	ebEvent  = `{"version":"0","id":"1","detail-type":"MarketDataWindowsChanged","source":"marketanalytics.processor","detail":{"windows":[]}}`
	queueMsg = `{"v":1,"origin":"s3://b/k#v","points":[]}`
)

func TestClassify(t *testing.T) {
	tg := &Target{QueueArn: queueArn, AggregatorArn: aggArn}
	lambdaAttrs := map[string]string{AttrRequestID: "r1", AttrErrorCode: "200", AttrErrorMessage: "boom"}
	tests := []struct {
		name      string
		body      string
		attrs     map[string]string
		system    map[string]string
		want      Origin
		errSubstr string
	}{
		{"S3 event failed by ingestion", s3Event, lambdaAttrs, nil, OriginIngestion, "boom"},
		{"event failed by the aggregator", ebEvent, lambdaAttrs, nil, OriginAggregator, "boom"},
		{"Lambda failure of an unknown event", `{"x":1}`, lambdaAttrs, nil, OriginUnknown, "boom"},
		{"undeliverable EventBridge event", ebEvent, map[string]string{AttrEBErrorCode: "NO_PERMISSIONS", AttrEBErrorMessage: "denied", AttrEBRuleArn: "rule", AttrEBTargetArn: aggArn}, nil, OriginEventBridge, "NO_PERMISSIONS"},
		{"undeliverable event for another target", ebEvent, map[string]string{AttrEBErrorCode: "X", AttrEBTargetArn: "arn:other"}, nil, OriginUnknown, ""},
		{"redrive from the processing queue (AWS)", "not json", nil, map[string]string{"DeadLetterQueueSourceArn": queueArn}, OriginQueue, "undecodable"},
		{"redrive from another queue", queueMsg, nil, map[string]string{"DeadLetterQueueSourceArn": "arn:other"}, OriginUnknown, ""},
		{"queue message without attributes (moto)", queueMsg, nil, nil, OriginQueue, "failed"},
		{"anything else", "hello", nil, nil, OriginUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{Body: tt.body, Attributes: tt.attrs, System: tt.system}
			if m.Attributes == nil {
				m.Attributes = map[string]string{}
			}
			tg.classify(m)
			if m.Origin != tt.want || !strings.Contains(m.Error, tt.errSubstr) || m.Reason == "" {
				t.Errorf("origin %s error %q reason %q, want %s with %q", m.Origin, m.Error, m.Reason, tt.want, tt.errSubstr)
			}
		})
	}
}

// fakeSQS is a DLQ and a processing queue in memory.
type fakeSQS struct {
	dlq      []sqstypes.Message
	deleted  []string
	sent     []string
	sendErr  error
	released int
}

func (f *fakeSQS) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	// Every message once, as a hidden message would be.
	out := f.dlq
	f.dlq = nil
	return &sqs.ReceiveMessageOutput{Messages: out}, nil
}
func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	f.sent = append(f.sent, aws.ToString(in.MessageBody))
	return &sqs.SendMessageOutput{}, nil
}
func (f *fakeSQS) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	f.deleted = append(f.deleted, aws.ToString(in.ReceiptHandle))
	return &sqs.DeleteMessageOutput{}, nil
}
func (f *fakeSQS) ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	f.released++
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}
func (f *fakeSQS) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{}, nil
}

type fakeLambda struct {
	invoked []string
	status  int32
	err     error
}

func (f *fakeLambda) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.invoked = append(f.invoked, aws.ToString(in.FunctionName)+":"+string(in.InvocationType))
	return &lambda.InvokeOutput{StatusCode: f.status}, nil
}

func dlqMessage(id, body string, attrs map[string]string) sqstypes.Message {
	m := sqstypes.Message{MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + id), Body: aws.String(body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{},
		Attributes:        map[string]string{"SentTimestamp": strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)}}
	for k, v := range attrs {
		m.MessageAttributes[k] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return m
}

// Each message goes back where it came from and is deleted only after the
// re-send succeeded; unknown ones, dry runs, other origins and failed
// re-sends stay.
func TestRedrive(t *testing.T) {
	lambdaAttrs := map[string]string{AttrRequestID: "r", AttrErrorCode: "200", AttrErrorMessage: "boom"}
	messages := func() []sqstypes.Message {
		return []sqstypes.Message{
			dlqMessage("q", queueMsg, nil),
			dlqMessage("a", ebEvent, lambdaAttrs),
			dlqMessage("u", "hello", nil),
		}
	}
	tests := []struct {
		name        string
		origin      Origin
		dryRun      bool
		sendErr     error
		lambdaErr   error
		status      int32
		wantDeleted []string
		wantSent    int
		wantInvoked []string
		wantErr     bool
	}{
		{"all", "", false, nil, nil, 202, []string{"rh-q", "rh-a"}, 1, []string{"DataAggregator-dev:Event"}, false},
		{"only the aggregator's", OriginAggregator, false, nil, nil, 202, []string{"rh-a"}, 0, []string{"DataAggregator-dev:Event"}, false},
		{"dry run", "", true, nil, nil, 202, nil, 0, nil, false},
		{"queue re-send fails", "", false, errors.New("throttled"), nil, 202, []string{"rh-a"}, 0, []string{"DataAggregator-dev:Event"}, true},
		{"invoke fails", "", false, nil, errors.New("denied"), 202, []string{"rh-q"}, 1, nil, true},
		{"invoke not accepted", "", false, nil, nil, 200, []string{"rh-q"}, 1, []string{"DataAggregator-dev:Event"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeSQS{dlq: messages(), sendErr: tt.sendErr}
			fl := &fakeLambda{status: tt.status, err: tt.lambdaErr}
			tg := &Target{SQS: fs, Lambda: fl, QueueArn: queueArn, AggregatorArn: aggArn,
				AggregatorFunction: "DataAggregator-dev", IngestionFunction: "DataIngestion-dev", QueueURL: "q", DLQURL: "d"}
			var out bytes.Buffer
			_, err := tg.Redrive(context.Background(), &out, tt.origin, tt.dryRun)
			if (err != nil) != tt.wantErr {
				t.Errorf("error %v, want error %v", err, tt.wantErr)
			}
			if fmt.Sprint(fs.deleted) != fmt.Sprint(tt.wantDeleted) || len(fs.sent) != tt.wantSent || fmt.Sprint(fl.invoked) != fmt.Sprint(tt.wantInvoked) {
				t.Errorf("deleted %v sent %d invoked %v, want %v %d %v\n%s", fs.deleted, len(fs.sent), fl.invoked,
					tt.wantDeleted, tt.wantSent, tt.wantInvoked, out.String())
			}
			if kept := 3 - len(fs.deleted); fs.released != kept {
				t.Errorf("%d messages released, want the %d kept", fs.released, kept)
			}
			if !strings.Contains(out.String(), "origin unknown") && tt.origin == "" && !tt.dryRun {
				t.Errorf("the unknown message's reason is not printed:\n%s", out.String())
			}
		})
	}
}

func TestObjectCreatedEventEncodesKey(t *testing.T) {
	b, err := ObjectCreatedEvent("us-east-1", "b", "dir/a b+c.csv", "v1", `"etag"`, 10)
	if err != nil {
		t.Fatal(err)
	}
	if eventKind(string(b)) != "s3" || !strings.Contains(string(b), `"key":"dir/a+b%2Bc.csv"`) || !strings.Contains(string(b), `"eTag":"etag"`) {
		t.Errorf("event %s", b)
	}
}
