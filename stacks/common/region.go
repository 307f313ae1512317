package common

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// NamesInRegion is how every layer's program starts: the names for this
// stack (Names), once RequireRegion has passed. The ARNs the layers compute
// (the processing queue's, the aggregator rules' in the dead-letter queue's
// policy) name naming.Region, so no layer may deploy elsewhere.
func NamesInRegion(ctx *pulumi.Context) (naming.Names, error) {
	n, err := Names(ctx)
	if err != nil {
		return naming.Names{}, err
	}
	if err := RequireRegion(ctx); err != nil {
		return naming.Names{}, err
	}
	return n, nil
}

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
