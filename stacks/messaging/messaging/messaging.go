// Package messaging is the messaging layer of the market-data pipeline: the
// processing queue between ingestion and processor, the dead-letter queue
// that receives everything the pipeline could not deliver, and the custom
// EventBridge bus the processor publishes its events to.
//
// It references no other stack. Its outputs (queue and bus names, URLs and
// ARNs) are read by the compute layer.
//
// Both queues are typed sqs.Queue resources. Their messages carry at most
// limits.QueueMaxMessageBytes (256 KiB), the range pulumi-aws v6 validates;
// larger messages would buy nothing (see shared/limits).
package messaging

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/arns"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// ReceiveWaitSeconds enables long polling (the most SQS allows). Lambda's
// event source mapping long-polls anyway; this also serves any other reader.
const ReceiveWaitSeconds = 20

// Program creates the messaging layer.
func Program(ctx *pulumi.Context) (common.Outputs, error) {
	// The ARNs this layer computes (the processing queue's, the aggregator
	// rules') are built for naming.Region.
	names, err := common.NamesInRegion(ctx)
	if err != nil {
		return nil, err
	}
	id, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the account: %w", err)
	}
	account := id.AccountId
	// The DLQ's redrive allow policy names the processing queue, whose
	// redrive policy names the DLQ. The processing queue's ARN follows from
	// its name, so the DLQ is created first with that ARN, and the
	// processing queue then with the DLQ's actual ARN.
	queueArn := QueueARN(account, names.ProcessingQueue())
	dlq, err := newDeadLetterQueue(ctx, names, queueArn)
	if err != nil {
		return nil, err
	}
	queue, err := newProcessingQueue(ctx, names, dlq)
	if err != nil {
		return nil, err
	}
	// Fail the deployment rather than leave a DLQ that refuses the
	// processing queue's redrives.
	queueArnChecked := queue.Arn.ApplyT(func(arn string) (string, error) {
		if arn != queueArn {
			return "", fmt.Errorf("processing queue ARN %s differs from %s, the ARN the dead-letter queue's redrive allow policy admits", arn, queueArn)
		}
		return arn, nil
	}).(pulumi.StringOutput)
	if err := newQueuePolicies(ctx, names, account, queue.Url, queueArnChecked, dlq); err != nil {
		return nil, err
	}
	bus, err := newEventBus(ctx, names)
	if err != nil {
		return nil, err
	}
	alarmTopic, err := newAlarms(ctx, names)
	if err != nil {
		return nil, err
	}
	return common.Outputs{
		outputs.QueueURL:     queue.Url,
		outputs.QueueArn:     queueArnChecked,
		outputs.DLQURL:       dlq.Url,
		outputs.DLQArn:       dlq.Arn,
		outputs.EventBusName: bus.Name,
		outputs.EventBusArn:  bus.Arn,

		outputs.AlarmTopicArn: alarmTopic,

		outputs.EnvironmentSuffix: pulumi.String(names.Suffix()),
	}, nil
}

// QueueARN is the ARN of the queue named name in account, in naming.Region.
func QueueARN(account, name string) string {
	return arns.Queue(naming.Region, account, name)
}

func seconds(d time.Duration) pulumi.Int { return pulumi.Int(int(d / time.Second)) }

// RedrivePolicy is the processing queue's redrive policy document.
type RedrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

// RedriveAllowPolicy is the dead-letter queue's redrive allow policy document.
type RedriveAllowPolicy struct {
	RedrivePermission string   `json:"redrivePermission"`
	SourceQueueArns   []string `json:"sourceQueueArns,omitempty"`
}

func jsonString(v interface{}) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// newDeadLetterQueue creates the DLQ: it keeps messages for the longest time
// SQS allows, takes messages as large as the processing queue's so that every
// redriven message fits, and accepts redrives from the processing queue
// (processingQueueArn) only. The redrive allow policy is the queue's own
// input rather than a separate sqs.RedriveAllowPolicy: the processing queue's
// redrive policy already makes that queue depend on the DLQ, and one resource
// writing the DLQ's attributes cannot race a second one.
func newDeadLetterQueue(ctx *pulumi.Context, names naming.Names, processingQueueArn string) (*sqs.Queue, error) {
	allow, err := jsonString(RedriveAllowPolicy{RedrivePermission: "byQueue", SourceQueueArns: []string{processingQueueArn}})
	if err != nil {
		return nil, err
	}
	return sqs.NewQueue(ctx, "dead-letter-queue", &sqs.QueueArgs{
		Name:                    pulumi.String(names.DeadLetterQueue()),
		MessageRetentionSeconds: seconds(limits.DLQRetention),
		MaxMessageSize:          pulumi.Int(limits.QueueMaxMessageBytes),
		SqsManagedSseEnabled:    pulumi.Bool(true),
		RedriveAllowPolicy:      pulumi.String(allow),
		Tags:                    common.Tags(),
	})
}

// newProcessingQueue creates the queue between ingestion and processor, with
// its redrive to the DLQ set at creation, so it never exists without one.
func newProcessingQueue(ctx *pulumi.Context, names naming.Names, dlq *sqs.Queue) (*sqs.Queue, error) {
	return sqs.NewQueue(ctx, "processing-queue", &sqs.QueueArgs{
		Name:                     pulumi.String(names.ProcessingQueue()),
		VisibilityTimeoutSeconds: seconds(limits.QueueVisibilityTimeout),
		MessageRetentionSeconds:  seconds(limits.QueueRetention),
		// Ingestion packs points into messages up to this size.
		MaxMessageSize:         pulumi.Int(limits.QueueMaxMessageBytes),
		ReceiveWaitTimeSeconds: pulumi.Int(ReceiveWaitSeconds),
		SqsManagedSseEnabled:   pulumi.Bool(true),
		RedrivePolicy: dlq.Arn.ApplyT(func(arn string) (string, error) {
			return jsonString(RedrivePolicy{DeadLetterTargetArn: arn, MaxReceiveCount: limits.MaxReceiveCount})
		}).(pulumi.StringOutput),
		Tags: common.Tags(),
	})
}

// newQueuePolicies attaches the queues' resource policies.
func newQueuePolicies(ctx *pulumi.Context, names naming.Names, account string,
	queueURL, queueArn pulumi.StringOutput, dlq *sqs.Queue) error {
	if _, err := sqs.NewQueuePolicy(ctx, "processing-queue-policy", &sqs.QueuePolicyArgs{
		QueueUrl: queueURL,
		Policy: common.PolicyJSON(func(in *common.PolicyInputs) common.Policy {
			return ProcessingQueuePolicy(in.Get("queue"))
		}, pulumi.StringMap{"queue": queueArn}),
	}); err != nil {
		return err
	}
	_, err := sqs.NewQueuePolicy(ctx, "dead-letter-queue-policy", &sqs.QueuePolicyArgs{
		QueueUrl: dlq.Url,
		Policy: common.PolicyJSON(func(in *common.PolicyInputs) common.Policy {
			return DeadLetterQueuePolicy(in.Get("dlq"), []string{names.ScheduleRuleARN(account), names.EventsRuleARN(account)})
		}, pulumi.StringMap{"dlq": dlq.Arn}),
	})
	return err
}

// denyInsecureTransport denies any request to the queue that does not use TLS.
func denyInsecureTransport(queueArn string) common.Statement {
	return common.Statement{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]interface{}{"AWS": "*"},
		Action:    []string{"sqs:*"},
		Resource:  []string{queueArn},
		Condition: map[string]map[string]interface{}{"Bool": {"aws:SecureTransport": "false"}},
	}
}

// ProcessingQueuePolicy is the processing queue's resource policy. It grants
// nothing: ingestion sends and the processor receives through their roles.
func ProcessingQueuePolicy(queueArn string) common.Policy {
	return common.Policy{Statement: []common.Statement{denyInsecureTransport(queueArn)}}
}

// DeadLetterQueuePolicy is the DLQ's resource policy. EventBridge delivers a
// rule target's undeliverable events to the target's DLQ as the service
// itself, so the queue must admit events.amazonaws.com, and exactly for the
// given rules (the aggregator's schedule rule and the rule on the custom bus,
// which the compute layer creates under these names).
//
// The other writers need no grant here: a Lambda function's asynchronous
// invocation failures (ingestion, aggregator) are sent to its dead-letter
// queue with the function's execution role, which the compute layer grants
// sqs:SendMessage on this queue; and the processing queue's redrive is
// governed by the redrive allow policy, not by this policy.
func DeadLetterQueuePolicy(dlqArn string, ruleArns []string) common.Policy {
	return common.Policy{Statement: []common.Statement{
		{
			Sid:       "AllowEventBridgeRuleDeadLetters",
			Effect:    "Allow",
			Principal: map[string]interface{}{"Service": "events.amazonaws.com"},
			Action:    []string{"sqs:SendMessage"},
			Resource:  []string{dlqArn},
			Condition: map[string]map[string]interface{}{"ArnEquals": {"aws:SourceArn": ruleArns}},
		},
		denyInsecureTransport(dlqArn),
	}}
}

// newEventBus creates the custom bus the processor publishes its events to.
// The processor's role grants events:PutEvents on it (same account), so the
// bus needs no resource policy.
func newEventBus(ctx *pulumi.Context, names naming.Names) (*cloudwatch.EventBus, error) {
	return cloudwatch.NewEventBus(ctx, "event-bus", &cloudwatch.EventBusArgs{
		Name:        pulumi.String(names.EventBus()),
		Description: pulumi.String("Market-data pipeline: events of the processor about changed aggregation windows"),
		Tags:        common.Tags(),
	})
}
