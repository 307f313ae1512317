package compute

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/stacks/common/mocks"
)

func TestObjectCreatedTriggersIngestion(t *testing.T) {
	res := runDev(t)
	perm := get(t, res, typePermission, "ingestion-allow-s3")
	wantInput(t, perm, "statementId", "AllowRawDataBucket")
	wantInput(t, perm, "action", "lambda:InvokeFunction")
	wantInput(t, perm, "function", "DataIngestion-dev")
	wantInput(t, perm, "principal", "s3.amazonaws.com")
	wantInput(t, perm, "sourceArn", bucketArn)
	wantInput(t, perm, "sourceAccount", "123456789012")

	n := get(t, res, typeNotification, "raw-data-notification")
	wantInput(t, n, "bucket", "market-data-dev")
	wantInput(t, n, "lambdaFunctions", []map[string]interface{}{{
		"id":                "ingest-raw-data",
		"lambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:DataIngestion-dev",
		"events":            []string{"s3:ObjectCreated:*"},
	}})
	wantNoInput(t, n, "queues")
	wantNoInput(t, n, "topics")
	// S3 checks the permission when the notification is written.
	wantDependsOn(t, n, perm)
}

func TestQueueTriggersProcessor(t *testing.T) {
	res := runDev(t)
	esm := get(t, res, typeMapping, "processor-queue")
	wantInput(t, esm, "eventSourceArn", queueArn)
	wantInput(t, esm, "functionName", "arn:aws:lambda:us-east-1:123456789012:function:DataProcessor-dev")
	wantInput(t, esm, "enabled", true)
	wantInput(t, esm, "batchSize", 10)
	wantInput(t, esm, "maximumBatchingWindowInSeconds", 5)
	wantInput(t, esm, "functionResponseTypes", []string{"ReportBatchItemFailures"})
	wantInput(t, esm, "scalingConfig", map[string]int{"maximumConcurrency": 10})
	// SQS sources take no retry/age settings on the mapping: the queue's
	// redrive policy moves failures to the DLQ.
	for _, absent := range []string{"maximumRetryAttempts", "maximumRecordAgeInSeconds", "bisectBatchOnFunctionError", "destinationConfig", "filterCriteria"} {
		wantNoInput(t, esm, absent)
	}
	wantDependsOn(t, esm, get(t, res, typeFunction, "processor"))
	if got := len(res.OfType(typeMapping)); got != 1 {
		t.Errorf("%d event source mappings, want 1", got)
	}
}

func TestRulesTriggerAggregator(t *testing.T) {
	res := runDev(t)
	aggregatorArn := "arn:aws:lambda:us-east-1:123456789012:function:DataAggregator-dev"

	schedule := get(t, res, typeRule, "aggregator-schedule")
	wantInput(t, schedule, "name", "AggregatorSchedule-dev")
	wantInput(t, schedule, "scheduleExpression", "rate(5 minutes)")
	wantInput(t, schedule, "state", "ENABLED")
	wantNoInput(t, schedule, "eventBusName") // the default bus
	wantNoInput(t, schedule, "eventPattern")

	windows := get(t, res, typeRule, "aggregator-windows")
	wantInput(t, windows, "name", "AggregatorOnWindows-dev")
	wantInput(t, windows, "eventBusName", "MarketDataEvents-dev")
	wantInput(t, windows, "state", "ENABLED")
	wantNoInput(t, windows, "scheduleExpression")
	raw, _ := input(windows, "eventPattern")
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
	if got, want := schedule.Outputs["arn"], dev.ScheduleRuleARN(mocks.Account); got != want {
		t.Errorf("schedule rule ARN = %v, want %v (naming.ScheduleRuleARN)", got, want)
	}
	if got, want := windows.Outputs["arn"], dev.EventsRuleARN(mocks.Account); got != want {
		t.Errorf("windows rule ARN = %v, want %v (naming.EventsRuleARN)", got, want)
	}

	tests := []struct {
		key, ruleName, bus, statementID string
		retries, maxAge                 int
		rule                            mocks.Resource
	}{
		{"aggregator-schedule", "AggregatorSchedule-dev", "", "AllowScheduleRule", 3, 240, schedule},
		{"aggregator-windows", "AggregatorOnWindows-dev", "MarketDataEvents-dev", "AllowWindowsRule", 24, 3600, windows},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			perm := get(t, res, typePermission, tc.key+"-permission")
			wantInput(t, perm, "statementId", tc.statementID)
			wantInput(t, perm, "action", "lambda:InvokeFunction")
			wantInput(t, perm, "function", "DataAggregator-dev")
			wantInput(t, perm, "principal", "events.amazonaws.com")
			wantInput(t, perm, "sourceArn", tc.rule.Outputs["arn"])

			target := get(t, res, typeTarget, tc.key+"-target")
			wantInput(t, target, "rule", tc.ruleName)
			wantInput(t, target, "targetId", "aggregator")
			wantInput(t, target, "arn", aggregatorArn)
			wantInput(t, target, "retryPolicy", map[string]int{"maximumRetryAttempts": tc.retries, "maximumEventAgeInSeconds": tc.maxAge})
			wantInput(t, target, "deadLetterConfig", map[string]string{"arn": dlqArn})
			if tc.bus == "" {
				wantNoInput(t, target, "eventBusName")
			} else {
				wantInput(t, target, "eventBusName", tc.bus)
			}
			wantNoInput(t, target, "input")
			wantNoInput(t, target, "inputTransformer")
			wantDependsOn(t, target, perm)
		})
	}
	if got := len(res.OfType(typeRule)); got != 2 {
		t.Errorf("%d rules, want 2", got)
	}
	if got := len(res.OfType(typeTarget)); got != 2 {
		t.Errorf("%d targets, want 2", got)
	}
	if got := len(res.OfType(typePermission)); got != 3 {
		t.Errorf("%d lambda permissions, want 3 (S3 and one per rule; the API's live in the api layer)", got)
	}
}
