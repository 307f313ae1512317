package api

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Project config keys of the stage's logs. Pulumi.yaml declares the same keys
// and defaults.
const (
	// ConfigAccessLogging turns on the stage's access logs and its
	// ERROR-level execution logs, each into a log group this stack owns.
	ConfigAccessLogging  = "accessLogging"
	DefaultAccessLogging = true

	// ConfigCreateCloudWatchRole says who provides API Gateway's
	// account-level CloudWatch role, which every stage that logs needs (one
	// per account and region, the apigateway Account's cloudwatchRoleArn).
	// See newAccountRole for why this is a flag and not a lookup.
	ConfigCreateCloudWatchRole  = "createCloudWatchRole"
	DefaultCreateCloudWatchRole = true
)

// Execution log levels of the stage's methods.
const (
	executionLogsOff   = "OFF"
	executionLogsError = "ERROR"
)

// pushToCloudWatchLogs is AWS's managed policy for API Gateway's CloudWatch
// role: the role is account-wide (any API of the account and region that
// turns logging on writes through it), so it gets the policy AWS documents
// for it rather than one scoped to this API's log groups, which would break
// another API's logs silently.
const pushToCloudWatchLogs = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"

// logConfig is the logging the stack's config asks for.
type logConfig struct {
	access, createRole bool
}

// readLogConfig reads accessLogging and createCloudWatchRole.
func readLogConfig(ctx *pulumi.Context) (logConfig, error) {
	var c logConfig
	var err error
	if c.access, err = readBool(ctx, ConfigAccessLogging, DefaultAccessLogging); err != nil {
		return c, err
	}
	c.createRole, err = readBool(ctx, ConfigCreateCloudWatchRole, DefaultCreateCloudWatchRole)
	return c, err
}

// readBool reads a boolean config key, def when unset.
func readBool(ctx *pulumi.Context, key string, def bool) (bool, error) {
	v, err := config.New(ctx, "").TryBool(key)
	switch {
	case errors.Is(err, config.ErrMissingVar):
		return def, nil
	case err != nil:
		return false, fmt.Errorf("config %s: %w", key, err)
	}
	return v, nil
}

// stageLogs is what the stage and its method settings need for logging.
type stageLogs struct {
	// access is the access log settings, nil without access logs.
	access *apigateway.StageAccessLogSettingsArgs
	// executionLevel is the methods' execution logging level.
	executionLevel string
	// stageNeeds: the account's CloudWatch role must be set before a stage
	// with access logs is created (API Gateway refuses it otherwise).
	stageNeeds []pulumi.Resource
	// settingsNeed: the execution log group must exist before execution
	// logging is turned on, or API Gateway creates it itself, without
	// retention, and this stack's create then fails on the existing name.
	settingsNeed []pulumi.Resource
}

// newLogs creates what the stage's logs need: with access logging, the
// access log group, the execution log group and (createRole) the account's
// CloudWatch role.
//
// Execution logs stay on at ERROR (not INFO, and no data trace: request
// bodies are market data, and INFO logs every request twice over): they are
// where API Gateway says why it failed a request before or after the
// function (a permission, a timeout, a malformed proxy answer), which the
// access log's status and integration error only hint at. API Gateway writes
// them to API-Gateway-Execution-Logs_<restApiId>/<stage>, which it would
// create itself with no retention, so the stack creates that group first,
// with the access logs' retention and tags, and destroys it with the API.
func newLogs(ctx *pulumi.Context, n naming.Names, rest *apigateway.RestApi, c logConfig) (stageLogs, error) {
	if !c.access {
		return stageLogs{executionLevel: executionLogsOff}, nil
	}
	format, err := accessLogFormat()
	if err != nil {
		return stageLogs{}, err
	}
	access, err := newLogGroup(ctx, "access-logs", pulumi.String(accessLogGroup(n)))
	if err != nil {
		return stageLogs{}, err
	}
	execution, err := newLogGroup(ctx, "execution-logs", executionLogGroup(rest, n))
	if err != nil {
		return stageLogs{}, err
	}
	logs := stageLogs{
		access:         &apigateway.StageAccessLogSettingsArgs{DestinationArn: access.Arn, Format: pulumi.String(format)},
		executionLevel: executionLogsError,
		settingsNeed:   []pulumi.Resource{execution},
	}
	if c.createRole {
		account, err := newAccountRole(ctx, n)
		if err != nil {
			return stageLogs{}, err
		}
		logs.stageNeeds = []pulumi.Resource{account}
	}
	return logs, nil
}

// newLogGroup creates one of the API's log groups: retained for
// limits.LogRetentionDays, tagged, deleted with the stack.
func newLogGroup(ctx *pulumi.Context, name string, groupName pulumi.StringInput) (*cloudwatch.LogGroup, error) {
	return cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            groupName,
		RetentionInDays: pulumi.Int(limits.LogRetentionDays),
		Tags:            common.Tags(),
	})
}

// accessLogGroup is the access log group of the API's stage.
func accessLogGroup(n naming.Names) string {
	return "/aws/apigateway/" + n.API() + "/" + n.APIStage() + "/access"
}

// executionLogGroup is the group API Gateway writes the stage's execution
// logs to; AWS fixes its name.
func executionLogGroup(rest *apigateway.RestApi, n naming.Names) pulumi.StringOutput {
	return pulumi.Sprintf("API-Gateway-Execution-Logs_%s/%s", rest.ID(), n.APIStage())
}

// accessLogFormat is one JSON object per request.
func accessLogFormat() (string, error) {
	b, err := json.Marshal(map[string]string{
		"requestId":          "$context.requestId",
		"extendedRequestId":  "$context.extendedRequestId",
		"requestTime":        "$context.requestTime",
		"ip":                 "$context.identity.sourceIp",
		"caller":             "$context.identity.caller",
		"userArn":            "$context.identity.userArn",
		"httpMethod":         "$context.httpMethod",
		"resourcePath":       "$context.resourcePath",
		"path":               "$context.path",
		"protocol":           "$context.protocol",
		"status":             "$context.status",
		"responseLength":     "$context.responseLength",
		"responseLatency":    "$context.responseLatency",
		"integrationStatus":  "$context.integration.status",
		"integrationLatency": "$context.integration.latency",
		"integrationError":   "$context.integration.error",
		"error":              "$context.error.message",
		"xrayTraceId":        "$context.xrayTraceId",
	})
	return string(b), err
}

// newAccountRole creates the role API Gateway writes logs with and sets it
// as the account's (region's) CloudWatch role.
//
// Why a flag (createCloudWatchRole) and not a lookup: the setting is one per
// account and region, possibly another team's, and pulumi-aws can only read
// it as a resource whose value is known once the program runs against AWS,
// not in the offline synth or the mocks tests, and resources registered on
// such a value would not show in a preview. So the program decides from its
// config alone, and preflight (run first by deploy) reads the account
// (apigateway GetAccount) and fails, naming the flag, when the default
// (create) would replace a role the account already has, or when false would
// leave a stage with logs and no role.
//
// destroy leaves the account as it found it: with create, the account had no
// role (preflight's check) or this stack's own, and resetOnDelete makes the
// Account resource's delete reset the setting to none (pulumi-aws's default
// leaves it pointing at the role the same destroy deletes); with false, the
// stack never touches the setting. (resetOnDelete is deprecated only because
// a future major version will always reset.)
func newAccountRole(ctx *pulumi.Context, n naming.Names) (*apigateway.Account, error) {
	// No aws:SourceAccount condition: AWS documents this role's trust
	// without one, and a condition API Gateway did not meet would stop
	// every log write with no error anywhere we would see.
	trust, err := common.Policy{Statement: []common.Statement{{
		Sid:       "APIGatewayAssumesRole",
		Effect:    "Allow",
		Principal: map[string]interface{}{"Service": apiGatewayService},
		Action:    []string{"sts:AssumeRole"},
	}}}.JSON()
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, "cloudwatch-role", &iam.RoleArgs{
		Name:             pulumi.String(n.APIGatewayLogsRole()),
		Description:      pulumi.String("API Gateway's account-level CloudWatch Logs role, set by " + n.API() + "; reset with it"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             common.Tags(),
	})
	if err != nil {
		return nil, err
	}
	attached, err := iam.NewRolePolicyAttachment(ctx, "cloudwatch-role-policy", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String(pushToCloudWatchLogs),
	})
	if err != nil {
		return nil, err
	}
	// The account refuses a role that cannot write logs yet: set it once the
	// policy is attached.
	return apigateway.NewAccount(ctx, "account", &apigateway.AccountArgs{
		CloudwatchRoleArn: role.Arn,
		ResetOnDelete:     pulumi.Bool(true),
	}, pulumi.DependsOn([]pulumi.Resource{attached}))
}
