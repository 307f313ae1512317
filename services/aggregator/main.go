// Command aggregator is the DataAggregator Lambda: it recomputes 5-minute
// OHLCV/VWAP aggregates on the processor's custom events and on the schedule,
// serves them on GET /aggregates/{symbol}, and publishes CloudWatch metrics.
// See internal/handler.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/handler"
	"github.com/marketanalytics/pipeline/services/aggregator/internal/table"
	"github.com/marketanalytics/pipeline/services/platform/awsconfig"
	"github.com/marketanalytics/pipeline/services/platform/logging"
	"github.com/marketanalytics/pipeline/services/platform/tracing"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

// The SDK clients satisfy the narrow interfaces the packages depend on.
var (
	_ table.DynamoDB  = (*dynamodb.Client)(nil)
	_ handler.Metrics = (*cloudwatch.Client)(nil)
	_ handler.Store   = (*table.Table)(nil)
)

func main() {
	log := logging.Init("aggregator")
	if err := run(log); err != nil {
		log.Error("aggregator cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	if err := tracing.Init(); err != nil {
		log.Warn("tracing disabled", "error", err)
	}
	env := map[string]string{}
	for _, name := range []string{lambdaenv.TableName, lambdaenv.MetricNamespace} {
		v := os.Getenv(name)
		if v == "" {
			return fmt.Errorf("environment variable %s is not set", name)
		}
		env[name] = v
	}
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		return err
	}
	h := &handler.Handler{
		Store:     &table.Table{DB: dynamodb.NewFromConfig(cfg), Name: env[lambdaenv.TableName]},
		Metrics:   cloudwatch.NewFromConfig(cfg),
		Namespace: env[lambdaenv.MetricNamespace],
		Log:       log,
	}
	lambda.Start(h.Invoke)
	return nil
}
