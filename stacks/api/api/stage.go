package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

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
	IntegrationType   string          `json:"integrationType"`
	IntegrationMethod string          `json:"integrationMethod"`
	URI               string          `json:"uri"`
}

// definitionHash is a digest of everything a deployment snapshots: routes,
// methods and integrations. uris are the resolved integration URIs, in
// routes order.
func definitionHash(deployed []route, uris []string) (string, error) {
	defs := make([]definitionRoute, len(deployed))
	for i, r := range deployed {
		defs[i] = definitionRoute{
			Method: r.method, Path: r.resourcePath(), Authorization: r.authorization(), Parameters: r.parameters,
			IntegrationType: integrationType, IntegrationMethod: integrationMethod, URI: uris[i],
		}
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
		return definitionHash(rs, ss)
	}).(pulumi.StringOutput)
	return apigateway.NewDeployment(ctx, "deployment", &apigateway.DeploymentArgs{
		RestApi:     rest.ID(),
		Description: pulumi.String("Market data pipeline API"),
		Triggers:    pulumi.StringMap{"redeployment": hash},
	}, pulumi.DependsOn(deps))
}

// newStage creates the one stage, with X-Ray tracing, throttling and metrics
// for every method, and its logs as logs says.
func newStage(ctx *pulumi.Context, n naming.Names, rest *apigateway.RestApi, deployment *apigateway.Deployment, logs stageLogs) (*apigateway.Stage, error) {
	args := &apigateway.StageArgs{
		RestApi:            rest.ID(),
		Deployment:         deployment.ID(),
		StageName:          pulumi.String(n.APIStage()),
		Description:        pulumi.String("The pipeline's only stage"),
		XrayTracingEnabled: pulumi.Bool(true),
		Tags:               common.Tags(),
	}
	if logs.access != nil { // a nil *Args in the interface would not be "unset"
		args.AccessLogSettings = logs.access
	}
	stage, err := apigateway.NewStage(ctx, "stage", args, pulumi.DependsOn(logs.stageNeeds))
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
			LoggingLevel:         pulumi.String(logs.executionLevel),
			DataTraceEnabled:     pulumi.Bool(false),
		},
	}, pulumi.DependsOn(logs.settingsNeed))
	if err != nil {
		return nil, err
	}
	return stage, nil
}
