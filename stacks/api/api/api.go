// Package api is the API layer of the pipeline (project market-data-api): a
// regional REST API whose routes (routes.go) invoke the ingestion and
// aggregator functions of the compute layer through AWS_PROXY integrations,
// with IAM authorization, a deployment that follows the API definition, one
// stage with X-Ray and throttling, and its access and execution logs
// (logging.go).
package api

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
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
	logCfg, err := readLogConfig(ctx)
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
	deployed, err := newRoutes(ctx, rest, functions)
	if err != nil {
		return nil, err
	}
	deployment, err := newDeployment(ctx, rest, deployed)
	if err != nil {
		return nil, err
	}
	logs, err := newLogs(ctx, n, rest, logCfg)
	if err != nil {
		return nil, err
	}
	stage, err := newStage(ctx, n, rest, deployment, logs)
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
