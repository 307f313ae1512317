package common

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// RequireRegion fails unless the default AWS provider targets naming.Region,
// the only region the pipeline is built for (ARNs it computes, such as the
// aggregator rules' in the dead-letter queue's policy, name that region). It
// asks the provider rather than reading aws:region, so a region that comes
// from AWS_REGION or a profile is checked too.
func RequireRegion(ctx *pulumi.Context) error {
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return fmt.Errorf("looking up the region: %w", err)
	}
	if region.Name != naming.Region {
		return fmt.Errorf("aws:region is %q, but the pipeline is deployed to %s only", region.Name, naming.Region)
	}
	return nil
}
