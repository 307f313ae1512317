// Package awsconfig builds the one AWS configuration a service creates its
// clients from, once, at cold start.
package awsconfig

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/marketanalytics/pipeline/services/platform/tracing"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// Load returns the SDK configuration: region from the environment (default
// us-east-1), the standard retryer, tracing instrumentation, and endpoints
// from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> (resolved by the SDK
// itself), so the same binary talks to AWS or to a local emulator.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithDefaultRegion(naming.Region),
		config.WithRetryer(func() aws.Retryer { return retry.NewStandard() }),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	tracing.Instrument(&cfg)
	return cfg, nil
}
