package triggers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/shared/limits"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		expr string
		want time.Duration
		ok   bool
	}{
		{"rate(5 minutes)", 5 * time.Minute, true},
		{"rate(1 minute)", time.Minute, true},
		{"rate(2 hours)", 2 * time.Hour, true},
		{"rate(1 day)", 24 * time.Hour, true},
		{"rate(0 minutes)", 0, false},
		{"cron(0/5 * * * ? *)", 0, false},
		{"rate(5 weeks)", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.expr)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v ok=%v", tt.expr, got, err, tt.want, tt.ok)
		}
	}
}

func TestScheduledEvent(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 5, 0, 0, time.UTC)
	var ev map[string]any
	if err := json.Unmarshal(ScheduledEvent("arn:aws:events:us-east-1:123456789012:rule/R", at), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["source"] != "aws.events" || ev["detail-type"] != "Scheduled Event" || ev["time"] != "2026-11-26T12:05:00Z" ||
		ev["resources"].([]any)[0] != "arn:aws:events:us-east-1:123456789012:rule/R" || ev["id"] == "" {
		t.Fatalf("scheduled event %v", ev)
	}
}

func TestToEvent(t *testing.T) {
	m := sqstypes.Message{
		MessageId: aws.String("id-1"), ReceiptHandle: aws.String("rh"), Body: aws.String("body"), MD5OfBody: aws.String("md5"),
		Attributes:        map[string]string{"ApproximateReceiveCount": "2"},
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}},
	}
	ev := toEvent(m, "arn:aws:sqs:us-east-1:123456789012:Q", "us-east-1")
	if ev.MessageId != "id-1" || ev.ReceiptHandle != "rh" || ev.Body != "body" || ev.EventSource != "aws:sqs" ||
		ev.EventSourceARN != "arn:aws:sqs:us-east-1:123456789012:Q" || ev.Attributes["ApproximateReceiveCount"] != "2" ||
		*ev.MessageAttributes["k"].StringValue != "v" || ev.AWSRegion != "us-east-1" {
		t.Fatalf("event %+v", ev)
	}
}

// TestBatchStaysUnderLambdasPayloadLimit: the event source mapping never
// builds an event over 6 MB, counting the encoded records (a JSON body's
// quotes are escaped again in the event), and keeps the rest for the next
// batch.
func TestBatchStaysUnderLambdasPayloadLimit(t *testing.T) {
	body := strings.Repeat(`{"k":"v"},`, 100_000) // 1 MB of JSON, ~1.3 MB encoded
	var carry []pending
	for i := 0; i < 8; i++ {
		m := sqstypes.Message{MessageId: aws.String(fmt.Sprint(i)), ReceiptHandle: aws.String("rh"), Body: aws.String(body)}
		rec, err := json.Marshal(toEvent(m, "arn:aws:sqs:us-east-1:123456789012:Q", "us-east-1"))
		if err != nil {
			t.Fatal(err)
		}
		carry = append(carry, pending{m, rec})
	}
	g := &Glue{ctx: context.Background()}
	e := &esm{g: g, batchSize: 10}
	batch, rest := e.gather(carry)
	size := len(`{"Records":[]}`)
	for _, p := range batch {
		size += len(p.rec) + 1
	}
	if size > limits.LambdaPayloadBytes || len(batch)+len(rest) != 8 || len(batch) < 3 {
		t.Fatalf("batch of %d (%d bytes), %d left, want the most that fit in %d bytes", len(batch), size, len(rest), limits.LambdaPayloadBytes)
	}
	if size+len(rest[0].rec)+1 <= limits.LambdaPayloadBytes {
		t.Fatalf("the next message would have fit: %d + %d", size, len(rest[0].rec))
	}
	// Batch size still applies to small messages.
	var small []pending
	for i := 0; i < 15; i++ {
		small = append(small, pending{sqstypes.Message{MessageId: aws.String(fmt.Sprint(i))}, []byte(`{}`)})
	}
	batch, rest = e.gather(small)
	if len(batch) != 10 || len(rest) != 5 {
		t.Fatalf("batch %d rest %d, want 10 and 5", len(batch), len(rest))
	}
}

func TestRedelivered(t *testing.T) {
	for _, tt := range []struct {
		count string
		want  bool
	}{{"1", false}, {"2", true}, {"4", true}, {"", false}} {
		m := sqstypes.Message{Attributes: map[string]string{}}
		if tt.count != "" {
			m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)] = tt.count
		}
		if got := redelivered(m); got != tt.want {
			t.Errorf("ApproximateReceiveCount %q: redelivered %v, want %v", tt.count, got, tt.want)
		}
	}
}
