package arns

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Every built ARN parses back with the SDK into the service, region,
// account and resource it was built from.
func TestBuiltARNsParseBack(t *testing.T) {
	const region, account = "us-east-1", "123456789012"
	fn := Function(region, account, "DataIngestion-dev")
	tests := []struct {
		name, got                          string
		service, region, account, resource string
		want                               string // the whole ARN, as AWS documents its format
	}{
		{"bucket", Bucket("market-data-dev"), "s3", "", "", "market-data-dev",
			"arn:aws:s3:::market-data-dev"},
		{"table", Table(region, account, "MarketDataState-dev"), "dynamodb", region, account, "table/MarketDataState-dev",
			"arn:aws:dynamodb:us-east-1:123456789012:table/MarketDataState-dev"},
		{"queue", Queue(region, account, "ProcessingQueue-dev"), "sqs", region, account, "ProcessingQueue-dev",
			"arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-dev"},
		{"event bus", EventBus(region, account, "MarketDataEvents-dev"), "events", region, account, "event-bus/MarketDataEvents-dev",
			"arn:aws:events:us-east-1:123456789012:event-bus/MarketDataEvents-dev"},
		{"rule on the default bus", Rule(region, account, "", "AggregatorSchedule-dev"), "events", region, account, "rule/AggregatorSchedule-dev",
			"arn:aws:events:us-east-1:123456789012:rule/AggregatorSchedule-dev"},
		{"rule on the bus named default", Rule(region, account, "default", "R"), "events", region, account, "rule/R",
			"arn:aws:events:us-east-1:123456789012:rule/R"},
		{"rule on a custom bus", Rule(region, account, "MarketDataEvents-dev", "AggregatorOnWindows-dev"), "events", region, account,
			"rule/MarketDataEvents-dev/AggregatorOnWindows-dev",
			"arn:aws:events:us-east-1:123456789012:rule/MarketDataEvents-dev/AggregatorOnWindows-dev"},
		{"role", Role(account, "DataIngestion-dev-role"), "iam", "", account, "role/DataIngestion-dev-role",
			"arn:aws:iam::123456789012:role/DataIngestion-dev-role"},
		{"user", User(account, "synth"), "iam", "", account, "user/synth", "arn:aws:iam::123456789012:user/synth"},
		{"log group", LogGroup(region, account, "/aws/lambda/F"), "logs", region, account, "log-group:/aws/lambda/F",
			"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/F"},
		{"function", fn, "lambda", region, account, "function:DataIngestion-dev",
			"arn:aws:lambda:us-east-1:123456789012:function:DataIngestion-dev"},
		{"event source mapping", EventSourceMapping(region, account, "u-1"), "lambda", region, account, "event-source-mapping:u-1",
			"arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u-1"},
		{"function invoke uri", FunctionInvoke(region, fn), "apigateway", region, "lambda",
			"path/2015-03-31/functions/" + fn + "/invocations",
			"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:DataIngestion-dev/invocations"},
		{"rest api", RestAPI(region, "abc"), "apigateway", region, "", "/restapis/abc", "arn:aws:apigateway:us-east-1::/restapis/abc"},
		{"stage", Stage(region, "abc", "prod"), "apigateway", region, "", "/restapis/abc/stages/prod",
			"arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod"},
		{"execute-api", Execute(region, account, "abc", "/prod/POST/ingest"), "execute-api", region, account, "abc/prod/POST/ingest",
			"arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/ingest"},
		{"topic", Topic(region, account, "MarketDataAlarms-dev"), "sns", region, account, "MarketDataAlarms-dev",
			"arn:aws:sns:us-east-1:123456789012:MarketDataAlarms-dev"},
		{"alarm", Alarm(region, account, "A"), "cloudwatch", region, account, "alarm:A", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:A"},
		{"dashboard", Dashboard(account, "D"), "cloudwatch", "", account, "dashboard/D", "arn:aws:cloudwatch::123456789012:dashboard/D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := arn.Parse(tt.got)
			if err != nil {
				t.Fatalf("arn.Parse(%q): %v", tt.got, err)
			}
			want := arn.ARN{Partition: Partition, Service: tt.service, Region: tt.region, AccountID: tt.account, Resource: tt.resource}
			if a != want {
				t.Errorf("parsed %+v, want %+v", a, want)
			}
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}
