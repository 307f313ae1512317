// Package provision creates, in the emulated account (moto), the resources
// the synthesized stacks declare, from build/synth/*.json: the bucket with its
// versioning, encryption, lifecycle, public access block, ownership and
// policy; the table with its keys, billing mode, point-in-time recovery and
// TTL; the queues with their attributes, policies and redrive; the event bus
// and the rules.
//
// Every resource type of the synth is classified here: provisioned in moto,
// run or wired by the local pipeline itself, or skipped on purpose with the
// reason. A type nobody classified is an error, so a new resource in a stack
// is never silently ignored locally.
package provision

import (
	"fmt"
	"sort"
	"strings"

	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// Kind says what the local pipeline does with a resource type.
type Kind int

const (
	// Provisioned in moto by this package.
	Provisioned Kind = iota + 1
	// Local: run or wired by the local pipeline (functions, triggers, API).
	Local
	// Skipped on purpose; Reason says why it does not matter locally.
	Skipped
)

// Class is the classification of one resource type.
type Class struct {
	Kind   Kind
	Reason string
}

const (
	iamReason  = "IAM is not enforced locally (moto does not evaluate policies on the functions' calls); the stacks' mock tests assert every statement"
	logsReason = "function logs go to the local log files; CloudWatch Logs is not emulated"
	apiReason  = "API Gateway deployment detail; the local API serves the routes of the synth directly"
)

// Classes maps every resource type the stacks may create to what the local
// pipeline does with it.
var Classes = map[string]Class{
	"aws:s3/bucketV2:BucketV2":                     {Provisioned, ""},
	"aws:s3/bucketVersioningV2:BucketVersioningV2": {Provisioned, ""},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {Provisioned, ""},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       {Provisioned, ""},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     {Provisioned, ""},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     {Provisioned, ""},
	"aws:dynamodb/table:Table":           {Provisioned, ""},
	"aws:sqs/queue:Queue":                {Provisioned, ""},
	"aws:sqs/queuePolicy:QueuePolicy":    {Provisioned, ""},
	"aws:cloudwatch/eventBus:EventBus":   {Provisioned, ""},
	"aws:cloudwatch/eventRule:EventRule": {Provisioned, ""},

	"aws:lambda/function:Function":                                   {Local, "runs the function's local bootstrap under the Runtime Interface Emulator"},
	"aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {Local, "retries and dead-letters asynchronous invocations"},
	"aws:lambda/permission:Permission":                               {Local, "a trigger without its invoke permission is not wired"},
	"aws:lambda/eventSourceMapping:EventSourceMapping":               {Local, "polls the queue and invokes the function"},
	"aws:s3/bucketNotification:BucketNotification":                   {Local, "S3 notifications to an internal queue, drained into the function"},
	"aws:cloudwatch/eventTarget:EventTarget":                         {Local, "rule target to an internal queue (pattern rules) or a local timer (schedules), drained into the function"},
	"aws:apigateway/restApi:RestApi":                                 {Local, "served by the local API"},
	"aws:apigateway/resource:Resource":                               {Local, "served by the local API"},
	"aws:apigateway/method:Method":                                   {Local, "served by the local API (authorization checked)"},
	"aws:apigateway/integration:Integration":                         {Local, "served by the local API (AWS_PROXY to the function)"},
	"aws:apigateway/stage:Stage":                                     {Local, "the local API's path prefix"},

	"aws:s3/bucketPolicy:BucketPolicy":                       {Skipped, "its deny of non-TLS access would deny every local request: moto evaluates bucket policies, and the local endpoint is plain HTTP"},
	"aws:iam/role:Role":                                      {Skipped, iamReason},
	"aws:iam/rolePolicy:RolePolicy":                          {Skipped, iamReason},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":      {Skipped, iamReason},
	"aws:iam/policy:Policy":                                  {Skipped, iamReason},
	"aws:cloudwatch/logGroup:LogGroup":                       {Skipped, logsReason},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter":         {Skipped, logsReason},
	"aws:cloudwatch/metricAlarm:MetricAlarm":                 {Skipped, "alarms need CloudWatch metric evaluation, which is not emulated"},
	"aws:cloudwatch/dashboard:Dashboard":                     {Skipped, "the dashboard graphs CloudWatch metrics, which are not emulated (`go run mage.go status` shows the local pipeline's state)"},
	"aws:sns/topic:Topic":                                    {Skipped, "the alarm topic: alarms are not evaluated locally"},
	"aws:sns/topicSubscription:TopicSubscription":            {Skipped, "the alarm topic's subscription: alarms are not evaluated locally"},
	"aws:apigateway/deployment:Deployment":                   {Skipped, apiReason},
	"aws:apigateway/methodSettings:MethodSettings":           {Skipped, apiReason + " (no throttling locally)"},
	"aws:apigateway/account:Account":                         {Skipped, "API Gateway's account-level CloudWatch role for the stage's logs: CloudWatch Logs is not emulated"},
	"aws:apigateway/methodResponse:MethodResponse":           {Skipped, apiReason + " (proxy integrations answer as the function does)"},
	"aws:apigateway/integrationResponse:IntegrationResponse": {Skipped, apiReason + " (proxy integrations answer as the function does)"},
	"pulumi:pulumi:StackReference":                           {Skipped, "Pulumi plumbing: the synth already resolved the references"},
	"pulumi:pulumi:Stack":                                    {Skipped, "Pulumi plumbing"},
}

// Classify returns the class of a resource, or an error for a type nobody
// classified.
func Classify(r *synthread.Resource) (Class, error) {
	if strings.HasPrefix(r.Type, "pulumi:providers:") {
		return Class{Skipped, "Pulumi provider"}, nil
	}
	c, ok := Classes[r.Type]
	if !ok {
		return Class{}, fmt.Errorf("%s: the local pipeline does not know this resource type; "+
			"decide whether it is provisioned, run locally or skipped on purpose in tools/internal/provision/kinds.go", r)
	}
	return c, nil
}

// Check classifies every resource of p and returns the skipped types with
// their reasons (for the summary), or the first unclassified resource.
func Check(p *synthread.Plan) (skipped []string, err error) {
	seen := map[string]bool{}
	var errs []string
	for _, r := range p.Resources() {
		c, err := Classify(r)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if c.Kind == Skipped && !seen[r.Type] {
			seen[r.Type] = true
			skipped = append(skipped, r.Type+": "+c.Reason)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	sort.Strings(skipped)
	return skipped, nil
}
