// Command messaging is the Pulumi program of the messaging layer (project
// market-data-messaging): the processing queue, the dead-letter queue and the
// custom event bus.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/messaging/messaging"
)

func main() { pulumi.Run(common.RunFunc(messaging.Program)) }
