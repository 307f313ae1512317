package preflight

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// Plan is what the stacks would deploy, as far as the checks care, read
// from the synth of the user's stack config (tools/synth): the stacks' own
// code decides every value, so a config key another team adds (reserved
// concurrency, access logging) reaches the checks without a copy here.
type Plan struct {
	// Bucket is the raw-data bucket's name.
	Bucket string
	// Functions are the Lambda functions, sorted by name.
	Functions []Function
	// QueueMaxConcurrency is the SQS event source mapping's maximum
	// concurrency (0: unset), and QueueFunction the function it invokes.
	QueueMaxConcurrency int
	QueueFunction       string
	// AccessLogging is whether a stage writes access logs.
	AccessLogging bool
	// APIGatewayRole is the name of the role the api stack creates and sets
	// as the account-level API Gateway CloudWatch role (the role of its
	// aws:apigateway/account:Account), "" when it sets none and reuses the
	// account's.
	APIGatewayRole string
}

// Function is one Lambda function of the plan.
type Function struct {
	Name     string
	MemoryMB int
	// Reserved is its reserved concurrency, 0 when unset (AWS's -1).
	Reserved int
}

// Resource types the plan reads.
const (
	typeBucket     = "aws:s3/bucketV2:BucketV2"
	typeFunction   = "aws:lambda/function:Function"
	typeESM        = "aws:lambda/eventSourceMapping:EventSourceMapping"
	typeStage      = "aws:apigateway/stage:Stage"
	typeAPIAccount = "aws:apigateway/account:Account"
)

// LoadPlan reads the plan from the synth in dir (tools/internal/synthread).
func LoadPlan(dir string) (Plan, error) {
	sp, err := synthread.Load(dir)
	if err != nil {
		return Plan{}, fmt.Errorf("read the synth: %w", err)
	}
	var p Plan
	for _, r := range sp.OfType(typeBucket) {
		p.Bucket = r.Str("bucket")
	}
	for _, r := range sp.OfType(typeFunction) {
		p.Functions = append(p.Functions, Function{
			// AWS's -1 (and absence) mean no reservation.
			Name: r.Str("name"), MemoryMB: r.Int("memorySize", 0), Reserved: max(r.Int("reservedConcurrentExecutions", 0), 0),
		})
	}
	for _, r := range sp.OfType(typeESM) {
		p.QueueMaxConcurrency = synthread.Int(r.Map("scalingConfig"), "maximumConcurrency", 0)
		p.QueueFunction = functionName(r.Str("functionName"))
	}
	for _, r := range sp.OfType(typeStage) {
		p.AccessLogging = p.AccessLogging || len(r.Map("accessLogSettings")) > 0
	}
	for _, r := range sp.OfType(typeAPIAccount) {
		role := r.Str("cloudwatchRoleArn")
		if p.APIGatewayRole = roleName(role); p.APIGatewayRole == "" {
			return Plan{}, fmt.Errorf("%s: cloudwatchRoleArn %q is not a role ARN", r, role)
		}
	}
	if p.Bucket == "" || len(p.Functions) == 0 {
		return Plan{}, fmt.Errorf("the synth in %s has no bucket or no functions", dir)
	}
	sort.Slice(p.Functions, func(i, j int) bool { return p.Functions[i].Name < p.Functions[j].Name })
	return p, nil
}

// roleName is the name in an IAM role ARN (after its path), "" when v is
// not one.
func roleName(v string) string {
	a, err := arn.Parse(v)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return ""
	}
	return a.Resource[strings.LastIndex(a.Resource, "/")+1:]
}

// functionName is the name in a function ARN (the mapping's functionName
// input is the function's ARN), or the value itself.
func functionName(v string) string {
	if a, err := arn.Parse(v); err == nil {
		return strings.TrimPrefix(a.Resource, "function:")
	}
	return v
}
