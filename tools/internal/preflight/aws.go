package preflight

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// NewAWS builds the checks' clients from the caller's AWS configuration
// (environment, profile, SSO, web identity), calling naming.Region whatever
// the configuration names; it also returns the region the configuration
// named. endpoint, when set, replaces every service's endpoint (moto).
func NewAWS(ctx context.Context, endpoint string) (AWS, string, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return AWS{}, "", err
	}
	configured := cfg.Region
	cfg.Region = naming.Region
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return AWS{
		STS: sts.NewFromConfig(cfg),
		// Path-style: moto serves buckets by path; AWS answers HeadBucket
		// alike for both styles.
		S3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = endpoint != "" }),
		Lambda: lambda.NewFromConfig(cfg),
		APIGW:  apigateway.NewFromConfig(cfg),
	}, configured, nil
}
