// Package api is the API layer of the pipeline (project market-data-api): a
// regional REST API whose routes (routes.go) invoke the ingestion and
// aggregator functions of the compute layer through AWS_PROXY integrations,
// with IAM authorization, a request body model, a deployment that follows the
// API definition, one stage with X-Ray and throttling, and optional access
// logs.
package api

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Project config keys this layer reads besides common.ConfigEnvironmentSuffix,
// common.ConfigStorageStack and common.ConfigComputeStack. Pulumi.yaml
// declares the same keys and defaults.
const (
	// ConfigAccessLogging turns on the stage's access logs (and ERROR-level
	// execution logs). API Gateway writes them with the account-level
	// CloudWatch role (apigateway Account settings), which a fresh account
	// lacks; setting that role is account-wide, so this stack does not.
	ConfigAccessLogging  = "accessLogging"
	DefaultAccessLogging = false
)

// functionRef is a compute-layer function an integration invokes.
type functionRef struct {
	name, invokeArn pulumi.StringOutput
}

// Program is the API layer's Pulumi program.
func Program(ctx *pulumi.Context) (common.Outputs, error) {
	// The layers below are built for naming.Region; the API must sit next to them.
	n, err := common.NamesInRegion(ctx)
	if err != nil {
		return nil, err
	}
	accessLogging, err := readAccessLogging(ctx)
	if err != nil {
		return nil, err
	}
	layers, err := common.ReferenceLowerLayers(ctx, n, naming.ProjectStorage, naming.ProjectCompute)
	if err != nil {
		return nil, err
	}
	storage, compute := layers[0], layers[1]
	functions := map[string]functionRef{
		"ingestion":  {compute.String(outputs.IngestionFunctionName), compute.String(outputs.IngestionInvokeArn)},
		"aggregator": {compute.String(outputs.AggregatorFunctionName), compute.String(outputs.AggregatorInvokeArn)},
	}

	rest, err := apigateway.NewRestApi(ctx, "api", &apigateway.RestApiArgs{
		Name:        pulumi.String(n.API()),
		Description: pulumi.String(description(marketdata.Routes)),
		EndpointConfiguration: &apigateway.RestApiEndpointConfigurationArgs{
			Types: pulumi.String("REGIONAL"),
		},
		Tags: common.Tags(),
	})
	if err != nil {
		return nil, err
	}
	body, err := newBodyValidation(ctx, rest)
	if err != nil {
		return nil, err
	}
	deployed, err := newRoutes(ctx, rest, body, functions)
	if err != nil {
		return nil, err
	}
	deployment, err := newDeployment(ctx, rest, deployed)
	if err != nil {
		return nil, err
	}
	stage, err := newStage(ctx, n, rest, deployment, accessLogging)
	if err != nil {
		return nil, err
	}
	if err := newMonitoring(ctx, n, compute); err != nil {
		return nil, err
	}

	return common.Outputs{
		outputs.APIURL:        stage.InvokeUrl,
		outputs.IngestURL:     routeURL(stage, marketdata.RouteIngest.Prefix()),
		outputs.AggregatesURL: routeURL(stage, marketdata.RouteAggregates.Prefix()),
		outputs.APIID:         rest.ID().ToStringOutput(),
		outputs.StageName:     stage.StageName,
		outputs.BucketName:    storage.String(outputs.BucketName),
		outputs.TableArn:      storage.String(outputs.TableArn),
	}, nil
}

// readAccessLogging reads the accessLogging flag.
func readAccessLogging(ctx *pulumi.Context) (bool, error) {
	v, err := config.New(ctx, "").TryBool(ConfigAccessLogging)
	switch {
	case errors.Is(err, config.ErrMissingVar):
		return DefaultAccessLogging, nil
	case err != nil:
		return false, fmt.Errorf("config %s: %w", ConfigAccessLogging, err)
	}
	return v, nil
}

// routeURL is the full invoke URL of a path ("/ingest") under the stage.
func routeURL(stage *apigateway.Stage, path string) pulumi.StringOutput {
	return stage.InvokeUrl.ApplyT(func(u string) string { return u + path }).(pulumi.StringOutput)
}

// description names the API's routes: "Market data pipeline: POST /ingest
// and GET /aggregates/{symbol} (IAM-signed requests)".
func description(table []marketdata.Route) string {
	names := make([]string, len(table))
	signed := true
	for i, r := range table {
		names[i] = r.String()
		signed = signed && r.IAM
	}
	d := "Market data pipeline: " + strings.Join(names, " and ")
	if signed {
		d += " (IAM-signed requests)"
	}
	return d
}
