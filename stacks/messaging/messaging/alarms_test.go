package messaging

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"

	"github.com/marketanalytics/pipeline/shared/metrics"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

const (
	typeTopic        = "aws:sns/topic:Topic"
	typeSubscription = "aws:sns/topicSubscription:TopicSubscription"
	typeAlarm        = stacktest.TypeMetricAlarm
	topicArn         = "arn:aws:sns:us-east-1:123456789012:MarketDataAlarms-dev"
)

// The monitoring types join the layer's classification for the tag tests.
func init() {
	resourceArgs[typeTopic] = sns.TopicArgs{}
	resourceArgs[typeSubscription] = sns.TopicSubscriptionArgs{}
	resourceArgs[typeAlarm] = cloudwatch.MetricAlarmArgs{}
	nonTaggable = append(nonTaggable, typeSubscription)
}

func TestAlarmTopic(t *testing.T) {
	res := run(t, "dev", nil)
	topic := stacktest.Get(t, res, typeTopic, "alarm-topic")
	if got := topic.Inputs["name"]; got != "MarketDataAlarms-dev" {
		t.Errorf("topic name = %v, want MarketDataAlarms-dev", got)
	}
	if got := res.Outputs[outputs.AlarmTopicArn]; got != topicArn || got != topic.Outputs["arn"] {
		t.Errorf("output %s = %v, want the topic's ARN %s", outputs.AlarmTopicArn, got, topicArn)
	}
	if subs := res.OfType(typeSubscription); len(subs) != 0 {
		t.Errorf("subscriptions without %s: %v", ConfigAlarmEmail, subs)
	}
}

func TestAlarmEmailSubscribes(t *testing.T) {
	res := run(t, "dev", map[string]string{ConfigAlarmEmail: "oncall@example.com"})
	sub := stacktest.Get(t, res, typeSubscription, "alarm-email")
	stacktest.AssertJSON(t, "subscription", sub.Inputs, `{"topic": "`+topicArn+`", "protocol": "email", "endpoint": "oncall@example.com"}`)
}

func TestAlarmConfigErrors(t *testing.T) {
	for _, cfg := range []map[string]string{
		{ConfigAlarmEmail: "not-an-address"},
		{ConfigQueueAgeAlarmMinutes: "0"},
		{ConfigDLQAlarmMessages: "many"},
	} {
		_, err := synthrec.Run(Program, stacktest.Options(t, naming.ProjectMessaging, "dev", cfg))
		if err == nil {
			t.Errorf("config %v: program succeeded, want an error", cfg)
			continue
		}
		for k := range cfg {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("config %v: error %q does not name the key", cfg, err)
			}
		}
	}
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
			res := run(t, "dev", tt.cfg)
			if got := len(res.OfType(typeAlarm)); got != 2 {
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
