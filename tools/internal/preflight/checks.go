package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/deploydiag"
)

// The narrow AWS interfaces the checks call (the SDK clients satisfy them).
type (
	STS interface {
		GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	}
	S3 interface {
		HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	}
	Lambda interface {
		GetAccountSettings(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error)
		GetFunctionConcurrency(context.Context, *lambda.GetFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
	}
	APIGateway interface {
		GetAccount(context.Context, *apigateway.GetAccountInput, ...func(*apigateway.Options)) (*apigateway.GetAccountOutput, error)
	}
)

// Pulumi is the read-only part of the Pulumi CLI the checks use
// (deploydiag.CLI).
type Pulumi interface {
	Version(ctx context.Context) (string, error)
	Whoami(ctx context.Context) (string, error)
	Stack(ctx context.Context, layer, stack string) (deploydiag.StackInfo, error)
}

// Check names, as printed.
const (
	CheckPulumiCLI   = "pulumi CLI"
	CheckPulumiLogin = "pulumi login"
	CheckLayers      = "layers"
	CheckAccount     = "AWS account"
	CheckRegion      = "region"
	CheckBucket      = "bucket name"
	CheckConcurrency = "Lambda concurrency"
	CheckReserved    = "reserved concurrency"
	CheckMemory      = "Lambda memory"
	CheckAPIGWRole   = "API Gateway CloudWatch role"
)

// UnreservedMinimum is the concurrency AWS keeps unreserved in every
// account: reservations that would leave less are refused.
const UnreservedMinimum = 100

const noCredentials = "set AWS credentials for the target account (AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"

func (c Checker) pulumiChecks(ctx context.Context) []Result {
	if c.Pulumi == nil {
		return []Result{fail(CheckPulumiCLI, "install it (https://www.pulumi.com/docs/install/)", "not checked")}
	}
	v, err := c.Pulumi.Version(ctx)
	if err != nil {
		return []Result{fail(CheckPulumiCLI, "install it (https://www.pulumi.com/docs/install/) and put it on PATH", "not found: %v", err)}
	}
	rs := []Result{pass(CheckPulumiCLI, "%s", v)}
	who, err := c.Pulumi.Whoami(ctx)
	if err != nil {
		return append(rs, fail(CheckPulumiLogin, "run `pulumi login` (Pulumi Cloud) or `pulumi login --local` / `pulumi login s3://<bucket>`",
			"not logged in: %v", err))
	}
	rs = append(rs, pass(CheckPulumiLogin, "%s", who))
	return append(rs, c.layers(ctx))
}

// layers: with Layer set, every layer below it must be deployed (its stack
// references read their outputs); otherwise the state of each is reported.
func (c Checker) layers(ctx context.Context) Result {
	var states []string
	for _, l := range naming.Layers {
		if l == c.Layer {
			break
		}
		info, err := c.Pulumi.Stack(ctx, l, c.Stack)
		if err != nil {
			return fail(CheckLayers, "run the preflight from the repository root, logged in to the backend holding the stacks", "%s: %v", l, err)
		}
		switch {
		case info.Deployed():
			states = append(states, fmt.Sprintf("%s deployed (%d resources)", l, info.Resources))
		case c.Layer != "":
			return fail(CheckLayers, fmt.Sprintf("deploy %s first (`go run mage.go deploy` deploys every layer in order, or `pulumi up` in stacks/%s)", l, l),
				"%s needs %s/%s deployed first, and it is not", c.Layer, l, c.Stack)
		default:
			states = append(states, fmt.Sprintf("%s not deployed yet", l))
		}
	}
	if c.Layer != "" {
		if len(states) == 0 {
			return pass(CheckLayers, "%s is the lowest layer", c.Layer)
		}
		return pass(CheckLayers, "below %s: %s", c.Layer, quote(states))
	}
	return pass(CheckLayers, "stack %s: %s", c.Stack, quote(states))
}

func (c Checker) account(ctx context.Context) Result {
	if c.AWS.STS == nil {
		return fail(CheckAccount, noCredentials, "no AWS configuration")
	}
	out, err := c.AWS.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fail(CheckAccount, noCredentials, "GetCallerIdentity: %v", err)
	}
	return pass(CheckAccount, "%s as %s", deref(out.Account), deref(out.Arn))
}

func (c Checker) region() Result {
	if c.Region == naming.Region {
		return pass(CheckRegion, "%s", c.Region)
	}
	// The stacks pin aws:region themselves (and refuse any other), and the
	// preflight calls go to naming.Region; only the caller's own default
	// differs, which matters for the aws CLI commands of the README.
	return warn(CheckRegion, fmt.Sprintf("export AWS_REGION=%s (the pipeline exists only there)", naming.Region),
		"your AWS configuration names %q; the stacks deploy to %s regardless", c.Region, naming.Region)
}

func (c Checker) bucket(ctx context.Context) Result {
	name := c.Plan.Bucket
	if c.AWS.S3 == nil {
		return fail(CheckBucket, noCredentials, "%s not checked", name)
	}
	unique := "set a unique suffix in every layer, e.g. with your account id: `pulumi config set environmentSuffix dev-<account id>` in stacks/storage, messaging, compute and api"
	_, err := c.AWS.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name})
	switch status := httpStatus(err); {
	case err == nil:
		return pass(CheckBucket, "%s exists and is this account's (a deploy reuses it only if the storage stack created it)", name)
	case status == http.StatusNotFound:
		return pass(CheckBucket, "%s is free", name)
	case status == http.StatusForbidden:
		return fail(CheckBucket, unique, "%s belongs to another AWS account (bucket names are global)", name)
	case status == http.StatusMovedPermanently:
		return fail(CheckBucket, unique, "%s exists in another region than %s", name, naming.Region)
	default:
		return fail(CheckBucket, "check the credentials' s3:ListBucket right and the network, then run preflight again", "HeadBucket %s: %v", name, err)
	}
}

// concurrency compares the account's Lambda concurrency with what the plan
// needs: its reservations must leave AWS's minimum unreserved, and the
// queue's event source mapping should be able to reach its maximum.
func (c Checker) concurrency(ctx context.Context) []Result {
	if c.AWS.Lambda == nil {
		return []Result{fail(CheckConcurrency, noCredentials, "not checked")}
	}
	out, err := c.AWS.Lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || out.AccountLimit == nil {
		return []Result{fail(CheckConcurrency, callFix(err, "lambda:GetAccountSettings"), "GetAccountSettings: %v", err)}
	}
	total := int(out.AccountLimit.ConcurrentExecutions)
	unreserved := int(deref(out.AccountLimit.UnreservedConcurrentExecutions))
	quota := "request a higher \"Concurrent executions\" quota for Lambda in Service Quotas (us-east-1)"

	// Reservations our functions already hold are part of the account's
	// reserved share and come back when they are replaced.
	var want, held int
	var reserving []string
	for _, f := range c.Plan.Functions {
		if f.Reserved == 0 {
			continue
		}
		cur, err := c.AWS.Lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: &f.Name})
		if err != nil && !isNotFound(err) {
			return []Result{fail(CheckReserved, callFix(err, "lambda:GetFunctionConcurrency"), "GetFunctionConcurrency %s: %v", f.Name, err)}
		}
		if err == nil && cur.ReservedConcurrentExecutions != nil {
			held += int(*cur.ReservedConcurrentExecutions)
		}
		want += f.Reserved
		reserving = append(reserving, fmt.Sprintf("%s %d", f.Name, f.Reserved))
	}
	var rs []Result
	left := unreserved + held - want
	switch {
	case want == 0:
		rs = append(rs, pass(CheckReserved, "none configured"))
	case left < UnreservedMinimum:
		rs = append(rs, fail(CheckReserved, "lower or unset the reserved concurrency in stacks/compute, or "+quota,
			"reserving %s would leave %d of %d unreserved; AWS keeps at least %d", quote(reserving), left, total, UnreservedMinimum))
	default:
		rs = append(rs, pass(CheckReserved, "%s leaves %d of %d unreserved", quote(reserving), left, total))
	}

	// What the processor can use: its own reservation, else the shared pool.
	maxc := c.Plan.QueueMaxConcurrency
	avail, pool := left, "unreserved"
	for _, f := range c.Plan.Functions {
		if f.Name == c.Plan.QueueFunction && f.Reserved > 0 {
			avail, pool = f.Reserved, "reserved for "+f.Name
		}
	}
	switch {
	case total < UnreservedMinimum:
		// A fresh account's quota (10): the three functions share it, S3
		// and API bursts throttle, and no reservation is possible at all.
		rs = append(rs, warn(CheckConcurrency, quota,
			"the account's total is %d, below the %d AWS keeps unreserved: the three functions share it and bursts will be throttled",
			total, UnreservedMinimum))
	case maxc == 0:
		rs = append(rs, pass(CheckConcurrency, "account total %d, %d unreserved; the queue's event source mapping sets no maximum", total, unreserved))
	case avail < maxc:
		fix := quota
		if strings.HasPrefix(pool, "reserved") {
			fix = "reserve at least the mapping's maximum for the processor in stacks/compute"
		}
		rs = append(rs, warn(CheckConcurrency, fix,
			"the queue's event source mapping runs up to %d processors, but only %d are available (%s; account total %d): batches will be throttled and wait in the queue",
			maxc, avail, pool, total))
	default:
		rs = append(rs, pass(CheckConcurrency, "account total %d; up to %d processors fit in %d (%s)", total, maxc, avail, pool))
	}
	return rs
}

// memory: new accounts are capped at 3008 MB and no API reports the cap, so
// a plan above it can only be explained, not verified.
func (c Checker) memory() Result {
	var over []string
	for _, f := range c.Plan.Functions {
		if f.MemoryMB > deploydiag.CappedMemoryMB {
			over = append(over, fmt.Sprintf("%s %d MB", f.Name, f.MemoryMB))
		}
	}
	if len(over) == 0 {
		return pass(CheckMemory, "every function at most %d MB", deploydiag.CappedMemoryMB)
	}
	return warn(CheckMemory,
		fmt.Sprintf("if deploy fails with \"'MemorySize' value failed to satisfy constraint\", run `pulumi config set memorySize %d` in stacks/compute (deploy says so too)", deploydiag.CappedMemoryMB),
		"%s: new accounts are capped at %d MB until a quota increase, and no API reports the cap", quote(over), deploydiag.CappedMemoryMB)
}

// apiGatewayRole: access logging needs the account-level CloudWatch role of
// API Gateway, one per account and region. The api stack either creates its
// own and sets it (createCloudWatchRole, the default), resetting the setting
// to none on destroy, or reuses the account's. This check is the lookup that
// keeps both right: creating must not replace another role (destroy would
// then leave the account with none), and reusing needs a role to reuse.
func (c Checker) apiGatewayRole(ctx context.Context) Result {
	if !c.Plan.AccessLogging {
		return pass(CheckAPIGWRole, "not needed: access logging is off")
	}
	if c.AWS.APIGW == nil {
		return fail(CheckAPIGWRole, noCredentials, "not checked")
	}
	out, err := c.AWS.APIGW.GetAccount(ctx, &apigateway.GetAccountInput{})
	if err != nil {
		return fail(CheckAPIGWRole, callFix(err, "apigateway:GET on arn:aws:apigateway:us-east-1::/account"), "GetAccount: %v", err)
	}
	role := deref(out.CloudwatchRoleArn)
	if role != "" && roleName(role) == "" {
		return fail(CheckAPIGWRole, "set a valid role in API Gateway's settings (us-east-1)", "the account's role %q is not an IAM role ARN", role)
	}
	const configIn = " in stacks/api"
	switch ours := c.Plan.APIGatewayRole; {
	case ours != "" && role == "":
		return pass(CheckAPIGWRole, "none yet: the api stack creates %s, and its destroy resets the setting to none", ours)
	case ours != "" && roleName(role) == ours:
		return pass(CheckAPIGWRole, "the api stack's own: %s", role)
	case ours != "":
		return fail(CheckAPIGWRole,
			"reuse it: `pulumi config set createCloudWatchRole false`"+configIn,
			"the account already has %s; the api stack would replace it with %s, and its destroy would leave the account with none", role, ours)
	case role != "":
		return pass(CheckAPIGWRole, "the account has one, reused: %s", role)
	default:
		return fail(CheckAPIGWRole,
			"let the stack create one: `pulumi config set createCloudWatchRole true`"+configIn+" (or `pulumi config set accessLogging false`)",
			"access logging is on, createCloudWatchRole is false and the account has no API Gateway CloudWatch role: the stage would fail to deploy")
	}
}

// callFix is the fix for a failed read: the right when AWS denied it, else
// the credentials and the network.
func callFix(err error, right string) string {
	if httpStatus(err) == http.StatusForbidden {
		return "grant " + right + " to the deploying identity"
	}
	return "check the AWS credentials and the network, then run preflight again"
}

// httpStatus is the HTTP status of a failed AWS call, 0 when there is none.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	return httpStatus(err) == http.StatusNotFound || errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException"
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
