package compute

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/lambdaenv"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Values every function shares.
const (
	runtime      = "provided.al2023"
	handler      = "bootstrap" // the custom runtime's executable; the handler name is unused
	architecture = "arm64"
	tracingMode  = "Active"
	logFormat    = "JSON" // the services log JSON with slog; platform records become JSON too
	// ErrorFilterPattern counts log events that contain ERROR or Exception
	// (CloudWatch Logs unstructured OR terms, case-sensitive).
	ErrorFilterPattern = "?ERROR ?Exception"
)

// functionSpec is everything that differs between the three functions.
type functionSpec struct {
	service     string
	description string
	// timeout of one invocation.
	timeout time.Duration
	// env is the service's shared/lambdaenv list: the variables it reads,
	// whose values environment() supplies.
	env []string
	// grants are the service's own permissions; every function also gets
	// commonGrants.
	grants []grant
	// async is set for functions invoked asynchronously (S3, EventBridge):
	// they get the dead-letter queue as function DLQ and an event invoke
	// config. The processor is invoked synchronously by its event source
	// mapping; its failures reach the DLQ through the queue's redrive.
	async *asyncInvocation
	// output keys of the function's name, ARN and invoke ARN ("" = none).
	nameKey, arnKey, invokeArnKey string
}

// asyncInvocation is Lambda's retry policy for asynchronous events.
type asyncInvocation struct {
	maxRetries  int
	maxEventAge time.Duration
}

// functionSpecs is the table of the three functions, in naming.Services order.
//
// Timeouts:
//   - ingestion streams objects of up to gigabytes from S3 into the queue
//     (S3 read, parse and SendMessageBatch run concurrently, roughly 10–20 s
//     per GB); 5 minutes leaves room for multi-GB files. On the API path, API
//     Gateway's 29 s integration timeout cuts in first.
//   - processor handles one SQS batch (at most 10 messages and Lambda's 6 MB
//     payload). Its timeout × 6 plus the batching window must stay within the
//     queue's visibility timeout (the SQS event source rule), hence 45 s:
//     45 × 6 + 5 = 275 ≤ 300.
//   - aggregator recomputes a few windows per event, or finalises the closed
//     window of every active symbol on the schedule; 2 minutes is ample and
//     well inside the 5-minute schedule, so ticks do not overlap.
//
// Asynchronous retries: Lambda's maximum of 2 retries for both. Ingestion keeps
// S3 events for up to 6 hours (Lambda's maximum) so an outage of a lower layer
// does not lose a file; the aggregator's events are worth retrying for an hour
// (a later tick or event recomputes the same windows idempotently).
var functionSpecs = []functionSpec{
	{
		service:     "ingestion",
		description: "Parses market data files (S3) and POST /ingest bodies, validates points and queues them",
		timeout:     300 * time.Second,
		env:         lambdaenv.Ingestion,
		grants: []grant{
			{sid: "ReadRawObjects", actions: []string{"s3:GetObject", "s3:GetObjectVersion"}, on: []ref{bucketObjects}},
			// Without s3:ListBucket S3 answers a GET of a deleted object or
			// version with 403 AccessDenied, which ingestion must retry (it
			// is also what a broken policy looks like); with it, NoSuchKey /
			// NoSuchVersion, which ingestion reports FAILED at once.
			{sid: "ListRawBucket", actions: []string{"s3:ListBucket"}, on: []ref{bucket}},
			{sid: "QueuePoints", actions: []string{"sqs:SendMessage"}, on: []ref{processingQueue}},
			{sid: "WriteIngestionReports", actions: []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"}, on: []ref{table}},
			deadLetterGrant,
		},
		async:        &asyncInvocation{maxRetries: 2, maxEventAge: 6 * time.Hour},
		nameKey:      outputs.IngestionFunctionName,
		arnKey:       outputs.IngestionFunctionArn,
		invokeArnKey: outputs.IngestionInvokeArn,
	},
	{
		service:     "processor",
		description: "Stores queued points, updates per-symbol state and announces changed windows",
		timeout:     45 * time.Second,
		env:         lambdaenv.Processor,
		grants: []grant{
			{sid: "ConsumeProcessingQueue", actions: []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}, on: []ref{processingQueue}},
			{sid: "WritePointsAndState", actions: []string{"dynamodb:BatchWriteItem", "dynamodb:UpdateItem"}, on: []ref{table}},
			{sid: "PublishWindowEvents", actions: []string{"events:PutEvents"}, on: []ref{eventBus}},
		},
		nameKey: outputs.ProcessorFunctionName,
		arnKey:  outputs.ProcessorFunctionArn,
	},
	{
		service:     "aggregator",
		description: "Aggregates 5-minute OHLCV/VWAP windows and serves the API's reads",
		timeout:     120 * time.Second,
		env:         lambdaenv.Aggregator,
		grants: []grant{
			{sid: "ReadPointsWriteAggregates", actions: []string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"}, on: []ref{table}},
			{sid: "PublishPipelineMetrics", actions: []string{"cloudwatch:PutMetricData"}, on: []ref{anyResource}, ownNamespaceOnly: true},
			deadLetterGrant,
		},
		async:        &asyncInvocation{maxRetries: 2, maxEventAge: time.Hour},
		nameKey:      outputs.AggregatorFunctionName,
		arnKey:       outputs.AggregatorFunctionArn,
		invokeArnKey: outputs.AggregatorInvokeArn,
	},
}

// deadLetterGrant lets Lambda send a failed asynchronous event to the DLQ
// (Lambda uses the execution role for the function's dead-letter target).
var deadLetterGrant = grant{sid: "DeadLetterFailedInvocations", actions: []string{"sqs:SendMessage"}, on: []ref{deadLetterQueue}}

// function is a deployed function.
type function struct {
	spec functionSpec
	name string
	fn   *lambda.Function
}

// export adds the function's outputs.
func (f *function) export(outs common.Outputs) {
	outs[f.spec.nameKey] = f.fn.Name
	outs[f.spec.arnKey] = f.fn.Arn
	if f.spec.invokeArnKey != "" {
		outs[f.spec.invokeArnKey] = f.fn.InvokeArn
	}
}

// newFunction creates a function with its role, inline policy, log group and
// error metric filter. The function depends on its log group (so Lambda never
// creates the group itself, without retention or tags) and on its policy
// (Lambda checks the DLQ and the event source mapping's queue permissions
// against the role when they are created).
func newFunction(ctx *pulumi.Context, n naming.Names, s settings, up lowerLayers, account string, spec functionSpec) (*function, error) {
	name, err := n.FunctionFor(spec.service)
	if err != nil {
		return nil, err
	}
	role, err := newRole(ctx, spec.service, n.Role(name), account)
	if err != nil {
		return nil, err
	}
	logs, err := newLogGroup(ctx, spec.service, n.LogGroup(name))
	if err != nil {
		return nil, err
	}
	if err := newErrorMetricFilter(ctx, spec.service, n, name, logs); err != nil {
		return nil, err
	}
	policy, err := newRolePolicy(ctx, spec, role, logs, up, n)
	if err != nil {
		return nil, err
	}
	env, err := environment(spec.env, n, up)
	if err != nil {
		return nil, err
	}

	args := &lambda.FunctionArgs{
		Name:          pulumi.String(name),
		Description:   pulumi.String(spec.description),
		Role:          role.Arn,
		Runtime:       pulumi.String(runtime),
		Handler:       pulumi.String(handler),
		Architectures: pulumi.StringArray{pulumi.String(architecture)},
		MemorySize:    pulumi.Int(s.memorySize),
		Timeout:       pulumi.Int(int(spec.timeout / time.Second)),
		Code:          pulumi.NewFileArchive(s.packages[spec.service]),
		Environment:   &lambda.FunctionEnvironmentArgs{Variables: env},
		TracingConfig: &lambda.FunctionTracingConfigArgs{Mode: pulumi.String(tracingMode)},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String(logFormat), LogGroup: logs.Name},
		Tags:          common.Tags(),
	}
	if r, ok := s.reserved[spec.service]; ok {
		args.ReservedConcurrentExecutions = pulumi.Int(r)
	}
	if spec.async != nil {
		args.DeadLetterConfig = &lambda.FunctionDeadLetterConfigArgs{TargetArn: up.dlqArn}
	}
	fn, err := lambda.NewFunction(ctx, spec.service, args, pulumi.DependsOn([]pulumi.Resource{logs, policy}))
	if err != nil {
		return nil, err
	}
	if spec.async != nil {
		if err := newEventInvokeConfig(ctx, spec.service, fn, *spec.async); err != nil {
			return nil, err
		}
	}
	return &function{spec: spec, name: name, fn: fn}, nil
}

// environment returns the variables of a service's lambdaenv list with their
// values: exactly the list, so the function gets what the service reads.
func environment(names []string, n naming.Names, up lowerLayers) (pulumi.StringMap, error) {
	values := pulumi.StringMap{
		lambdaenv.TableName:       up.tableName,
		lambdaenv.QueueURL:        up.queueURL,
		lambdaenv.EventBusName:    up.eventBusName,
		lambdaenv.MetricNamespace: pulumi.String(n.MetricNamespace()),
	}
	env := make(pulumi.StringMap, len(names))
	for _, name := range names {
		v, ok := values[name]
		if !ok {
			return nil, fmt.Errorf("no value for environment variable %s", name)
		}
		env[name] = v
	}
	return env, nil
}

// newRole creates a function's execution role, assumable only by Lambda on
// behalf of this account. No managed policies: the inline policy is all it has.
func newRole(ctx *pulumi.Context, service, name, account string) (*iam.Role, error) {
	trust, err := trustPolicy(account).JSON()
	if err != nil {
		return nil, err
	}
	return iam.NewRole(ctx, service+"-role", &iam.RoleArgs{
		Name:             pulumi.String(name),
		Description:      pulumi.String("Execution role of " + service + " (least privilege, inline policy only)"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             common.Tags(),
	})
}

// newRolePolicy attaches the function's least-privilege inline policy.
func newRolePolicy(ctx *pulumi.Context, spec functionSpec, role *iam.Role, logs *cloudwatch.LogGroup, up lowerLayers, n naming.Names) (*iam.RolePolicy, error) {
	doc := common.PolicyJSON(func(in *common.PolicyInputs) common.Policy {
		return executionPolicy(spec, arns{
			bucket: in.Get("bucket"), table: in.Get("table"), queue: in.Get("queue"),
			dlq: in.Get("dlq"), bus: in.Get("bus"), logGroup: in.Get("logGroup"),
		}, n)
	}, pulumi.StringMap{
		"bucket": up.bucketArn, "table": up.tableArn, "queue": up.queueArn,
		"dlq": up.dlqArn, "bus": up.eventBus, "logGroup": logs.Arn,
	})
	return iam.NewRolePolicy(ctx, spec.service+"-policy", &iam.RolePolicyArgs{
		Name:   pulumi.String("least-privilege"),
		Role:   role.Name,
		Policy: doc,
	})
}

// newLogGroup creates the log group Lambda writes to, with our retention and
// tags, before the function exists.
func newLogGroup(ctx *pulumi.Context, service, name string) (*cloudwatch.LogGroup, error) {
	return cloudwatch.NewLogGroup(ctx, service+"-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(name),
		RetentionInDays: pulumi.Int(limits.LogRetentionDays),
		Tags:            common.Tags(),
	})
}

// newErrorMetricFilter counts the function's error log events into our
// namespace (0 when a period has no error, so alarms see data).
func newErrorMetricFilter(ctx *pulumi.Context, service string, n naming.Names, function string, logs *cloudwatch.LogGroup) error {
	_, err := cloudwatch.NewLogMetricFilter(ctx, service+"-errors", &cloudwatch.LogMetricFilterArgs{
		Name:         pulumi.String(n.ErrorMetric(function)),
		LogGroupName: logs.Name,
		Pattern:      pulumi.String(ErrorFilterPattern),
		MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
			Name:         pulumi.String(n.ErrorMetric(function)),
			Namespace:    pulumi.String(n.MetricNamespace()),
			Value:        pulumi.String("1"),
			DefaultValue: pulumi.String("0"),
			Unit:         pulumi.String("Count"),
		},
	})
	return err
}

// newEventInvokeConfig sets explicit retries and event age for asynchronous
// invocations (after which the event goes to the function's DLQ).
func newEventInvokeConfig(ctx *pulumi.Context, service string, fn *lambda.Function, a asyncInvocation) error {
	_, err := lambda.NewFunctionEventInvokeConfig(ctx, service+"-async", &lambda.FunctionEventInvokeConfigArgs{
		FunctionName:             fn.Name,
		MaximumRetryAttempts:     pulumi.Int(a.maxRetries),
		MaximumEventAgeInSeconds: pulumi.Int(int(a.maxEventAge / time.Second)),
	})
	return err
}
