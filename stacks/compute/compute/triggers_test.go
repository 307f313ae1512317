package compute

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

func TestObjectCreatedTriggersIngestion(t *testing.T) {
	res := fixture(t).RunDev(t)
	perm := stacktest.Get(t, res, stacktest.TypePermission, "ingestion-allow-s3")
	stacktest.WantInput(t, perm, "statementId", "AllowRawDataBucket")
	stacktest.WantInput(t, perm, "action", "lambda:InvokeFunction")
	stacktest.WantInput(t, perm, "function", "DataIngestion-dev")
	stacktest.WantInput(t, perm, "principal", "s3.amazonaws.com")
	stacktest.WantInput(t, perm, "sourceArn", bucketArn)
	stacktest.WantInput(t, perm, "sourceAccount", "123456789012")

	n := stacktest.Get(t, res, stacktest.TypeBucketNotify, "raw-data-notification")
	stacktest.WantInput(t, n, "bucket", "market-data-dev")
	stacktest.WantInput(t, n, "lambdaFunctions", []map[string]interface{}{{
		"id":                "ingest-raw-data",
		"lambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:DataIngestion-dev",
		"events":            []string{"s3:ObjectCreated:*"},
	}})
	stacktest.WantNoInput(t, n, "queues")
	stacktest.WantNoInput(t, n, "topics")
	// S3 checks the permission when the notification is written.
	stacktest.WantDependsOn(t, n, perm)
}

func TestQueueTriggersProcessor(t *testing.T) {
	res := fixture(t).RunDev(t)
	esm := stacktest.Get(t, res, stacktest.TypeMapping, "processor-queue")
	stacktest.WantInput(t, esm, "eventSourceArn", queueArn)
	stacktest.WantInput(t, esm, "functionName", "arn:aws:lambda:us-east-1:123456789012:function:DataProcessor-dev")
	stacktest.WantInput(t, esm, "enabled", true)
	stacktest.WantInput(t, esm, "batchSize", 10)
	stacktest.WantInput(t, esm, "maximumBatchingWindowInSeconds", 5)
	stacktest.WantInput(t, esm, "functionResponseTypes", []string{"ReportBatchItemFailures"})
	stacktest.WantInput(t, esm, "scalingConfig", map[string]int{"maximumConcurrency": 10})
	// SQS sources take no retry/age settings on the mapping: the queue's
	// redrive policy moves failures to the DLQ.
	for _, absent := range []string{"maximumRetryAttempts", "maximumRecordAgeInSeconds", "bisectBatchOnFunctionError", "destinationConfig", "filterCriteria"} {
		stacktest.WantNoInput(t, esm, absent)
	}
	stacktest.WantDependsOn(t, esm, stacktest.Get(t, res, stacktest.TypeFunction, "processor"))
	if got := len(res.OfType(stacktest.TypeMapping)); got != 1 {
		t.Errorf("%d event source mappings, want 1", got)
	}
}

func TestRulesTriggerAggregator(t *testing.T) {
	res := fixture(t).RunDev(t)
	aggregatorArn := "arn:aws:lambda:us-east-1:123456789012:function:DataAggregator-dev"

	schedule := stacktest.Get(t, res, stacktest.TypeRule, "aggregator-schedule")
	stacktest.WantInput(t, schedule, "name", "AggregatorSchedule-dev")
	stacktest.WantInput(t, schedule, "scheduleExpression", "rate(5 minutes)")
	stacktest.WantInput(t, schedule, "state", "ENABLED")
	stacktest.WantNoInput(t, schedule, "eventBusName") // the default bus
	stacktest.WantNoInput(t, schedule, "eventPattern")

	windows := stacktest.Get(t, res, stacktest.TypeRule, "aggregator-windows")
	stacktest.WantInput(t, windows, "name", "AggregatorOnWindows-dev")
	stacktest.WantInput(t, windows, "eventBusName", "MarketDataEvents-dev")
	stacktest.WantInput(t, windows, "state", "ENABLED")
	stacktest.WantNoInput(t, windows, "scheduleExpression")
	raw, _ := stacktest.Input(windows, "eventPattern")
	var pattern map[string][]string
	if err := json.Unmarshal([]byte(raw.(string)), &pattern); err != nil {
		t.Fatalf("event pattern %v: %v", raw, err)
	}
	wantPattern := map[string][]string{"source": {"marketanalytics.processor"}, "detail-type": {"MarketDataWindowsChanged"}}
	if !reflect.DeepEqual(pattern, wantPattern) {
		t.Errorf("event pattern = %v, want %v", pattern, wantPattern)
	}
	if pattern["source"][0] != marketdata.EventSource || pattern["detail-type"][0] != marketdata.EventDetailType {
		t.Error("event pattern does not use the shared event source and detail type")
	}

	// The messaging stack admits exactly these ARNs to the DLQ.
	if got, want := schedule.Outputs["arn"], dev.ScheduleRuleARN(synthrec.Account); got != want {
		t.Errorf("schedule rule ARN = %v, want %v (naming.ScheduleRuleARN)", got, want)
	}
	if got, want := windows.Outputs["arn"], dev.EventsRuleARN(synthrec.Account); got != want {
		t.Errorf("windows rule ARN = %v, want %v (naming.EventsRuleARN)", got, want)
	}

	tests := []struct {
		key, ruleName, bus, statementID string
		retries, maxAge                 int
		rule                            synthrec.Resource
	}{
		{"aggregator-schedule", "AggregatorSchedule-dev", "", "AllowScheduleRule", 3, 240, schedule},
		{"aggregator-windows", "AggregatorOnWindows-dev", "MarketDataEvents-dev", "AllowWindowsRule", 24, 3600, windows},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			perm := stacktest.Get(t, res, stacktest.TypePermission, tc.key+"-permission")
			stacktest.WantInput(t, perm, "statementId", tc.statementID)
			stacktest.WantInput(t, perm, "action", "lambda:InvokeFunction")
			stacktest.WantInput(t, perm, "function", "DataAggregator-dev")
			stacktest.WantInput(t, perm, "principal", "events.amazonaws.com")
			stacktest.WantInput(t, perm, "sourceArn", tc.rule.Outputs["arn"])

			target := stacktest.Get(t, res, stacktest.TypeTarget, tc.key+"-target")
			stacktest.WantInput(t, target, "rule", tc.ruleName)
			stacktest.WantInput(t, target, "targetId", "aggregator")
			stacktest.WantInput(t, target, "arn", aggregatorArn)
			stacktest.WantInput(t, target, "retryPolicy", map[string]int{"maximumRetryAttempts": tc.retries, "maximumEventAgeInSeconds": tc.maxAge})
			stacktest.WantInput(t, target, "deadLetterConfig", map[string]string{"arn": dlqArn})
			if tc.bus == "" {
				stacktest.WantNoInput(t, target, "eventBusName")
			} else {
				stacktest.WantInput(t, target, "eventBusName", tc.bus)
			}
			stacktest.WantNoInput(t, target, "input")
			stacktest.WantNoInput(t, target, "inputTransformer")
			stacktest.WantDependsOn(t, target, perm)
		})
	}
	if got := len(res.OfType(stacktest.TypeRule)); got != 2 {
		t.Errorf("%d rules, want 2", got)
	}
	if got := len(res.OfType(stacktest.TypeTarget)); got != 2 {
		t.Errorf("%d targets, want 2", got)
	}
	if got := len(res.OfType(stacktest.TypePermission)); got != 3 {
		t.Errorf("%d lambda permissions, want 3 (S3 and one per rule; the API's live in the api layer)", got)
	}
}

// The worst full batch the event source mapping can deliver, encoded as
// Lambda encodes it, must fit the invocation payload: batchSize messages of
// the queue's maximum size whose bodies are all '"' (each byte escapes to
// two, the most any character SQS accepts in a body grows: other control
// characters are refused by SQS, and Lambda does not HTML-escape), each with
// the most metadata a record carries.
func TestFullQueueBatchFitsTheInvocationPayload(t *testing.T) {
	res := fixture(t).RunDev(t)
	batch, ok := stacktest.Input(stacktest.Get(t, res, stacktest.TypeMapping, "processor-queue"), "batchSize")
	if !ok {
		t.Fatal("the mapping has no batchSize")
	}
	encode := func(v interface{}) []byte {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	// '"' grows the most of the characters SQS admits.
	for _, c := range []string{`"`, `\`, "\t", "\n", "\r", "<", "&", "é", "\u2028", "\U0001F600", "a"} {
		if got := len(encode(strings.Repeat(c, 100))) - 2; got > 2*len(strings.Repeat(c, 100)) {
			t.Errorf("%q grows %d-fold when escaped, more than '\"'", c, got/len(strings.Repeat(c, 100)))
		}
	}
	record := events.SQSMessage{
		MessageId:              "8f1d2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6",
		ReceiptHandle:          strings.Repeat("A", 1024),
		Body:                   strings.Repeat(`"`, limits.QueueMaxMessageBytes),
		Md5OfBody:              strings.Repeat("f", 32),
		Md5OfMessageAttributes: strings.Repeat("f", 32),
		Attributes: map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(limits.MaxReceiveCount),
			"SentTimestamp":                    "1780000000000",
			"SenderId":                         strings.Repeat("A", 128),
			"ApproximateFirstReceiveTimestamp": "1780000000000",
			"AWSTraceHeader":                   "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=" + strings.Repeat("a", 64),
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSourceARN:    "arn:aws:sqs:us-east-1:123456789012:" + strings.Repeat("Q", 80),
		EventSource:       "aws:sqs",
		AWSRegion:         naming.Region,
	}
	// Up to 10 message attributes; their bytes count toward the message size
	// too, so adding them on top of a full body over-counts, which is safe.
	for i := range 10 {
		v := strings.Repeat("v", 8)
		record.MessageAttributes[fmt.Sprintf("attribute-%d", i)] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	ev := events.SQSEvent{}
	for range int(batch.(float64)) {
		ev.Records = append(ev.Records, record)
	}
	size := len(encode(ev))
	if size >= limits.LambdaPayloadBytes {
		t.Errorf("a full batch of %v worst-case messages encodes to %d bytes, over Lambda's %d", batch, size, limits.LambdaPayloadBytes)
	}
	t.Logf("worst full batch: %v messages, %d bytes of %d", batch, size, limits.LambdaPayloadBytes)
}
