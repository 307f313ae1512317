// Package messaging is the messaging layer of the market-data pipeline: the
// processing queue between ingestion and processor, the dead-letter queue
// that receives everything the pipeline could not deliver, and the custom
// EventBridge bus the processor publishes its events to.
//
// It references no other stack. Its outputs (queue and bus names, URLs and
// ARNs) are read by the compute layer.
//
// # Why the queues are Cloud Control resources
//
// Both queues take 1 MiB messages (limits.QueueMaxMessageBytes), which SQS
// allows since August 2025. pulumi-aws v6 (the repo pins v6.83.4) bridges
// terraform-provider-aws v5, whose aws_sqs_queue still validates
// max_message_size to 1024-262144 bytes: a typed sqs.Queue with 1048576 fails
// `pulumi preview` with "expected max_message_size to be in the range (1024 -
// 262144)" (pulumi/pulumi-aws#6321). terraform-provider-aws raised the limit
// in v6.8.0, which only pulumi-aws v7 releases bridge. So the queues are
// created through AWS Cloud Control (cloudcontrol.Resource, in the same
// pulumi-aws plugin) as AWS::SQS::Queue, whose registry schema types
// MaximumMessageSize as a plain integer and leaves the range to SQS. The
// desired state uses the CloudFormation property names; Cloud Control reports
// the queue's QueueUrl (its identifier) and Arn in the resource's properties.
//
// Deploying them needs, besides the sqs actions Cloud Control performs with
// the deployer's credentials, cloudcontrol:CreateResource, GetResource,
// UpdateResource, DeleteResource and GetResourceRequestStatus, and
// cloudformation:DescribeType (the provider reads the type's schema to
// validate the desired state at preview).
//
// Move back to the typed sqs.Queue (maxMessageSize, redrivePolicy, and a
// typed sqs.RedriveAllowPolicy on the DLQ) when the stacks move to
// pulumi-aws v7. Do not let Pulumi replace the queues for the type change:
// it would create the new queue under the existing name before deleting the
// old one, which SQS refuses or answers with the existing queue, which the
// delete then removes. Migrate with `pulumi state delete` of the Cloud
// Control resources and `pulumi import aws:sqs/queue:Queue <name> <URL>`.
package messaging

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudcontrol"
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

// QueueType is the CloudFormation resource type the queues are created as.
const QueueType = "AWS::SQS::Queue"

// Program creates the messaging layer.
func Program(ctx *pulumi.Context) (common.Outputs, error) {
	names, err := common.Names(ctx)
	if err != nil {
		return nil, err
	}
	// The ARNs this layer computes (the processing queue's, the aggregator
	// rules') are built for naming.Region.
	if err := common.RequireRegion(ctx); err != nil {
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
	dlqState, err := jsonString(DeadLetterQueueState(names, queueArn))
	if err != nil {
		return nil, err
	}
	dlq, err := newQueue(ctx, "dead-letter-queue", pulumi.String(dlqState))
	if err != nil {
		return nil, err
	}
	queue, err := newQueue(ctx, "processing-queue", dlq.Arn.ApplyT(func(dlqArn string) (string, error) {
		return jsonString(ProcessingQueueState(names, dlqArn))
	}).(pulumi.StringOutput))
	if err != nil {
		return nil, err
	}
	// Fail the deployment rather than leave a DLQ that refuses the
	// processing queue's redrives.
	queue.Arn = queue.Arn.ApplyT(func(arn string) (string, error) {
		if arn != queueArn {
			return "", fmt.Errorf("processing queue ARN %s differs from %s, the ARN the dead-letter queue's redrive allow policy admits", arn, queueArn)
		}
		return arn, nil
	}).(pulumi.StringOutput)
	if err := newQueuePolicies(ctx, names, account, queue, dlq); err != nil {
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
		outputs.QueueURL:     queue.URL,
		outputs.QueueArn:     queue.Arn,
		outputs.DLQURL:       dlq.URL,
		outputs.DLQArn:       dlq.Arn,
		outputs.EventBusName: bus.Name,
		outputs.EventBusArn:  bus.Arn,

		outputs.AlarmTopicArn: alarmTopic,
	}, nil
}

// QueueARN is the ARN of the queue named name in account, in naming.Region.
func QueueARN(account, name string) string {
	return arns.Queue(naming.Region, account, name)
}

func seconds(d time.Duration) int { return int(d / time.Second) }

// QueueState is the desired state of an AWS::SQS::Queue, with the property
// names and types of the CloudFormation resource type (RedrivePolicy and
// RedriveAllowPolicy are JSON objects there). Zero numbers and nil policies
// are left out, so that SQS applies its default.
type QueueState struct {
	QueueName                     string              `json:"QueueName"`
	MaximumMessageSize            int                 `json:"MaximumMessageSize,omitempty"`
	MessageRetentionPeriod        int                 `json:"MessageRetentionPeriod,omitempty"`
	VisibilityTimeout             int                 `json:"VisibilityTimeout,omitempty"`
	ReceiveMessageWaitTimeSeconds int                 `json:"ReceiveMessageWaitTimeSeconds,omitempty"`
	SqsManagedSseEnabled          bool                `json:"SqsManagedSseEnabled"`
	RedrivePolicy                 *RedrivePolicy      `json:"RedrivePolicy,omitempty"`
	RedriveAllowPolicy            *RedriveAllowPolicy `json:"RedriveAllowPolicy,omitempty"`
	Tags                          []Tag               `json:"Tags"`
}

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

// Tag is a CloudFormation resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// CloudFormationTags are naming.Tags() as CloudFormation tags, sorted by key
// so that the desired state, and hence the diff, is stable.
func CloudFormationTags() []Tag {
	m := naming.Tags()
	tags := make([]Tag, 0, len(m))
	for k, v := range m {
		tags = append(tags, Tag{Key: k, Value: v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags
}

// DeadLetterQueueState is the DLQ: it keeps messages for the longest time SQS
// allows, takes messages as large as the processing queue's so that every
// redriven message fits, and accepts redrives from the processing queue
// (processingQueueArn) only.
func DeadLetterQueueState(names naming.Names, processingQueueArn string) QueueState {
	return QueueState{
		QueueName:              names.DeadLetterQueue(),
		MaximumMessageSize:     limits.QueueMaxMessageBytes,
		MessageRetentionPeriod: seconds(limits.DLQRetention),
		SqsManagedSseEnabled:   true,
		RedriveAllowPolicy:     &RedriveAllowPolicy{RedrivePermission: "byQueue", SourceQueueArns: []string{processingQueueArn}},
		Tags:                   CloudFormationTags(),
	}
}

// ProcessingQueueState is the queue between ingestion and processor, with its
// redrive to the DLQ (dlqArn) set at creation, so it never exists without one.
func ProcessingQueueState(names naming.Names, dlqArn string) QueueState {
	return QueueState{
		QueueName: names.ProcessingQueue(),
		// Ingestion packs points into messages up to this size.
		MaximumMessageSize:            limits.QueueMaxMessageBytes,
		MessageRetentionPeriod:        seconds(limits.QueueRetention),
		VisibilityTimeout:             seconds(limits.QueueVisibilityTimeout),
		ReceiveMessageWaitTimeSeconds: ReceiveWaitSeconds,
		SqsManagedSseEnabled:          true,
		RedrivePolicy:                 &RedrivePolicy{DeadLetterTargetArn: dlqArn, MaxReceiveCount: limits.MaxReceiveCount},
		Tags:                          CloudFormationTags(),
	}
}

func jsonString(v interface{}) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// Queue is an SQS queue created through Cloud Control, with the URL and ARN
// read back from the resource's properties.
type Queue struct {
	Resource *cloudcontrol.Resource
	URL      pulumi.StringOutput
	Arn      pulumi.StringOutput
}

// newQueue creates an AWS::SQS::Queue with the desired state (a QueueState
// as JSON).
func newQueue(ctx *pulumi.Context, name string, desiredState pulumi.StringInput) (*Queue, error) {
	r, err := cloudcontrol.NewResource(ctx, name, &cloudcontrol.ResourceArgs{
		TypeName:     pulumi.String(QueueType),
		DesiredState: desiredState,
	})
	if err != nil {
		return nil, err
	}
	attr := func(get func(QueueProperties) string) pulumi.StringOutput {
		return r.Properties.ApplyT(func(doc string) (string, error) {
			p, err := ParseQueueProperties(doc)
			if err != nil {
				return "", fmt.Errorf("queue %s: %w", name, err)
			}
			return get(p), nil
		}).(pulumi.StringOutput)
	}
	return &Queue{
		Resource: r,
		URL:      attr(func(p QueueProperties) string { return p.QueueURL }),
		Arn:      attr(func(p QueueProperties) string { return p.Arn }),
	}, nil
}

// QueueProperties are the read-only properties of an AWS::SQS::Queue.
type QueueProperties struct {
	QueueURL string `json:"QueueUrl"`
	Arn      string `json:"Arn"`
}

// ParseQueueProperties reads QueueUrl and Arn from the properties document
// (JSON) Cloud Control reports for an AWS::SQS::Queue.
func ParseQueueProperties(doc string) (QueueProperties, error) {
	var p QueueProperties
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return QueueProperties{}, fmt.Errorf("reading the %s properties reported by Cloud Control: %w", QueueType, err)
	}
	var missing []string
	if p.QueueURL == "" {
		missing = append(missing, "QueueUrl")
	}
	if p.Arn == "" {
		missing = append(missing, "Arn")
	}
	if len(missing) > 0 {
		return QueueProperties{}, fmt.Errorf("the %s properties reported by Cloud Control lack %s: %s",
			QueueType, strings.Join(missing, " and "), doc)
	}
	return p, nil
}

// newQueuePolicies attaches the queues' resource policies.
func newQueuePolicies(ctx *pulumi.Context, names naming.Names, account string, queue, dlq *Queue) error {
	if _, err := sqs.NewQueuePolicy(ctx, "processing-queue-policy", &sqs.QueuePolicyArgs{
		QueueUrl: queue.URL,
		Policy: common.PolicyJSON(func(v []string) common.Policy {
			return ProcessingQueuePolicy(v[0])
		}, queue.Arn),
	}); err != nil {
		return err
	}
	_, err := sqs.NewQueuePolicy(ctx, "dead-letter-queue-policy", &sqs.QueuePolicyArgs{
		QueueUrl: dlq.URL,
		Policy: common.PolicyJSON(func(v []string) common.Policy {
			return DeadLetterQueuePolicy(v[0], []string{names.ScheduleRuleARN(account), names.EventsRuleARN(account)})
		}, dlq.Arn),
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
