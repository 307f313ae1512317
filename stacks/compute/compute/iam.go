package compute

import (
	"sort"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// ref is a resource a grant applies to: it yields the IAM resources from the
// resolved ARNs.
type ref func(arns) []string

var (
	bucketObjects   ref = func(a arns) []string { return []string{a.bucket + "/*"} }
	bucket          ref = func(a arns) []string { return []string{a.bucket} }
	table           ref = func(a arns) []string { return []string{a.table} }
	processingQueue ref = func(a arns) []string { return []string{a.queue} }
	deadLetterQueue ref = func(a arns) []string { return []string{a.dlq} }
	eventBus        ref = func(a arns) []string { return []string{a.bus} }
	// ownLogGroup is the function's own log group and its log streams.
	ownLogGroup ref = func(a arns) []string { return []string{a.logGroup, a.logGroup + ":*"} }
	// anyResource is "*", only for actions that support no narrower resource
	// (X-Ray writes, cloudwatch:PutMetricData).
	anyResource ref = func(arns) []string { return []string{"*"} }
)

// grant is one Allow statement of an execution policy.
type grant struct {
	sid     string
	actions []string
	on      []ref
	// ownNamespaceOnly limits cloudwatch:PutMetricData to the pipeline's
	// namespace (the action takes no resource, so a condition narrows it).
	ownNamespaceOnly bool
}

// commonGrants are what every function needs to run: its logs and traces.
// Log groups are created by the stack, so logs:CreateLogGroup is not granted.
var commonGrants = []grant{
	{sid: "WriteOwnLogs", actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, on: []ref{ownLogGroup}},
	{sid: "WriteTraces", actions: []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, on: []ref{anyResource}},
}

// destructiveActions are denied on the pipeline's data for every function.
// The NotAction Deny already refuses them while they are not granted; this
// Deny is fixed and survives a careless widening of a grant (a wildcard
// action, an attached managed policy). None of the functions deletes items:
// points and state expire by TTL and re-deliveries overwrite. (IAM cannot tell
// a DeleteRequest inside BatchWriteItem from a PutRequest, so that path is
// closed by the services' code, not here.)
var destructiveActions = []string{
	"dynamodb:DeleteTable",
	"dynamodb:DeleteItem",
	"dynamodb:PartiQLDelete",
	"dynamodb:UpdateTable",
	"dynamodb:UpdateTimeToLive",
	"dynamodb:UpdateContinuousBackups",
	"s3:DeleteBucket",
	"s3:DeleteBucketPolicy",
	"s3:PutBucketPolicy",
	"s3:PutBucketVersioning",
	"s3:PutLifecycleConfiguration",
	"s3:DeleteObject",
	"s3:DeleteObjectVersion",
	"sqs:DeleteQueue",
	"sqs:PurgeQueue",
	"sqs:SetQueueAttributes",
	"events:DeleteEventBus",
	"logs:DeleteLogGroup",
	"logs:PutRetentionPolicy",
}

// arns are the resolved ARNs a function's policy refers to.
type arns struct {
	bucket, table, queue, dlq, bus, logGroup string
}

// pipelineData are the resources the destructive Deny protects.
func (a arns) pipelineData() []string {
	return []string{a.table, a.bucket, a.bucket + "/*", a.queue, a.dlq, a.bus, a.logGroup}
}

// grants are all Allow grants of a function: its own, then the common ones.
func (spec functionSpec) allGrants() []grant {
	return append(append([]grant{}, spec.grants...), commonGrants...)
}

// executionPolicy is a function's inline policy: one Allow per grant, a Deny
// of every action outside the grants (NotAction), and a Deny of destructive
// actions on the pipeline's data.
func executionPolicy(spec functionSpec, a arns, n naming.Names) common.Policy {
	var p common.Policy
	granted := map[string]bool{}
	for _, g := range spec.allGrants() {
		st := common.Statement{Sid: g.sid, Effect: "Allow", Action: g.actions}
		for _, r := range g.on {
			st.Resource = append(st.Resource, r(a)...)
		}
		if g.ownNamespaceOnly {
			st.Condition = map[string]map[string]interface{}{
				"StringEquals": {"cloudwatch:namespace": n.MetricNamespace()},
			}
		}
		p.Statement = append(p.Statement, st)
		for _, act := range g.actions {
			granted[act] = true
		}
	}
	notAction := make([]string, 0, len(granted))
	for act := range granted {
		notAction = append(notAction, act)
	}
	sort.Strings(notAction)
	p.Statement = append(p.Statement,
		common.Statement{Sid: "DenyAllButGranted", Effect: "Deny", NotAction: notAction, Resource: []string{"*"}},
		common.Statement{Sid: "DenyDestroyingPipelineData", Effect: "Deny", Action: destructiveActions, Resource: a.pipelineData()},
	)
	return p
}

// trustPolicy lets the Lambda service assume a role on behalf of this account
// only (aws:SourceAccount guards against the confused deputy).
func trustPolicy(account string) common.Policy {
	return common.Policy{Statement: []common.Statement{{
		Sid:       "LambdaAssumesRole",
		Effect:    "Allow",
		Principal: map[string]interface{}{"Service": "lambda.amazonaws.com"},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string]interface{}{
			"StringEquals": {"aws:SourceAccount": account},
		},
	}}}
}
