package compute

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

func TestObjectCreatedTriggersIngestion(t *testing.T) {
	res := runDev(t)
	perm := stacktest.Get(t, res, typePermission, "ingestion-allow-s3")
	stacktest.WantInput(t, perm, "statementId", "AllowRawDataBucket")
	stacktest.WantInput(t, perm, "action", "lambda:InvokeFunction")
	stacktest.WantInput(t, perm, "function", "DataIngestion-dev")
	stacktest.WantInput(t, perm, "principal", "s3.amazonaws.com")
	stacktest.WantInput(t, perm, "sourceArn", bucketArn)
	stacktest.WantInput(t, perm, "sourceAccount", "123456789012")

	n := stacktest.Get(t, res, typeNotification, "raw-data-notification")
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
	res := runDev(t)
	esm := stacktest.Get(t, res, typeMapping, "processor-queue")
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
	stacktest.WantDependsOn(t, esm, stacktest.Get(t, res, typeFunction, "processor"))
	if got := len(res.OfType(typeMapping)); got != 1 {
		t.Errorf("%d event source mappings, want 1", got)
	}
}

func TestRulesTriggerAggregator(t *testing.T) {
	res := runDev(t)
	aggregatorArn := "arn:aws:lambda:us-east-1:123456789012:function:DataAggregator-dev"

	schedule := stacktest.Get(t, res, typeRule, "aggregator-schedule")
	stacktest.WantInput(t, schedule, "name", "AggregatorSchedule-dev")
	stacktest.WantInput(t, schedule, "scheduleExpression", "rate(5 minutes)")
	stacktest.WantInput(t, schedule, "state", "ENABLED")
	stacktest.WantNoInput(t, schedule, "eventBusName") // the default bus
	stacktest.WantNoInput(t, schedule, "eventPattern")

	windows := stacktest.Get(t, res, typeRule, "aggregator-windows")
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
			perm := stacktest.Get(t, res, typePermission, tc.key+"-permission")
			stacktest.WantInput(t, perm, "statementId", tc.statementID)
			stacktest.WantInput(t, perm, "action", "lambda:InvokeFunction")
			stacktest.WantInput(t, perm, "function", "DataAggregator-dev")
			stacktest.WantInput(t, perm, "principal", "events.amazonaws.com")
			stacktest.WantInput(t, perm, "sourceArn", tc.rule.Outputs["arn"])

			target := stacktest.Get(t, res, typeTarget, tc.key+"-target")
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
