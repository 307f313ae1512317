// Command api is the Pulumi program of the API layer (project
// market-data-api): the REST API in front of the ingestion and aggregator
// functions.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/stacks/api/api"
	"github.com/marketanalytics/pipeline/stacks/common"
)

func main() { pulumi.Run(common.RunFunc(api.Program)) }
