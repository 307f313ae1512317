package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Stage-wide method settings: the spec's rate of 10000 requests/s, and a burst
// of 5000, API Gateway's default account-level burst quota (a higher stage
// burst would be capped by the account's quota anyway).
const (
	throttlingRateLimit  = 10000
	throttlingBurstLimit = 5000
	allMethods           = "*/*"
)

// definitionRoute is what of a route the deployment hash covers.
type definitionRoute struct {
	Method            string          `json:"method"`
	Path              string          `json:"path"`
	Authorization     string          `json:"authorization"`
	Parameters        map[string]bool `json:"parameters,omitempty"`
	Validator         string          `json:"validator,omitempty"`
	Model             string          `json:"model,omitempty"`
	ModelSchema       string          `json:"modelSchema,omitempty"`
	IntegrationType   string          `json:"integrationType"`
	IntegrationMethod string          `json:"integrationMethod"`
	URI               string          `json:"uri"`
}

// definitionHash is a digest of everything a deployment snapshots: routes,
// methods, validation, models and integrations. uris are the resolved
// integration URIs, in routes order; modelSchema is the body model's schema.
func definitionHash(deployed []route, uris []string, modelSchema string) (string, error) {
	defs := make([]definitionRoute, len(deployed))
	for i, r := range deployed {
		d := definitionRoute{
			Method: r.method, Path: r.resourcePath(), Authorization: r.authorization(), Parameters: r.parameters,
			IntegrationType: integrationType, IntegrationMethod: integrationMethod, URI: uris[i],
		}
		if r.validateBody {
			d.Validator, d.Model, d.ModelSchema = "body", modelContentType+"="+modelName, modelSchema
		}
		defs[i] = d
	}
	b, err := json.Marshal(defs)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// newDeployment snapshots the API. Its trigger changes with the definition,
// which replaces the deployment (new one first, then the stage moves to it);
// it is created after every method and integration so the snapshot is
// complete. It names no stage: the stage is its own resource, so there is no
// second, unmanaged stage.
func newDeployment(ctx *pulumi.Context, rest *apigateway.RestApi, deployed []deployedRoute) (*apigateway.Deployment, error) {
	var (
		deps []pulumi.Resource
		rs   []route
		uris []interface{}
	)
	for _, d := range deployed {
		deps = append(deps, d.method, d.integration)
		rs = append(rs, d.route)
		uris = append(uris, d.uri)
	}
	hash := pulumi.All(uris...).ApplyT(func(vs []interface{}) (string, error) {
		ss := make([]string, len(vs))
		for i, v := range vs {
			ss[i], _ = v.(string)
		}
		return definitionHash(rs, ss, ingestRequestSchema)
	}).(pulumi.StringOutput)
	return apigateway.NewDeployment(ctx, "deployment", &apigateway.DeploymentArgs{
		RestApi:     rest.ID(),
		Description: pulumi.String("Market data pipeline API"),
		Triggers:    pulumi.StringMap{"redeployment": hash},
	}, pulumi.DependsOn(deps))
}

// newStage creates the one stage, with X-Ray tracing, throttling and metrics
// for every method, and access logs when enabled.
func newStage(ctx *pulumi.Context, n naming.Names, rest *apigateway.RestApi, deployment *apigateway.Deployment, accessLogging bool) (*apigateway.Stage, error) {
	args := &apigateway.StageArgs{
		RestApi:            rest.ID(),
		Deployment:         deployment.ID(),
		StageName:          pulumi.String(n.APIStage()),
		Description:        pulumi.String("The pipeline's only stage"),
		XrayTracingEnabled: pulumi.Bool(true),
		Tags:               common.Tags(),
	}
	loggingLevel := "OFF"
	if accessLogging {
		settings, err := newAccessLogs(ctx, n)
		if err != nil {
			return nil, err
		}
		args.AccessLogSettings = settings
		loggingLevel = "ERROR"
	}
	stage, err := apigateway.NewStage(ctx, "stage", args)
	if err != nil {
		return nil, err
	}
	_, err = apigateway.NewMethodSettings(ctx, "all-methods", &apigateway.MethodSettingsArgs{
		RestApi:    rest.ID(),
		StageName:  stage.StageName,
		MethodPath: pulumi.String(allMethods),
		Settings: &apigateway.MethodSettingsSettingsArgs{
			ThrottlingRateLimit:  pulumi.Float64(throttlingRateLimit),
			ThrottlingBurstLimit: pulumi.Int(throttlingBurstLimit),
			MetricsEnabled:       pulumi.Bool(true),
			LoggingLevel:         pulumi.String(loggingLevel),
			DataTraceEnabled:     pulumi.Bool(false),
		},
	})
	if err != nil {
		return nil, err
	}
	return stage, nil
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
		"validationError":    "$context.error.validationErrorString",
		"xrayTraceId":        "$context.xrayTraceId",
	})
	return string(b), err
}

// accessLogGroup is the access log group of the API's stage.
func accessLogGroup(n naming.Names) string {
	return "/aws/apigateway/" + n.API() + "/" + n.APIStage() + "/access"
}

// newAccessLogs creates the access log group and the stage's log settings.
func newAccessLogs(ctx *pulumi.Context, n naming.Names) (*apigateway.StageAccessLogSettingsArgs, error) {
	format, err := accessLogFormat()
	if err != nil {
		return nil, err
	}
	lg, err := cloudwatch.NewLogGroup(ctx, "access-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(accessLogGroup(n)),
		RetentionInDays: pulumi.Int(limits.LogRetentionDays),
		Tags:            common.Tags(),
	})
	if err != nil {
		return nil, err
	}
	return &apigateway.StageAccessLogSettingsArgs{DestinationArn: lg.Arn, Format: pulumi.String(format)}, nil
}
