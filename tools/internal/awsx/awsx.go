// Package awsx builds the AWS SDK clients the local pipeline's own glue uses
// against the local endpoint (moto, usually behind the counting proxy).
package awsx

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// The local account's credentials. moto accepts any; the local API Gateway
// verifies SigV4 signatures against exactly these.
const (
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
	// Account is the account id moto (and the synth) use.
	Account = "123456789012"
)

// Credentials returns the local static credentials.
func Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")
}

// Clients are the SDK clients of one caller.
type Clients struct {
	Config   aws.Config
	S3       *s3.Client
	SQS      *sqs.Client
	DynamoDB *dynamodb.Client
	Events   *eventbridge.Client
}

// New returns clients that send every request to endpoint.
func New(endpoint string) *Clients {
	cfg := aws.Config{
		Region:       naming.Region,
		Credentials:  Credentials(),
		BaseEndpoint: aws.String(endpoint),
	}
	return &Clients{
		Config:   cfg,
		S3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		SQS:      sqs.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg),
		Events:   eventbridge.NewFromConfig(cfg),
	}
}

// Env returns the environment a process needs to talk to endpoint as the
// local account (the functions and the AWS CLI read these).
func Env(endpoint string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      endpoint,
		"AWS_REGION":            naming.Region,
		"AWS_DEFAULT_REGION":    naming.Region,
		"AWS_ACCESS_KEY_ID":     AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": SecretAccessKey,
	}
}
