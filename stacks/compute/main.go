// Command compute is the Pulumi program of the compute layer (project
// market-data-compute): the three Lambda functions and their triggers.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/compute/compute"
)

func main() { pulumi.Run(common.RunFunc(compute.Program)) }
