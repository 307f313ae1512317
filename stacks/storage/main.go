// Command storage is the Pulumi program of the storage layer (project
// market-data-storage): the raw-data bucket and the state table.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/storage/storage"
)

func main() { pulumi.Run(common.RunFunc(storage.Program)) }
