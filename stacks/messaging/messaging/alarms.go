package messaging

import (
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/marketanalytics/pipeline/shared/metrics"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Config keys of the alarms, with their defaults. Pulumi.yaml declares the
// same keys and defaults.
const (
	// ConfigAlarmEmail, when set, subscribes an address to the alarm topic.
	ConfigAlarmEmail = "alarmEmail"
	// ConfigDLQAlarmMessages is how many visible DLQ messages raise the alarm.
	ConfigDLQAlarmMessages  = "dlqAlarmMessages"
	DefaultDLQAlarmMessages = 1
	// ConfigQueueAgeAlarmMinutes bounds the age of the processing queue's
	// oldest message. Ingestion's messages are normally consumed within
	// seconds; 10 minutes means the processor is failing or far behind.
	ConfigQueueAgeAlarmMinutes  = "queueAgeAlarmMinutes"
	DefaultQueueAgeAlarmMinutes = 10
)

// The topic lives in this layer, the lowest one with alarms (the queues'),
// and is exported for the layers above.

// newAlarms creates the alarm topic (with the optional e-mail subscription)
// and the queues' alarms, and returns the topic's ARN.
func newAlarms(ctx *pulumi.Context, n naming.Names) (pulumi.StringOutput, error) {
	var none pulumi.StringOutput
	dlqMessages, err := common.IntConfig(ctx, ConfigDLQAlarmMessages, DefaultDLQAlarmMessages, 1)
	if err != nil {
		return none, err
	}
	ageMinutes, err := common.IntConfig(ctx, ConfigQueueAgeAlarmMinutes, DefaultQueueAgeAlarmMinutes, 1)
	if err != nil {
		return none, err
	}
	email := strings.TrimSpace(config.New(ctx, "").Get(ConfigAlarmEmail))
	if email != "" && !strings.Contains(email, "@") {
		return none, fmt.Errorf("config %s: %q is not an e-mail address", ConfigAlarmEmail, email)
	}
	topic, err := sns.NewTopic(ctx, "alarm-topic", &sns.TopicArgs{
		Name:        pulumi.String(n.AlarmTopic()),
		DisplayName: pulumi.String("Market data alarms (" + n.Suffix() + ")"),
		Tags:        common.Tags(),
	})
	if err != nil {
		return none, err
	}
	if email != "" {
		// AWS sends a confirmation mail; until it is confirmed nothing is
		// delivered to the address.
		if _, err := sns.NewTopicSubscription(ctx, "alarm-email", &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(email),
		}); err != nil {
			return none, err
		}
	}
	for _, a := range QueueAlarms(n, dlqMessages, ageMinutes) {
		if _, err := common.NewAlarm(ctx, n, topic.Arn, a); err != nil {
			return none, err
		}
	}
	return topic.Arn, nil
}

// QueueAlarms are the alarms on the two queues.
func QueueAlarms(n naming.Names, dlqMessages, ageMinutes int) []common.Alarm {
	return []common.Alarm{
		{
			ID: naming.AlarmDLQVisible,
			Meaning: fmt.Sprintf("%s holds messages the pipeline could not deliver (processing-queue redrives, failed asynchronous invocations, undeliverable events). "+
				"Look with `go run mage.go dlq:list`, fix the cause, then `go run mage.go dlq:redrive`.", n.DeadLetterQueue()),
			Metric: common.Metric{
				Namespace:  metrics.NamespaceSQS,
				Name:       metrics.SQSVisible,
				Dimensions: map[string]string{metrics.DimQueueName: n.DeadLetterQueue()},
				Stat:       metrics.Maximum,
			},
			Period:     time.Minute,
			Comparison: common.GreaterOrEqual,
			Threshold:  float64(dlqMessages),
		},
		{
			ID: naming.AlarmQueueAge,
			Meaning: fmt.Sprintf("The oldest message of %s waited more than %d minutes: the processor is failing, throttled or far behind. "+
				"Check the processor's errors and throttles, then `go run mage.go status`.", n.ProcessingQueue(), ageMinutes),
			Metric: common.Metric{
				Namespace:  metrics.NamespaceSQS,
				Name:       metrics.SQSOldestAge,
				Dimensions: map[string]string{metrics.DimQueueName: n.ProcessingQueue()},
				Stat:       metrics.Maximum,
			},
			Period:     5 * time.Minute,
			Comparison: common.Greater,
			Threshold:  float64(ageMinutes * 60), // the metric is in seconds
		},
	}
}
