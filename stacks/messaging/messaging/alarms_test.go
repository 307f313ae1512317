package messaging

import (
	"testing"

	"github.com/marketanalytics/pipeline/shared/metrics"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
)

// topicArn is the alarm topic's ARN in the "dev" stack.
const topicArn = "arn:aws:sns:us-east-1:123456789012:MarketDataAlarms-dev"

func TestAlarmTopic(t *testing.T) {
	res := fixture.RunDev(t)
	topic := stacktest.Get(t, res, stacktest.TypeTopic, "alarm-topic")
	if got := topic.Inputs["name"]; got != "MarketDataAlarms-dev" {
		t.Errorf("topic name = %v, want MarketDataAlarms-dev", got)
	}
	if got := res.Outputs[outputs.AlarmTopicArn]; got != topicArn || got != topic.Outputs["arn"] {
		t.Errorf("output %s = %v, want the topic's ARN %s", outputs.AlarmTopicArn, got, topicArn)
	}
	if subs := res.OfType(stacktest.TypeSubscription); len(subs) != 0 {
		t.Errorf("subscriptions without %s: %v", ConfigAlarmEmail, subs)
	}
}

func TestAlarmEmailSubscribes(t *testing.T) {
	res := fixture.Run(t, "dev", map[string]string{ConfigAlarmEmail: "oncall@example.com"})
	sub := stacktest.Get(t, res, stacktest.TypeSubscription, "alarm-email")
	stacktest.AssertJSON(t, "subscription", sub.Inputs, `{"topic": "`+topicArn+`", "protocol": "email", "endpoint": "oncall@example.com"}`)
}

func TestAlarmConfigErrors(t *testing.T) {
	fixture.AssertConfigRefused(t,
		map[string]string{ConfigAlarmEmail: "not-an-address"},
		map[string]string{ConfigQueueAgeAlarmMinutes: "0"},
		map[string]string{ConfigDLQAlarmMessages: "many"},
	)
}

func TestQueueAlarms(t *testing.T) {
	n := naming.MustNew("dev")
	for _, tt := range []struct {
		name              string
		cfg               map[string]string
		dlqMessages, ageS float64
	}{
		{"defaults", nil, DefaultDLQAlarmMessages, DefaultQueueAgeAlarmMinutes * 60},
		{"configured", map[string]string{ConfigDLQAlarmMessages: "5", ConfigQueueAgeAlarmMinutes: "30"}, 5, 1800},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := fixture.Run(t, "dev", tt.cfg)
			if got := len(res.OfType(stacktest.TypeMetricAlarm)); got != 2 {
				t.Errorf("%d alarms, want 2", got)
			}
			stacktest.AssertAlarm(t, res, n, stacktest.AlarmWant{
				ID: naming.AlarmDLQVisible,
				Metric: stacktest.AlarmMetric{Namespace: "AWS/SQS", Name: "ApproximateNumberOfMessagesVisible",
					Dimensions: map[string]string{"QueueName": "ProcessingDLQ-dev"}, Stat: "Maximum"},
				Period: 60, Comparison: "GreaterThanOrEqualToThreshold", Threshold: tt.dlqMessages, Topic: topicArn,
			})
			stacktest.AssertAlarm(t, res, n, stacktest.AlarmWant{
				ID: naming.AlarmQueueAge,
				Metric: stacktest.AlarmMetric{Namespace: "AWS/SQS", Name: "ApproximateAgeOfOldestMessage",
					Dimensions: map[string]string{"QueueName": "ProcessingQueue-dev"}, Stat: "Maximum"},
				Period: 300, Comparison: "GreaterThanThreshold", Threshold: tt.ageS, Topic: topicArn,
			})
		})
	}
}

// The literals above are the AWS names; the code takes them from
// shared/metrics, which must agree.
func TestMetricNames(t *testing.T) {
	for got, want := range map[string]string{
		metrics.NamespaceSQS: "AWS/SQS", metrics.SQSVisible: "ApproximateNumberOfMessagesVisible",
		metrics.SQSOldestAge: "ApproximateAgeOfOldestMessage", metrics.DimQueueName: "QueueName",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}
