// Command aggregator is the DataAggregator Lambda: it recomputes 5-minute
// OHLCV/VWAP aggregates on the processor's custom events and on the schedule,
// serves them on GET /aggregates/{symbol}, and publishes CloudWatch metrics.
// See internal/handler.
package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/handler"
	"github.com/marketanalytics/pipeline/services/aggregator/internal/table"
	"github.com/marketanalytics/pipeline/services/platform/lambdamain"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

// The SDK clients satisfy the narrow interfaces the packages depend on.
var (
	_ table.DynamoDB  = (*dynamodb.Client)(nil)
	_ handler.Metrics = (*cloudwatch.Client)(nil)
	_ handler.Store   = (*table.Table)(nil)
	_ handler.Catalog = (*table.Table)(nil)
)

// function is the whole command: main runs it, the tests build it.
var function = lambdamain.Function[*handler.Handler]{
	Name:  "aggregator",
	Env:   lambdaenv.Aggregator,
	Build: newHandler,
	Entry: func(h *handler.Handler) any { return h.Invoke },
}

func main() { function.Main() }

// newHandler builds the clients, once, and the handler over them.
func newHandler(s lambdamain.Setup) (*handler.Handler, error) {
	cfg, env := s.AWS, s.Env
	tb := &table.Table{DB: dynamodb.NewFromConfig(cfg), Name: env.Get(lambdaenv.TableName)}
	return &handler.Handler{
		Store:     tb,
		Catalog:   tb,
		Metrics:   newCloudWatch(cfg),
		Namespace: env.Get(lambdaenv.MetricNamespace),
		Log:       s.Log,
	}, nil
}

// newCloudWatch returns the CloudWatch client. It speaks the AWS JSON 1.0
// protocol rather than the SDK's default Smithy RPC v2 CBOR: CloudWatch
// serves both (JSON is what botocore and the AWS CLI use), and moto, the
// local emulator, only understands JSON and Query, so one protocol works for
// both and the binary needs no local-only branch.
func newCloudWatch(cfg aws.Config) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801)
	})
}
