package compute

import (
	"encoding/json"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
)

const invokeAction = "lambda:InvokeFunction"

// objectCreatedEvents are the S3 events that trigger ingestion: every way an
// object is created (PUT, POST, copy, multipart upload completion).
const objectCreatedEvents = "s3:ObjectCreated:*"

// objectCreatedTrigger invokes ingestion for every object created in the
// raw-data bucket. S3 validates the destination when the notification is
// written, so the invoke permission must exist first.
func objectCreatedTrigger(ctx *pulumi.Context, up lowerLayers, account string, ingestion *function) error {
	perm, err := lambda.NewPermission(ctx, "ingestion-allow-s3", &lambda.PermissionArgs{
		StatementId:   pulumi.String("AllowRawDataBucket"),
		Action:        pulumi.String(invokeAction),
		Function:      ingestion.fn.Name,
		Principal:     pulumi.String("s3.amazonaws.com"),
		SourceArn:     up.bucketArn,
		SourceAccount: pulumi.String(account),
	})
	if err != nil {
		return err
	}
	_, err = s3.NewBucketNotification(ctx, "raw-data-notification", &s3.BucketNotificationArgs{
		Bucket: up.bucketName,
		LambdaFunctions: s3.BucketNotificationLambdaFunctionArray{&s3.BucketNotificationLambdaFunctionArgs{
			Id:                pulumi.String("ingest-raw-data"),
			LambdaFunctionArn: ingestion.fn.Arn,
			Events:            pulumi.StringArray{pulumi.String(objectCreatedEvents)},
		}},
	}, pulumi.DependsOn([]pulumi.Resource{perm}))
	return err
}

// Processing queue → processor. Chosen for cost: batches of up to 10
// messages, gathered for up to 5 s so a trickle of messages is handled in few
// invocations while adding at most 5 s of latency. A full batch fits Lambda's
// invocation payload (limits.LambdaPayloadBytes) even in the worst case: ten
// messages of limits.QueueMaxMessageBytes whose bodies double when
// JSON-escaped, plus each record's attributes, come to about 5.3 MB of 6 MB
// (TestFullQueueBatchFitsTheInvocationPayload). The window only decides how
// long a batch gathers, not its size. The concurrency cap bounds the DynamoDB
// write rate and the functions' share of the account's concurrency;
// ReportBatchItemFailures retries only the failed messages.
const (
	queueBatchingWindow = 5 * time.Second
	queueMaxConcurrency = 10
	reportBatchFailures = "ReportBatchItemFailures"
)

// queueTrigger maps the processing queue to the processor.
func queueTrigger(ctx *pulumi.Context, up lowerLayers, processor *function) error {
	_, err := lambda.NewEventSourceMapping(ctx, "processor-queue", &lambda.EventSourceMappingArgs{
		EventSourceArn:                 up.queueArn,
		FunctionName:                   processor.fn.Arn,
		Enabled:                        pulumi.Bool(true),
		BatchSize:                      pulumi.Int(limits.QueueBatchSize),
		MaximumBatchingWindowInSeconds: pulumi.Int(int(queueBatchingWindow / time.Second)),
		FunctionResponseTypes:          pulumi.StringArray{pulumi.String(reportBatchFailures)},
		ScalingConfig:                  &lambda.EventSourceMappingScalingConfigArgs{MaximumConcurrency: pulumi.Int(queueMaxConcurrency)},
		Tags:                           common.Tags(),
	})
	return err
}

// ruleSpec is one EventBridge rule that invokes the aggregator.
type ruleSpec struct {
	key         string // logical name prefix
	name        string
	description string
	bus         pulumi.StringInput // nil: the default bus
	schedule    string
	pattern     string
	statementID string
	retry       eventRetry
}

// eventRetry is an EventBridge target's retry policy; events that exhaust it
// go to the dead-letter queue.
type eventRetry struct {
	maxAttempts int
	maxAge      time.Duration
}

// scheduleExpression finalises the window that just closed.
const scheduleExpression = "rate(5 minutes)"

// windowsPattern matches the processor's WindowsChanged events.
func windowsPattern() (string, error) {
	b, err := json.Marshal(map[string][]string{
		"source":      {marketdata.EventSource},
		"detail-type": {marketdata.EventDetailType},
	})
	return string(b), err
}

// aggregatorRules are the two rules. A schedule tick older than about one
// period is superseded by the next tick, so it is retried for 4 minutes; a
// WindowsChanged event is retried for an hour before it is dead-lettered (a
// later tick recomputes the windows anyway).
func aggregatorRules(n naming.Names, up lowerLayers) ([]ruleSpec, error) {
	pattern, err := windowsPattern()
	if err != nil {
		return nil, err
	}
	return []ruleSpec{
		{
			key: "aggregator-schedule", name: n.ScheduleRule(), schedule: scheduleExpression,
			description: "Finalises the 5-minute window that just closed",
			statementID: "AllowScheduleRule",
			retry:       eventRetry{maxAttempts: 3, maxAge: 4 * time.Minute},
		},
		{
			key: "aggregator-windows", name: n.EventsRule(), bus: up.eventBusName, pattern: pattern,
			description: "Recomputes the windows the processor reports as changed",
			statementID: "AllowWindowsRule",
			retry:       eventRetry{maxAttempts: 24, maxAge: time.Hour},
		},
	}, nil
}

// ruleTriggers creates the aggregator's rules, each with its invoke
// permission and a target with a retry policy and the DLQ.
func ruleTriggers(ctx *pulumi.Context, n naming.Names, up lowerLayers, aggregator *function) error {
	rules, err := aggregatorRules(n, up)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := ruleTrigger(ctx, r, up, aggregator); err != nil {
			return err
		}
	}
	return nil
}

func ruleTrigger(ctx *pulumi.Context, r ruleSpec, up lowerLayers, target *function) error {
	args := &cloudwatch.EventRuleArgs{
		Name:        pulumi.String(r.name),
		Description: pulumi.String(r.description),
		State:       pulumi.String("ENABLED"),
		Tags:        common.Tags(),
	}
	if r.bus != nil {
		args.EventBusName = r.bus
	}
	if r.schedule != "" {
		args.ScheduleExpression = pulumi.String(r.schedule)
	}
	if r.pattern != "" {
		args.EventPattern = pulumi.String(r.pattern)
	}
	rule, err := cloudwatch.NewEventRule(ctx, r.key, args)
	if err != nil {
		return err
	}
	perm, err := lambda.NewPermission(ctx, r.key+"-permission", &lambda.PermissionArgs{
		StatementId: pulumi.String(r.statementID),
		Action:      pulumi.String(invokeAction),
		Function:    target.fn.Name,
		Principal:   pulumi.String("events.amazonaws.com"),
		SourceArn:   rule.Arn,
	})
	if err != nil {
		return err
	}
	targetArgs := &cloudwatch.EventTargetArgs{
		Rule:     rule.Name,
		TargetId: pulumi.String(target.spec.service),
		Arn:      target.fn.Arn,
		RetryPolicy: &cloudwatch.EventTargetRetryPolicyArgs{
			MaximumRetryAttempts:     pulumi.Int(r.retry.maxAttempts),
			MaximumEventAgeInSeconds: pulumi.Int(int(r.retry.maxAge / time.Second)),
		},
		DeadLetterConfig: &cloudwatch.EventTargetDeadLetterConfigArgs{Arn: up.dlqArn},
	}
	if r.bus != nil {
		targetArgs.EventBusName = r.bus
	}
	_, err = cloudwatch.NewEventTarget(ctx, r.key+"-target", targetArgs, pulumi.DependsOn([]pulumi.Resource{perm}))
	return err
}
