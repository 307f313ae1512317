package triggers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
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

func TestArnMatch(t *testing.T) {
	tests := []struct {
		pattern, arn string
		want         bool
	}{
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket", true},
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket2", false},
		{"arn:aws:execute-api:us-east-1:1:abc/*/GET/aggregates/*", "arn:aws:execute-api:us-east-1:1:abc/prod/GET/aggregates/AAPL", true},
		{"arn:aws:execute-api:us-east-1:1:abc/*/GET/aggregates/*", "arn:aws:execute-api:us-east-1:1:abc/prod/POST/aggregates/AAPL", false},
		{"arn:aws:events:us-east-1:1:rule/a.b", "arn:aws:events:us-east-1:1:rule/aXb", false}, // dots are literal
	}
	for _, tt := range tests {
		if got := arnMatch(tt.pattern, tt.arn); got != tt.want {
			t.Errorf("arnMatch(%q, %q) = %v, want %v", tt.pattern, tt.arn, got, tt.want)
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
